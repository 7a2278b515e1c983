//! SVG chart responses for `<img>` tags: revenue by tier on the dashboard,
//! and per customer the feature usage, the hour × weekday heatmap and
//! events over time, all from stored figures (plans, licenses, rollups).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Duration, Timelike, Utc};
use serde::Deserialize;

use calos_core::ids::InstallId;
use calos_core::stats::compute;

use super::headers::SVG_CSP;
use super::profile::window;
use super::render::describe_store_error;
use super::session::PageAdmin;
use crate::app::AppState;
use crate::charts::{self, Theme};
use crate::extract::Query;

const TOP_FEATURES: usize = 10;

#[derive(Debug, Default, Deserialize)]
pub struct ChartParams {
    theme: Option<String>,
}

fn svg(result: charts_rs::Result<String>) -> Response {
    match result {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CONTENT_SECURITY_POLICY, SVG_CSP),
                (header::CACHE_CONTROL, "private, max-age=60"),
            ],
            body,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "chart rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "chart failed").into_response()
        }
    }
}

fn failed(err: &calos_store::StoreError) -> Response {
    tracing::error!(error = %err, "chart data failed");
    (StatusCode::SERVICE_UNAVAILABLE, describe_store_error(err)).into_response()
}

/// MRR per tier: the core's stats rules applied to each tier's licenses.
pub async fn revenue(
    _user: PageAdmin,
    State(state): State<AppState>,
    Query(p): Query<ChartParams>,
) -> Response {
    let (facts, plans) =
        match tokio::try_join!(state.store.license_facts(), state.store.list_plans()) {
            Ok(v) => v,
            Err(e) => return failed(&e),
        };
    let mut currency = "USD".to_owned();
    let rows: Vec<(String, i64)> = plans
        .iter()
        .map(|plan| {
            let mine: Vec<_> = facts
                .iter()
                .filter(|f| f.plan == plan.slug)
                .cloned()
                .collect();
            let s = compute(0, &mine, &plans);
            currency = s.currency.clone();
            (plan.name.clone(), s.monthly_recurring_revenue_minor)
        })
        .collect();
    svg(charts::revenue_by_tier(
        &rows,
        &currency,
        Theme::parse(p.theme.as_deref()),
    ))
}

pub async fn customer_chart(
    _user: PageAdmin,
    State(state): State<AppState>,
    Path((raw_id, kind)): Path<(String, String)>,
    Query(p): Query<ChartParams>,
) -> Response {
    let theme = Theme::parse(p.theme.as_deref());
    let Ok(install_id) = InstallId::parse(&raw_id) else {
        return (StatusCode::NOT_FOUND, "no such customer").into_response();
    };
    let now = Utc::now();
    let (from, to) = window(now);
    let rows = match state.store.rollups(&install_id, from, to).await {
        Ok(r) => r,
        Err(e) => return failed(&e),
    };
    match kind.as_str() {
        "features.svg" => {
            let mut by_feature: BTreeMap<&str, i64> = BTreeMap::new();
            for r in rows.iter().filter(|r| !r.key.feature.is_empty()) {
                *by_feature.entry(r.key.feature.as_str()).or_default() += r.counts.events;
            }
            let mut top: Vec<(String, i64)> = by_feature
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            top.truncate(TOP_FEATURES);
            svg(charts::feature_usage(&top, theme))
        }
        "heatmap.svg" => {
            let mut grid = [[0i64; 24]; 7];
            for r in &rows {
                let day = r.key.hour.weekday().num_days_from_monday() as usize;
                let hour = r.key.hour.hour() as usize;
                if let Some(cell) = grid.get_mut(day).and_then(|d| d.get_mut(hour)) {
                    *cell += r.counts.events;
                }
            }
            svg(charts::activity_heatmap(&grid, theme))
        }
        "events.svg" => {
            let mut days: BTreeMap<chrono::NaiveDate, i64> = BTreeMap::new();
            let mut d = from.date_naive();
            while d <= to.date_naive() {
                days.insert(d, 0);
                d += Duration::days(1);
            }
            for r in &rows {
                *days.entry(r.key.hour.date_naive()).or_default() += r.counts.events;
            }
            let series: Vec<(String, i64)> = days
                .into_iter()
                .map(|(d, n)| (d.format("%m-%d").to_string(), n))
                .collect();
            svg(charts::events_over_time(&series, theme))
        }
        _ => (StatusCode::NOT_FOUND, "no such chart").into_response(),
    }
}
