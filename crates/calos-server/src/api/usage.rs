//! `GET /api/enterprise/customer/{installId}/usage?from=&to=`: a license's
//! metered usage as a daily series per meter, and its current billing
//! period's totals against the plan's limits (free, billable, percent,
//! warning at 80%).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use calos_core::auth::Permission;
use calos_core::license::License;
use calos_core::metering::{self, MeterStatus};
use calos_core::plan::{Meter, Plan};
use calos_store::PeriodUsage;

use super::mutate;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;

/// Longest series one request may ask for.
const MAX_DAYS: u64 = 400;

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageParams {
    from: Option<String>,
    to: Option<String>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = UsageReport)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageResponse {
    success: bool,
    install_id: String,
    tier: String,
    /// First and last day of the series (UTC, both included).
    from: NaiveDate,
    to: NaiveDate,
    daily: Vec<DayRow>,
    current_period: CurrentPeriod,
}

#[derive(utoipa::ToSchema)]
#[schema(as = UsageDay)]
#[derive(Serialize)]
struct DayRow {
    date: NaiveDate,
    /// Units per meter that day; `seats` is that day's distinct users.
    meters: BTreeMap<Meter, i64>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = CurrentPeriodUsage)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CurrentPeriod {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    meters: Vec<PeriodMeter>,
    /// Overage so far, in minor units of the plan's currency.
    overage_minor: i64,
    currency: String,
}

#[derive(utoipa::ToSchema, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PeriodMeter {
    #[serde(flatten)]
    status: MeterStatus,
    amount_minor: i64,
    overage_micros: i64,
}

fn parse_day(name: &str, raw: &str) -> ApiResult<NaiveDate> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| DateTime::parse_from_rfc3339(raw).map(|t| t.with_timezone(&Utc).date_naive()))
        .map_err(|_| {
            ApiError::InvalidQuery(format!(
                "{name} must be a date (YYYY-MM-DD) or an RFC 3339 time, not {:?}",
                raw.chars().take(40).collect::<String>()
            ))
        })
}

/// The requested days; by default the current period up to today.
fn range(
    params: &UsageParams,
    period_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<(NaiveDate, NaiveDate)> {
    let from = match present(&params.from) {
        Some(raw) => parse_day("from", raw)?,
        None => period_start.date_naive(),
    };
    let to = match present(&params.to) {
        Some(raw) => parse_day("to", raw)?,
        None => now.date_naive(),
    };
    if from > to {
        return Err(ApiError::InvalidQuery("from must not be after to".into()));
    }
    if to.signed_duration_since(from).num_days() >= MAX_DAYS as i64 {
        return Err(ApiError::InvalidQuery(format!(
            "at most {MAX_DAYS} days per request"
        )));
    }
    Ok((from, to))
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

#[utoipa::path(
    get,
    path = "/api/enterprise/customer/{install_id}/usage",
    operation_id = "customerUsage",
    tag = "licenses",
    summary = "Metered usage over a period",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef"), UsageParams),
    responses((status = 200, description = "Usage per meter", body = UsageResponse))
)]
pub async fn show(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    Query(params): Query<UsageParams>,
) -> ApiResult<Json<UsageResponse>> {
    user.require(Permission::Read)?;
    let install_id = mutate::parse_install_id(&raw_id)?;
    let license = mutate::load(&state, &install_id).await?;
    let now = Utc::now();
    let (from, to) = range(&params, license.current_period_start, now)?;
    let end = to.checked_add_days(Days::new(1)).unwrap_or(to);
    let store = &state.store;
    let (plan, by_day, users) = tokio::try_join!(
        store.get_plan(&license.plan),
        store.usage_by_day(&install_id, midnight(from), midnight(end)),
        store.daily_users(&install_id, from, end),
    )?;
    let plan = plan.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "plan {} of {install_id} is missing",
            license.plan
        ))
    })?;
    let current_period = current_period(&state, &license, &plan).await?;

    let mut daily: BTreeMap<NaiveDate, BTreeMap<Meter, i64>> = BTreeMap::new();
    let mut day = from;
    while day <= to {
        daily.insert(day, metered_meters().map(|m| (m, 0)).collect());
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    for u in &by_day {
        if let Some(row) = daily.get_mut(&u.day) {
            *row.entry(u.usage_type.meter()).or_insert(0) += u.quantity;
        }
    }
    for d in &users {
        if let Some(row) = daily.get_mut(&d.day) {
            row.insert(Meter::Seats, d.users);
        }
    }
    Ok(Json(UsageResponse {
        success: true,
        install_id: install_id.to_string(),
        tier: license.plan.to_string(),
        from,
        to,
        daily: daily
            .into_iter()
            .map(|(date, meters)| DayRow { date, meters })
            .collect(),
        current_period,
    }))
}

