//! `GET /api/enterprise/audit?actor=&action=&targetType=&targetId=&from=&to=&page=&limit=`:
//! the audit log newest first, filtered and paged. The same parameters (and
//! [`AuditParams::filter`]) serve the dashboard's audit page and its CSV export.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

use calos_core::auth::Permission;
use calos_store::AuditFilter;

use super::views::AuditView;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;
/// Longer than any actor label, action, target type or id the server writes.
const MAX_TEXT: usize = 200;

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditParams {
    /// Substring of the actor label (`admin:alice`, `token:ci`, `cli`, `system`).
    pub actor: Option<String>,
    /// An action (`license.revoke`) or a group (`license`).
    pub action: Option<String>,
    pub target_type: Option<String>,
    /// Exact target id (install id, admin id, token prefix).
    pub target_id: Option<String>,
    /// `YYYY-MM-DD` (from the start of that day, UTC) or an RFC 3339 time.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (to the end of that day, UTC) or an RFC 3339 time (exclusive).
    pub to: Option<String>,
    pub page: Option<String>,
    pub limit: Option<String>,
}

fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn text(name: &str, v: &Option<String>) -> Result<Option<String>, String> {
    match blank(v) {
        Some(s) if s.chars().count() > MAX_TEXT || s.chars().any(char::is_control) => Err(format!(
            "{name} must be at most {MAX_TEXT} characters without control characters"
        )),
        other => Ok(other),
    }
}

/// A date means a whole UTC day: `from` its first instant, `to` the next day's.
fn time(name: &str, v: &Option<String>, end_of_day: bool) -> Result<Option<DateTime<Utc>>, String> {
    let Some(raw) = blank(v) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(&raw) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| if end_of_day { d.succ_opt() } else { Some(d) })
        .map(|d| Some(d.and_time(NaiveTime::MIN).and_utc()))
        .ok_or_else(|| {
            format!("{name} must be a date (YYYY-MM-DD) or an RFC 3339 time, not {raw:?}")
        })
}

fn number(name: &str, v: &Option<String>, default: u32, max: u32) -> Result<u32, String> {
    match blank(v) {
        None => Ok(default),
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!("{name} must be 1 to {max}, not {raw:?}")),
        },
    }
}

impl AuditParams {
    /// The filters (not `page`, `limit`) as a query string, for page links
    /// and the CSV export of the same filter.
    pub fn query_string(&self) -> String {
        [
            ("actor", &self.actor),
            ("action", &self.action),
            ("targetType", &self.target_type),
            ("targetId", &self.target_id),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter_map(|(k, v)| {
            blank(v).map(|v| format!("{k}={}", utf8_percent_encode(&v, NON_ALPHANUMERIC)))
        })
        .collect::<Vec<_>>()
        .join("&")
    }

    /// The store filter these parameters describe, `per_page` records a page
    /// unless `limit` says otherwise; a message naming the bad parameter otherwise.
    pub fn filter(&self, per_page: u32) -> Result<AuditFilter, String> {
        let from = time("from", &self.from, false)?;
        let to = time("to", &self.to, true)?;
        if let (Some(f), Some(t)) = (from, to) {
            if f >= t {
                return Err("from must be before to".to_owned());
            }
        }
        Ok(AuditFilter {
            actor: text("actor", &self.actor)?,
            action: text("action", &self.action)?,
            target_type: text("targetType", &self.target_type)?,
            target_id: text("targetId", &self.target_id)?,
            from,
            to,
            page: number("page", &self.page, 1, u32::MAX)?,
            per_page: number("limit", &self.limit, per_page, MAX_LIMIT)?,
        })
    }
}

#[derive(utoipa::ToSchema)]
#[schema(as = AuditPage)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditResponse {
    success: bool,
    #[schema(value_type = Vec<AuditView>)]
    audit: serde_json::Value,
    total: u64,
    page: u32,
    per_page: u32,
}

#[utoipa::path(
    get,
    path = "/api/enterprise/audit",
    operation_id = "listAudit",
    tag = "audit",
    summary = "Search the audit log",
    params(AuditParams),
    responses((status = 200, description = "Matching entries", body = AuditResponse))
)]
pub async fn list(
    user: AdminUser,
    State(state): State<AppState>,
    Query(params): Query<AuditParams>,
) -> ApiResult<Json<AuditResponse>> {
    user.require(Permission::Read)?;
    let filter = params
        .filter(DEFAULT_LIMIT)
        .map_err(ApiError::InvalidQuery)?;
    let found = state.store.search_audit(&filter).await?;
    let views: Vec<AuditView<'_>> = found.items.iter().map(AuditView::new).collect();
    Ok(Json(AuditResponse {
        success: true,
        audit: serde_json::to_value(views).map_err(ApiError::internal)?,
        total: found.total,
        page: found.page,
        per_page: found.per_page,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(from: &str, to: &str) -> AuditParams {
        AuditParams {
            from: Some(from.into()),
            to: Some(to.into()),
            ..AuditParams::default()
        }
    }

    #[test]
    fn dates_cover_whole_days_and_times_are_exact() {
        let f = params("2025-03-01", "2025-03-01").filter(50).unwrap();
        assert_eq!(f.from.unwrap().to_rfc3339(), "2025-03-01T00:00:00+00:00");
        assert_eq!(f.to.unwrap().to_rfc3339(), "2025-03-02T00:00:00+00:00");
        let f = params("2025-03-01T10:00:00+02:00", "").filter(50).unwrap();
        assert_eq!(f.from.unwrap().to_rfc3339(), "2025-03-01T08:00:00+00:00");
        assert_eq!((f.to, f.per_page, f.page), (None, 50, 1));
    }

    #[test]
    fn bad_values_name_their_parameter() {
        assert!(params("yesterday", "")
            .filter(50)
            .unwrap_err()
            .starts_with("from"));
        assert!(params("2025-03-02", "2025-03-01")
            .filter(50)
            .unwrap_err()
            .contains("before"));
        let long = AuditParams {
            actor: Some("a".repeat(201)),
            ..AuditParams::default()
        };
        assert!(long.filter(50).unwrap_err().starts_with("actor"));
        let page = AuditParams {
            page: Some("0".into()),
            ..AuditParams::default()
        };
        assert!(page.filter(50).unwrap_err().starts_with("page"));
        let limit = AuditParams {
            limit: Some("1001".into()),
            ..AuditParams::default()
        };
        assert!(limit.filter(50).unwrap_err().starts_with("limit"));
    }

    #[test]
    fn query_strings_keep_filters_and_encode_them() {
        let p = AuditParams {
            actor: Some("admin:a&b=c".into()),
            target_id: Some(" ".into()),
            page: Some("3".into()),
            ..AuditParams::default()
        };
        assert_eq!(p.query_string(), "actor=admin%3Aa%26b%3Dc");
    }

    #[test]
    fn blanks_are_no_filter() {
        let p = AuditParams {
            actor: Some("  ".into()),
            target_id: Some(" x ".into()),
            ..AuditParams::default()
        };
        let f = p.filter(50).unwrap();
        assert_eq!((f.actor, f.target_id.as_deref()), (None, Some("x")));
    }
}
