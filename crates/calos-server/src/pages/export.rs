//! `GET /admin/customers.csv?q=&status=&tier=&sort=`: every customer of the
//! current filter as CSV (the `csv` crate quotes and escapes). Cells a
//! spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) get a
//! leading `'` so a customer's name cannot execute in the admin's Excel.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use calos_core::plan::{Limit, Meter, Plan};
use calos_store::LicenseListItem;

use super::filters::{Filter, FilterParams};
use super::health_filter;
use super::render::{describe_store_error, error_page};
use super::session::PageAdmin;
use crate::app::AppState;
use crate::extract::Query;

const PAGE: u32 = 200;
/// At most this many rows per export (the whole table of any realistic vendor).
const MAX_ROWS: u64 = 50_000;

const HEADER: [&str; 13] = [
    "installId",
    "name",
    "email",
    "company",
    "tier",
    "status",
    "billingPeriod",
    "domains",
    "createdAt",
    "lastSeenAt",
    "apiRequestsUsed",
    "apiRequestsLimit",
    "eventsLast30Days",
];

/// A leading `'` on cells a spreadsheet would read as a formula.
pub fn neutralise_formula(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

pub async fn customers_csv(
    _user: PageAdmin,
    State(state): State<AppState>,
    Query(params): Query<FilterParams>,
) -> Response {
    csv_download("customers", build(&state, &params).await)
}

/// A CSV export as a dated download (`<name>-YYYYMMDD.csv`), or the error
/// page when building it failed.
pub fn csv_download(name: &str, built: Result<Vec<u8>, String>) -> Response {
    match built {
        Ok(body) => {
            let disposition = format!(
                "attachment; filename=\"{name}-{}.csv\"",
                Utc::now().format("%Y%m%d")
            );
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                body,
            )
                .into_response()
        }
        Err(message) => error_page(StatusCode::SERVICE_UNAVAILABLE, "Export failed", &message),
    }
}

async fn build(state: &AppState, params: &FilterParams) -> Result<Vec<u8>, String> {
    let fail = |e: calos_store::StoreError| {
        tracing::error!(error = %e, "csv export failed");
        format!("Failed to export customers: {}", describe_store_error(&e))
    };
    let plans = state.store.list_plans().await.map_err(fail)?;
    let filter = Filter::parse(params, &plans);
    let now = Utc::now();
    let mut out = csv::Writer::from_writer(Vec::new());
    let write_err = |e: csv::Error| {
        tracing::error!(error = %e, "csv export: writing failed");
        "Failed to export customers: could not write the file".to_owned()
    };
    out.write_record(HEADER).map_err(write_err)?;
    if !filter.health.is_empty() {
        let (items, _) = health_filter::matching(state, &filter, &plans, now)
            .await
            .map_err(fail)?;
        for item in items
            .iter()
            .take(usize::try_from(MAX_ROWS).unwrap_or(usize::MAX))
        {
            out.write_record(record(item, &plans)).map_err(write_err)?;
        }
        return finish(out);
    }
    let mut written = 0u64;
    for page in 1.. {
        let batch = state
            .store
            .list_licenses(&filter.query(page, PAGE, now))
            .await
            .map_err(fail)?;
        for item in &batch.items {
            out.write_record(record(item, &plans)).map_err(write_err)?;
            written += 1;
        }
        if batch.items.is_empty()
            || u64::from(page) * u64::from(PAGE) >= batch.total
            || written >= MAX_ROWS
        {
            break;
        }
    }
    finish(out)
}

fn finish(out: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, String> {
    out.into_inner().map_err(|e| {
        tracing::error!(error = %e, "csv export: flushing failed");
        "Failed to export customers: could not write the file".to_owned()
    })
}

fn record(item: &LicenseListItem, plans: &[Plan]) -> Vec<String> {
    let l = &item.license;
    let limit: Option<u64> = plans
        .iter()
        .find(|p| p.slug == l.plan)
        .map_or(Limit::Unlimited, |p| p.limit(Meter::ApiRequests))
        .into();
    let raw = [
        l.install_id.to_string(),
        item.customer.name.as_str().to_owned(),
        item.customer.email.as_str().to_owned(),
        item.customer
            .company
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        l.plan.to_string(),
        l.status.as_str().to_owned(),
        l.billing_period.as_str().to_owned(),
        l.domains
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        l.created_at.to_rfc3339(),
        l.last_seen_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        item.api_requests_this_period.to_string(),
        limit.map_or_else(|| "unlimited".to_owned(), |n| n.to_string()),
        item.events_last_30_days.to_string(),
    ];
    raw.iter().map(|c| neutralise_formula(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        for bad in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise_formula(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(neutralise_formula("Acme"), "Acme");
        assert_eq!(neutralise_formula(""), "");
    }
}
