//! `GET /api/enterprise/customer/:installId/usage`, and the seed's metering
//! bugs seen from outside, one test each.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{install, post, ts_ago};
use crate::helpers::TestApp;

fn usage(id: &str, meter: &str, quantity: i64, extra: Value) -> Value {
    let mut v = json!({"eventId": id, "type": "usage", "ts": ts_ago(2), "meter": meter, "quantity": quantity});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

fn meter(body: &Value, name: &str) -> Value {
    body["currentPeriod"]["meters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["meter"] == name)
        .unwrap_or_else(|| panic!("no {name} in {body}"))
        .clone()
}

async fn show(app: &TestApp, id: &str) -> Value {
    let resp = app
        .admin()
        .await
        .get(&format!("/api/enterprise/customer/{id}/usage"))
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    resp.body
}

/// Seed bug: only billable rows were counted as usage.
async fn usage_counts_free_and_billable_units(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "community").await;
    let r = post(
        app,
        &i,
        vec![
            usage("a", "api_requests", 100, json!({})),
            usage("b", "api_requests", 2, json!({})),
        ],
    )
    .await;
    assert_eq!(r.body["accepted"], 2, "{}", r.body);
    let api = meter(&show(app, &i.id).await, "api_requests");
    assert_eq!(
        (
            api["used"].as_i64(),
            api["free"].as_i64(),
            api["billable"].as_i64()
        ),
        (Some(102), Some(100), Some(2))
    );
    assert_eq!(api["overageMicros"], 2_000, "$0.001 per request over");
    assert_eq!(api["overLimit"], true);
}

/// Seed bug: limits and usage were keyed by different names, so the 80%
/// warning never fired.
async fn the_limit_warning_fires_at_80_percent(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "pro").await;
    post(app, &i, vec![usage("a", "api_requests", 9_990, json!({}))]).await;
    let api = meter(&show(app, &i.id).await, "api_requests");
    assert_eq!(api["limit"], 10_000);
    assert_eq!(api["warning"], true, "{api}");
    assert!((api["percent"].as_f64().unwrap() - 99.9).abs() < 1e-9);
}

/// Seed bug: each POS channel was compared with the whole POS allowance.
async fn both_pos_channels_share_one_allowance(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "community").await;
    let money = |channel: &str| json!({"amountMinor": 60_000, "currency": "USD", "props": {"channel": channel}});
    post(
        app,
        &i,
        vec![
            usage("a", "pos_transactions", 60, money("in_person")),
            usage("b", "pos_transactions", 60, money("online")),
        ],
    )
    .await;
    let pos = meter(&show(app, &i.id).await, "pos_transactions");
    assert_eq!(
        (
            pos["used"].as_i64(),
            pos["limit"].as_i64(),
            pos["billable"].as_i64()
        ),
        (Some(120), Some(100), Some(20))
    );
    assert_eq!(pos["amountMinor"], 120_000);
    // 20 online units over: 2.9% of $200 + 20 × $0.30.
    assert_eq!(pos["overageMicros"], 11_800_000);
}

/// Seed bug: "unlimited" tiers were billed for every unit.
async fn unlimited_meters_are_never_billed(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "pro").await;
    post(app, &i, vec![usage("a", "transcripts", 5_000, json!({}))]).await;
    let body = show(app, &i.id).await;
    let t = meter(&body, "transcripts");
    assert_eq!(
        (
            t["used"].as_i64(),
            t["billable"].as_i64(),
            t["limit"].is_null()
        ),
        (Some(5_000), Some(0), true)
    );
    assert_eq!(t["overageMicros"], 0);
    assert_eq!(body["currentPeriod"]["overageMinor"], 0);
}

async fn the_daily_series_has_every_day_and_meter(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "pro").await;
    let mut e = super::event("s1", "api_call");
    e["user"] = json!("alice");
    post(app, &i, vec![e, usage("t", "transcripts", 3, json!({}))]).await;
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Days::new(2);
    let resp = admin
        .get(&format!(
            "/api/enterprise/customer/{}/usage?from={from}&to={today}",
            i.id
        ))
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    let daily = resp.body["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 3);
    // The event was 5 minutes ago; around midnight that is yesterday.
    let total = |m: &str| {
        daily
            .iter()
            .map(|d| d["meters"][m].as_i64().unwrap())
            .sum::<i64>()
    };
    assert_eq!(
        (total("api_requests"), total("transcripts"), total("seats")),
        (1, 3, 1)
    );
    assert_eq!(meter(&resp.body, "seats")["used"], 1);
}

async fn bad_dates_are_400_and_unknown_installs_404(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "pro").await;
    for q in [
        "from=yesterday",
        "to=2025-02-30",
        "from=2025-06-02&to=2025-06-01",
        "bogus=1",
    ] {
        admin
            .get(&format!("/api/enterprise/customer/{}/usage?{q}", i.id))
            .await
            .assert_error(400, "invalid_query");
    }
    admin
        .get("/api/enterprise/customer/nobody-install-0000000000000000/usage")
        .await
        .assert_error(404, "not_found");
    app.anon()
        .get(&format!("/api/enterprise/customer/{}/usage", i.id))
        .await
        .assert_error(401, "unauthenticated");
}

crate::both_backends!(
    usage_counts_free_and_billable_units,
    the_limit_warning_fires_at_80_percent,
    both_pos_channels_share_one_allowance,
    unlimited_meters_are_never_billed,
    the_daily_series_has_every_day_and_meter,
    bad_dates_are_400_and_unknown_installs_404,
);
