//! `/admin/audit`: the audit log with filters (actor, action, target, date
//! range) and pages, and `/admin/audit.csv`: every record of the same filter
//! as CSV, cells neutralised against spreadsheet formulas like the customer
//! export. Every role may read the audit log (as `GET /api/enterprise/audit`).
//! The filter form is a plain GET form: no script needed.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, Utc};
use serde_json::Value;

use calos_core::audit::AuditRecord;
use calos_store::{AuditFilter, StoreError};

use super::export::neutralise_formula;
use super::format::{date_time, group};
use super::render::{describe_store_error, error_page, html};
use super::session::PageAdmin;
use crate::api::audit::AuditParams;
use crate::app::AppState;
use crate::extract::Query;

const PER_PAGE: u32 = 50;
/// Records fetched per query while exporting.
const EXPORT_BATCH: u32 = 500;
/// At most this many rows per export.
const MAX_ROWS: usize = 100_000;
/// A changed value longer than this is cut in the table (the CSV has it whole).
const MAX_VALUE_CHARS: usize = 80;

const CSV_HEADER: [&str; 9] = [
    "id",
    "at",
    "actor",
    "action",
    "targetType",
    "targetId",
    "ip",
    "before",
    "after",
];

struct Row {
    id: i64,
    at: String,
    actor: String,
    action: String,
    target_type: String,
    target_id: String,
    /// A link to the customer profile when the target is a license.
    target_link: Option<String>,
    ip: String,
    change: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    username: String,
    csrf: String,
    params: AuditParams,
    rows: Vec<Row>,
    total: String,
    page: u32,
    pages: u32,
    prev_link: Option<String>,
    next_link: Option<String>,
    csv_link: String,
    error: Option<String>,
}

pub async fn page(
    user: PageAdmin,
    State(state): State<AppState>,
    Query(params): Query<AuditParams>,
) -> Response {
    let qs = params.query_string();
    let csv_link = if qs.is_empty() {
        "/admin/audit.csv".to_owned()
    } else {
        format!("/admin/audit.csv?{qs}")
    };
    let mut view = AuditPage {
        username: user.admin.username.clone(),
        csrf: user.csrf.clone(),
        params: AuditParams::default(),
        rows: Vec::new(),
        total: "0".to_owned(),
        page: 1,
        pages: 1,
        prev_link: None,
        next_link: None,
        csv_link,
        error: None,
    };
    let filter = match params.filter(PER_PAGE) {
        Ok(f) => AuditFilter {
            // The page size is the page's, whatever `limit` says.
            per_page: PER_PAGE,
            ..f
        },
        Err(message) => {
            view.params = params;
            view.error = Some(format!("Invalid filter: {message}"));
            return html(StatusCode::BAD_REQUEST, &view);
        }
    };
    match state.store.search_audit(&filter).await {
        Ok(found) => {
            let pages = u32::try_from(found.total.div_ceil(u64::from(PER_PAGE)))
                .unwrap_or(u32::MAX)
                .max(1);
            let link = |n: u32| {
                if qs.is_empty() {
                    format!("?page={n}")
                } else {
                    format!("?{qs}&page={n}")
                }
            };
            view.rows = found.items.iter().map(row).collect();
            view.total = group(found.total);
            view.page = found.page;
            view.pages = pages;
            view.prev_link = (found.page > 1).then(|| link(found.page - 1));
            view.next_link = (found.page < pages).then(|| link(found.page + 1));
        }
        Err(e) => {
            tracing::error!(error = %e, "audit page: search failed");
            view.error = Some(format!(
                "Failed to load the audit log: {}",
                describe_store_error(&e)
            ));
        }
    }
    view.params = params;
    html(StatusCode::OK, &view)
}

pub async fn csv(
    _user: PageAdmin,
    State(state): State<AppState>,
    Query(params): Query<AuditParams>,
) -> Response {
    let filter = match params.filter(EXPORT_BATCH) {
        Ok(f) => f,
        Err(message) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Export failed",
                &format!("Invalid filter: {message}"),
            )
        }
    };
    super::export::csv_download("audit", build_csv(&state, filter).await)
}

