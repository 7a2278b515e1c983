//! The happy path, idempotency and the per-install limits.

use reqwest::StatusCode;
use serde_json::json;

use super::{event, install, post, stored, Install};
use crate::helpers::TestApp;

async fn a_batch_is_stored_with_every_field_and_rolled_up(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "pro").await;
    let resp = post(
        app,
        &i,
        vec![
            event("e1", "page_view"),
            event("e2", "api_call"),
            event("e3", "error"),
        ],
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    assert_eq!(
        resp.body,
        json!({"accepted": 3, "duplicates": 0, "rejected": []})
    );
    let events = stored(app, &i).await;
    assert_eq!(events.len(), 3);
    let e = events.iter().find(|e| e.event_id == "e2").unwrap();
    // The seed's collector dropped these before storage; we keep them.
    assert_eq!(e.feature.as_deref(), Some("pos"));
    assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0"));
    assert_eq!((e.duration_ms, e.status), (Some(120), Some(200)));
    let id = calos_core::ids::InstallId::parse(&i.id).unwrap();
    let now = chrono::Utc::now();
    let rollups = app
        .store()
        .rollups(
            &id,
            now - chrono::Duration::days(1),
            now + chrono::Duration::days(1),
        )
        .await
        .unwrap();
    assert_eq!(rollups.iter().map(|r| r.counts.events).sum::<i64>(), 3);
    assert_eq!(rollups.iter().map(|r| r.counts.errors).sum::<i64>(), 1);
}

async fn duplicate_ids_in_one_batch_count_once(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "pro").await;
    let resp = post(
        app,
        &i,
        vec![
            event("d1", "page_view"),
            event("d1", "page_view"),
            event("d2", "page_view"),
        ],
    )
    .await;
    assert_eq!(
        resp.body,
        json!({"accepted": 2, "duplicates": 1, "rejected": []})
    );
    assert_eq!(stored(app, &i).await.len(), 2);
}

async fn duplicate_ids_across_batches_count_once(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "pro").await;
    let first = post(
        app,
        &i,
        vec![event("r1", "api_call"), event("r2", "api_call")],
    )
    .await;
    assert_eq!(first.body["accepted"], 2);
    // The SDK retries the same batch after a lost answer.
    let retry = post(
        app,
        &i,
        vec![
            event("r1", "api_call"),
            event("r2", "api_call"),
            event("r3", "api_call"),
        ],
    )
    .await;
    assert_eq!(
        retry.body,
        json!({"accepted": 1, "duplicates": 2, "rejected": []})
    );
    assert_eq!(stored(app, &i).await.len(), 3);
    // Metering counted each API call once.
    let usage = admin
        .get(&format!("/api/enterprise/customer/{}/usage", i.id))
        .await;
    let api = usage.body["currentPeriod"]["meters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["meter"] == "api_requests")
        .unwrap()
        .clone();
    assert_eq!(api["used"], 3, "{api}");
}

async fn good_events_in_a_bad_batch_are_kept(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "pro").await;
    let mut bad = event("b2", "page_view");
    bad["type"] = json!("forum_post");
    let resp = post(
        app,
        &i,
        vec![event("b1", "page_view"), bad, event("b3", "custom")],
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.body["accepted"], 2);
    let rejected = resp.body["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["index"], 1);
    assert_eq!(rejected[0]["eventId"], "b2");
    assert_eq!(stored(app, &i).await.len(), 2);
}

async fn unknown_install_or_wrong_key_is_401_and_nothing_is_stored(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "pro").await;
    let wrong = Install {
        id: i.id.clone(),
        key: format!("{}x", &i.key[..i.key.len() - 1]),
    };
    post(app, &wrong, vec![event("w1", "page_view")])
        .await
        .assert_error(401, "unauthenticated");
    let nobody = Install {
        id: "nobody-install-0000000000000000".into(),
        key: i.key.clone(),
    };
    post(app, &nobody, vec![event("w2", "page_view")])
        .await
        .assert_error(401, "unauthenticated");
    assert!(stored(app, &i).await.is_empty());
}

async fn over_the_plan_rate_is_429_with_retry_after(app: &TestApp) {
    let admin = app.admin().await;
    // Community: 1,200 events per minute per install.
    let i = install(app, &admin, "community").await;
    let events = |p: &str| {
        (0..1_000)
            .map(|n| event(&format!("{p}{n}"), "page_view"))
            .collect::<Vec<_>>()
    };
    let first = post(app, &i, events("a")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let second = post(app, &i, events("b")).await;
    second.assert_error(429, "rate_limited");
    let wait: u64 = second.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1);
    assert_eq!(
        stored(app, &i).await.len(),
        1_000,
        "the refused batch is not stored"
    );
    // Another install has its own allowance.
    let other = install(app, &admin, "community").await;
    assert_eq!(post(app, &other, events("c")).await.status, StatusCode::OK);
}

crate::both_backends!(
    a_batch_is_stored_with_every_field_and_rolled_up,
    duplicate_ids_in_one_batch_count_once,
    duplicate_ids_across_batches_count_once,
    good_events_in_a_bad_batch_are_kept,
    unknown_install_or_wrong_key_is_401_and_nothing_is_stored,
    over_the_plan_rate_is_429_with_retry_after,
);