/// The license's current billing period, meter by meter against its plan:
/// metered usage, seats (distinct users in the period) and domains (distinct
/// domains its deployments reported to verify in the period).
pub(crate) async fn current_period(
    state: &AppState,
    license: &License,
    plan: &Plan,
) -> ApiResult<CurrentPeriod> {
    let install_id = &license.install_id;
    let period_from = license.current_period_start.date_naive();
    let period_to = license
        .current_period_end
        .date_naive()
        .checked_add_days(Days::new(1))
        .unwrap_or(period_from);
    let store = &state.store;
    let (period, seats, domains) = tokio::try_join!(
        store.period_usage(install_id, license.current_period_start),
        store.distinct_users(install_id, period_from, period_to),
        store.count_domains_seen(install_id, license.current_period_start),
    )?;
    Ok(current(
        plan,
        &period,
        seats,
        i64::try_from(domains).unwrap_or(i64::MAX),
        license.current_period_start,
        license.current_period_end,
    ))
}

/// The meters usage events and distinct users feed (domains come from verify).
fn metered_meters() -> impl Iterator<Item = Meter> {
    Meter::ALL.into_iter().filter(|m| *m != Meter::Domains)
}

fn current(
    plan: &Plan,
    period: &[PeriodUsage],
    seats: i64,
    domains: i64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> CurrentPeriod {
    let mut used = metering::per_meter(period.iter().map(|p| (p.usage_type, p.quantity)));
    used.insert(Meter::Seats, seats);
    used.insert(Meter::Domains, domains);
    let mut amount: BTreeMap<Meter, i64> = BTreeMap::new();
    let mut cost: BTreeMap<Meter, i64> = BTreeMap::new();
    for p in period {
        *amount.entry(p.usage_type.meter()).or_insert(0) += p.amount_minor;
        *cost.entry(p.usage_type.meter()).or_insert(0) += p.cost_micros;
    }
    let meters: Vec<PeriodMeter> = metering::status(plan, &used)
        .into_iter()
        .map(|status| {
            let m = status.meter;
            // Billable units as metered at ingest (what invoices use); the
            // status split is recomputed from the total and agrees with it.
            PeriodMeter {
                amount_minor: amount.get(&m).copied().unwrap_or(0),
                overage_micros: cost.get(&m).copied().unwrap_or(0),
                status,
            }
        })
        .collect();
    let total_micros: i64 = meters.iter().map(|m| m.overage_micros).sum();
    CurrentPeriod {
        start,
        end,
        meters,
        overage_minor: calos_core::money::micros_to_minor_rounded(i128::from(total_micros)),
        currency: plan.currency.as_str().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn params(from: Option<&str>, to: Option<&str>) -> UsageParams {
        UsageParams {
            from: from.map(Into::into),
            to: to.map(Into::into),
        }
    }

    #[test]
    fn range_defaults_to_the_period_and_checks_dates() {
        let start = Utc.with_ymd_and_hms(2025, 5, 20, 8, 0, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2025, 6, 3, 8, 0, 0).unwrap();
        let (from, to) = range(&params(None, None), start, now).unwrap();
        assert_eq!(
            (from.to_string(), to.to_string()),
            ("2025-05-20".into(), "2025-06-03".into())
        );
        assert!(range(&params(Some("2025-13-01"), None), start, now).is_err());
        assert!(range(&params(Some("2025-06-03"), Some("2025-06-01")), start, now).is_err());
        assert!(range(&params(Some("2020-01-01"), Some("2025-06-01")), start, now).is_err());
        let (f, _) = range(&params(Some("2025-06-01T10:00:00Z"), None), start, now).unwrap();
        assert_eq!(f.to_string(), "2025-06-01");
    }
}
