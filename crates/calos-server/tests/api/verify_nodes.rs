//! Several nodes on one database: a revoke on one reaches the other's cache
//! (PostgreSQL LISTEN/NOTIFY), and the rate limits per install and per IP.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use calos_core::verdict::VerdictCode;

use crate::helpers::{run_on, Backend, TestApp};
use crate::verify_support::{check_token, new_install, post_verify, request, verify_ok, Node};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_on_node_1_reaches_node_2_through_notify() {
    run_on(Backend::Postgres, |app| Box::pin(two_nodes(app))).await;
}

async fn two_nodes(app: &TestApp) {
    let node2 = Node::spawn(app, |_| {}).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !node2.state.licensing.listening.load(Ordering::Acquire) {
        assert!(Instant::now() < deadline, "node 2 never started listening");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let i = new_install(app, "enterprise", json!({ "trialDays": 0 })).await;
    // The creation's own notification must not land after node 2 caches the
    // license (it would evict the entry and the test would prove nothing).
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Node 2 caches the license as valid.
    assert!(verify_ok(&node2.base, &request(&i, "n", None)).await.valid);
    assert_eq!(node2.state.license_cache.len(), 1);

    let admin = app.admin().await;
    let r = admin
        .post(
            "/api/enterprise/revoke-license",
            &json!({ "installId": i.install_id }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The notification arrives on commit; allow it a moment to travel, far
    // below the cache TTL (5 minutes), which would otherwise be the bound.
    let start = Instant::now();
    loop {
        let c = verify_ok(&node2.base, &request(&i, "n", None)).await;
        if c.code == VerdictCode::Revoked {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "node 2 still says {:?}",
            c.code
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    node2.stop().await;
}

crate::both_backends!(
    per_install_limit_answers_429_with_retry_after,
    per_ip_limit_answers_429
);

async fn per_install_limit_answers_429_with_retry_after(app: &TestApp) {
    let node = Node::spawn(app, |c| c.verify_per_install_per_minute = 3).await;
    let i = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    for _ in 0..3 {
        verify_ok(&node.base, &request(&i, "n", None)).await;
    }
    let r = post_verify(&node.base, &request(&i, "n", None)).await;
    r.assert_error(429, "rate_limited");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let claims = check_token(&node.base, r.body["token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims.code, VerdictCode::RateLimited);
    assert!(!claims.valid);
    // Wrong keys under the install's id do not use up its allowance.
    let other = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    let mut wrong = request(&other, "n", None);
    wrong["licenseKey"] = json!(format!("calos_lk_{}", "1".repeat(64)));
    for _ in 0..5 {
        assert_eq!(
            verify_ok(&node.base, &wrong).await.code,
            VerdictCode::BadLicenseKey
        );
    }
    assert!(
        verify_ok(&node.base, &request(&other, "n", None))
            .await
            .valid
    );
    node.stop().await;
}

async fn per_ip_limit_answers_429(app: &TestApp) {
    let node = Node::spawn(app, |c| c.verify_per_ip_per_minute = 2).await;
    let a = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    let b = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    verify_ok(&node.base, &request(&a, "n", None)).await;
    verify_ok(&node.base, &request(&b, "n", None)).await;
    let r = post_verify(&node.base, &request(&a, "n", None)).await;
    r.assert_error(429, "rate_limited");
    assert!(r.headers.contains_key("retry-after"));
    node.stop().await;
}
