//! Each bad input the issue names, on its own.

use reqwest::StatusCode;
use serde_json::json;

use super::{batch, event, install, post, stored, PATH};
use crate::helpers::TestApp;

/// Posts one event and returns the reason it was refused.
async fn refused(app: &TestApp, e: serde_json::Value) -> String {
    let admin = app.admin().await;
    let i = install(app, &admin, "pro").await;
    let resp = post(app, &i, vec![e]).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    assert_eq!(resp.body["accepted"], 0, "{}", resp.body);
    assert!(stored(app, &i).await.is_empty());
    resp.body["rejected"][0]["reason"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_batch_over_1000_events_is_413_naming_the_limit(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "enterprise").await;
    let events = (0..1_001)
        .map(|n| json!({"eventId": format!("x{n}"), "type": "custom", "ts": super::ts_ago(1)}))
        .collect();
    let resp = post(app, &i, events).await;
    resp.assert_error(413, "batch_too_large");
    assert!(
        resp.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1000"),
        "{}",
        resp.body
    );
    assert!(stored(app, &i).await.is_empty());
}

async fn a_batch_over_1_mib_is_413_naming_the_limit(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "enterprise").await;
    let filler = "x".repeat(1_100);
    let events = (0..1_000)
        .map(|n| json!({"eventId": format!("y{n}"), "type": "custom", "ts": super::ts_ago(1), "endpoint": filler}))
        .collect();
    let resp = app.anon().post(PATH, &batch(&i, events)).await;
    resp.assert_error(413, "batch_too_large");
    assert!(
        resp.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 MiB"),
        "{}",
        resp.body
    );
    assert!(stored(app, &i).await.is_empty());
}

async fn an_unknown_event_type_is_refused(app: &TestApp) {
    let mut e = event("t1", "page_view");
    e["type"] = json!("button_click");
    assert!(refused(app, e).await.starts_with("unknown_type"));
}

async fn props_of_10_kb_are_refused(app: &TestApp) {
    let mut e = event("p1", "custom");
    e["props"] = json!({"blob": "z".repeat(10 * 1024)});
    assert!(refused(app, e).await.starts_with("props_too_large"));
}

async fn nan_duration_is_refused(app: &TestApp) {
    let mut e = event("n1", "api_call");
    e["durationMs"] = json!("NaN");
    assert!(refused(app, e).await.starts_with("invalid_duration"));
}

async fn a_bare_nan_literal_is_malformed_json(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "pro").await;
    let body = format!(
        r#"{{"installId":"{}","licenseKey":"{}","events":[{{"eventId":"n2","type":"api_call","ts":"{}","durationMs":NaN}}]}}"#,
        i.id,
        i.key,
        super::ts_ago(1)
    );
    let resp = app
        .anon()
        .post_raw(PATH, body, Some("application/json"))
        .await;
    resp.assert_error(400, "malformed_json");
    assert!(stored(app, &i).await.is_empty());
}

async fn negative_duration_is_refused(app: &TestApp) {
    let mut e = event("n3", "api_call");
    e["durationMs"] = json!(-5);
    assert!(refused(app, e).await.starts_with("invalid_duration"));
}

async fn invalid_utf8_is_400(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "pro").await;
    let mut body = format!(r#"{{"installId":"{}","licenseKey":"{}","events":[{{"eventId":"u1","type":"custom","ts":"{}","feature":""#, i.id, i.key, super::ts_ago(1)).into_bytes();
    body.extend_from_slice(&[0xff, 0xfe, 0x80]);
    body.extend_from_slice(br#""}]}"#);
    let resp = app
        .anon()
        .post_raw(PATH, body, Some("application/json"))
        .await;
    resp.assert_error(400, "malformed_json");
    assert!(stored(app, &i).await.is_empty());
}

async fn a_timestamp_in_year_9999_is_refused(app: &TestApp) {
    let mut e = event("y1", "page_view");
    e["ts"] = json!("9999-12-31T23:59:59Z");
    assert!(refused(app, e).await.starts_with("timestamp_in_future"));
}

async fn a_timestamp_in_1970_is_refused(app: &TestApp) {
    let mut e = event("y2", "page_view");
    e["ts"] = json!("1970-01-01T00:00:00Z");
    let reason = refused(app, e).await;
    assert!(
        reason.starts_with("timestamp_too_old") && reason.contains("90-day"),
        "{reason}"
    );
}

async fn a_batch_from_a_revoked_install_is_403_and_nothing_is_stored(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "pro").await;
    let revoke = admin
        .post(
            "/api/enterprise/revoke-license",
            &json!({"installId": i.id, "reason": "contract ended"}),
        )
        .await;
    assert_eq!(revoke.status, StatusCode::OK, "{}", revoke.body);
    let resp = post(app, &i, vec![event("v1", "page_view")]).await;
    resp.assert_error(403, "license_inactive");
    assert!(stored(app, &i).await.is_empty());
}

crate::both_backends!(
    a_batch_over_1000_events_is_413_naming_the_limit,
    a_batch_over_1_mib_is_413_naming_the_limit,
    an_unknown_event_type_is_refused,
    props_of_10_kb_are_refused,
    nan_duration_is_refused,
    a_bare_nan_literal_is_malformed_json,
    negative_duration_is_refused,
    invalid_utf8_is_400,
    a_timestamp_in_year_9999_is_refused,
    a_timestamp_in_1970_is_refused,
    a_batch_from_a_revoked_install_is_403_and_nothing_is_stored,
);