async fn build_csv(state: &AppState, filter: AuditFilter) -> Result<Vec<u8>, String> {
    let fail = |e: StoreError| {
        tracing::error!(error = %e, "audit csv export failed");
        format!(
            "Failed to export the audit log: {}",
            describe_store_error(&e)
        )
    };
    let write_err = |e: csv::Error| {
        tracing::error!(error = %e, "audit csv export: writing failed");
        "Failed to export the audit log: could not write the file".to_owned()
    };
    // Records appended while exporting would shift the pages: stop at now.
    let cap = Utc::now() + Duration::microseconds(1);
    let mut filter = AuditFilter {
        to: Some(filter.to.map_or(cap, |t| t.min(cap))),
        page: 1,
        per_page: EXPORT_BATCH,
        ..filter
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(CSV_HEADER).map_err(write_err)?;
    let mut written = 0usize;
    loop {
        let batch = state.store.search_audit(&filter).await.map_err(fail)?;
        for r in batch.items.iter().take(MAX_ROWS - written) {
            out.write_record(csv_record(r)).map_err(write_err)?;
            written += 1;
        }
        let seen = u64::from(filter.page) * u64::from(EXPORT_BATCH);
        if batch.items.is_empty() || seen >= batch.total || written >= MAX_ROWS {
            break;
        }
        filter.page += 1;
    }
    out.into_inner().map_err(|e| {
        tracing::error!(error = %e, "audit csv export: flushing failed");
        "Failed to export the audit log: could not write the file".to_owned()
    })
}

fn json_cell(v: Option<&Value>) -> String {
    v.map(Value::to_string).unwrap_or_default()
}

fn csv_record(r: &AuditRecord) -> Vec<String> {
    let e = &r.entry;
    [
        r.id.to_string(),
        e.at.to_rfc3339(),
        e.actor.label(),
        e.action.clone(),
        e.target_type.clone(),
        e.target_id.clone(),
        e.ip.clone().unwrap_or_default(),
        json_cell(e.before.as_ref()),
        json_cell(e.after.as_ref()),
    ]
    .iter()
    .map(|c| neutralise_formula(c))
    .collect()
}

fn row(r: &AuditRecord) -> Row {
    let e = &r.entry;
    Row {
        id: r.id,
        at: date_time(e.at),
        actor: e.actor.label(),
        action: e.action.clone(),
        target_type: e.target_type.clone(),
        target_id: e.target_id.clone(),
        target_link: (e.target_type == "license").then(|| {
            format!(
                "/admin/customers/{}",
                percent_encoding::utf8_percent_encode(
                    &e.target_id,
                    percent_encoding::NON_ALPHANUMERIC
                )
            )
        }),
        ip: e.ip.clone().unwrap_or_default(),
        change: change(e.before.as_ref(), e.after.as_ref()),
    }
}

fn short(v: Option<&Value>) -> String {
    let text = match v {
        None | Some(Value::Null) => "—".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if text.chars().count() > MAX_VALUE_CHARS {
        let cut: String = text.chars().take(MAX_VALUE_CHARS).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// "role: viewer → sales; disabled: false → true": every top-level field of
/// before and after that differs, in key order. A record with only an
/// after (a creation) lists the after's fields as `field: value`.
fn change(before: Option<&Value>, after: Option<&Value>) -> String {
    let fields = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut keys = fields(before);
    keys.extend(fields(after));
    keys.sort();
    keys.dedup();
    let get = |v: Option<&Value>, k: &str| v.and_then(|v| v.get(k)).cloned();
    keys.iter()
        .filter_map(|k| {
            let (b, a) = (get(before, k), get(after, k));
            match (&b, &a) {
                (b, a) if b == a => None,
                (None, a) if before.is_none() => Some(format!("{k}: {}", short(a.as_ref()))),
                (b, a) => Some(format!(
                    "{k}: {} → {}",
                    short(b.as_ref()),
                    short(a.as_ref())
                )),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn change_lists_differing_fields() {
        let b = json!({ "role": "viewer", "disabled": false });
        let a = json!({ "role": "sales", "disabled": false });
        assert_eq!(change(Some(&b), Some(&a)), "role: viewer → sales");
        assert_eq!(
            change(None, Some(&json!({ "name": "ci", "role": null }))),
            "name: ci; role: —"
        );
        assert_eq!(change(None, None), "");
        let long = json!({ "notes": "x".repeat(200) });
        assert!(change(None, Some(&long)).ends_with('…'));
    }

    #[test]
    fn csv_cells_are_neutralised() {
        let r = AuditRecord {
            id: 1,
            entry: calos_core::audit::AuditEntry {
                at: Utc::now(),
                actor: calos_core::audit::Actor::Cli,
                action: "license.create".into(),
                target_type: "license".into(),
                target_id: "=HYPERLINK(\"x\")".into(),
                before: None,
                after: Some(json!({ "a": 1 })),
                ip: None,
            },
        };
        let cells = csv_record(&r);
        assert_eq!(cells[5], "'=HYPERLINK(\"x\")");
        assert_eq!(cells[8], "{\"a\":1}");
    }
}
