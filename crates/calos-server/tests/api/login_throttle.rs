//! Failed-login throttling: brute force is slowed with growing, capped
//! back-off (429 + Retry-After, a generic error), the real owner gets in
//! after the back-off or at once from a clean IP, and every failure looks
//! the same from outside while the audit log keeps the true reason.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use calos_server::config::Config;

use crate::helpers::{TestApp, ADMIN_PASSWORD};
use crate::login_support::{api, audited, client_from, logged_in, login};

crate::both_backends_configured!(
    strict_throttle;
    brute_force_is_throttled_then_the_owner_logs_in_after_the_backoff,
    back_off_doubles_up_to_the_cap,
    an_attack_elsewhere_does_not_lock_out_the_owner_on_a_clean_ip,
    throttled_attempts_check_no_password,
);

crate::both_backends!(every_failure_looks_the_same_and_is_audited);

/// 3 free failures, then 1 s, 2 s, 2 s… (capped at 2 s).
fn strict_throttle(config: &mut Config) {
    config.login.max_failures = 3;
    config.login.backoff_base = Duration::from_secs(1);
    config.login.backoff_max = Duration::from_secs(2);
    config.login.failure_window = Duration::from_secs(60);
}

const WRONG: &str = "not the password";

fn retry_after(resp: &crate::client::Resp) -> u64 {
    resp.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn brute_force_is_throttled_then_the_owner_logs_in_after_the_backoff(app: &TestApp) {
    let mut attacker = api(app, client_from("127.0.0.1"));
    for _ in 0..4 {
        login(&mut attacker, "admin", WRONG)
            .await
            .assert_error(401, "unauthenticated");
    }
    let blocked = login(&mut attacker, "admin", WRONG).await;
    blocked.assert_error(429, "rate_limited");
    let wait = retry_after(&blocked);
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    let message = blocked.body["error"]["message"].as_str().unwrap();
    assert!(!message.contains("admin"), "generic: {message}");
    // Even the right password waits (the password is not even looked at).
    login(&mut attacker, "admin", ADMIN_PASSWORD)
        .await
        .assert_error(429, "rate_limited");

    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(200)).await;
    let owner = login(&mut attacker, "admin", ADMIN_PASSWORD).await;
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);
    assert_eq!(attacker.get("/api/auth/me").await.status, StatusCode::OK);
}

async fn back_off_doubles_up_to_the_cap(app: &TestApp) {
    let mut a = api(app, client_from("127.0.0.5"));
    for _ in 0..4 {
        login(&mut a, "admin", WRONG).await;
    }
    let mut waits = Vec::new();
    for _ in 0..3 {
        let blocked = login(&mut a, "admin", WRONG).await;
        blocked.assert_error(429, "rate_limited");
        let wait = retry_after(&blocked);
        waits.push(wait);
        tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(200)).await;
        // The attempt after the wait is checked (and fails again).
        login(&mut a, "admin", WRONG)
            .await
            .assert_error(401, "unauthenticated");
    }
    assert_eq!(waits.first(), Some(&1), "{waits:?}");
    assert_eq!(&waits[1..], &[2, 2], "doubles, capped at 2 s: {waits:?}");
}

async fn an_attack_elsewhere_does_not_lock_out_the_owner_on_a_clean_ip(app: &TestApp) {
    let mut attacker = api(app, client_from("127.0.0.2"));
    for _ in 0..10 {
        login(&mut attacker, "admin", WRONG).await;
    }
    login(&mut attacker, "admin", WRONG)
        .await
        .assert_error(429, "rate_limited");
    // The attacker's IP is throttled for every account.
    login(&mut attacker, "someone-else", WRONG)
        .await
        .assert_error(429, "rate_limited");
    // A second attacker IP with one failure of its own is held by the
    // account's back-off too.
    let mut second = api(app, client_from("127.0.0.4"));
    login(&mut second, "admin", WRONG)
        .await
        .assert_error(401, "unauthenticated");
    login(&mut second, "admin", WRONG)
        .await
        .assert_error(429, "rate_limited");
    // The owner, from an IP with no failures, is not held up at all.
    let owner = logged_in(app, "127.0.0.3", "admin", ADMIN_PASSWORD).await;
    assert_eq!(owner.get("/api/auth/me").await.status, StatusCode::OK);
}

/// A throttled answer is immediate: no argon2 run for an attempt that is
/// refused anyway (and nothing an attacker sends then is checked).
async fn throttled_attempts_check_no_password(app: &TestApp) {
    let mut a = api(app, client_from("127.0.0.6"));
    for _ in 0..4 {
        login(&mut a, "admin", WRONG).await;
    }
    let before = audited(app, "admin", "admin.login_failed").await.len();
    let started = Instant::now();
    for _ in 0..20 {
        login(&mut a, "admin", ADMIN_PASSWORD)
            .await
            .assert_error(429, "rate_limited");
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        audited(app, "admin", "admin.login_failed").await.len(),
        before,
        "throttled attempts are not checked, so not audited as failures"
    );
}

/// Unknown user, wrong password, disabled account: one answer, similar
/// time (the unknown user's password is checked against a dummy hash), and
/// each failure audited with the name tried, the IP and the true reason.
async fn every_failure_looks_the_same_and_is_audited(app: &TestApp) {
    let owner = app.admin().await;
    let created = owner
        .post(
            "/api/enterprise/admins",
            &json!({ "username": "dora", "role": "viewer", "password": "dora's password" }),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    let id = created.body["admin"]["id"].as_i64().unwrap();
    let disabled = owner
        .post_empty(&format!("/api/enterprise/admins/{id}/disable"))
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);

    let cases = [
        ("admin", WRONG, "wrong_password"),
        ("nobody-here", WRONG, "unknown_user"),
        ("dora", "dora's password", "disabled"),
    ];
    let mut answers = Vec::new();
    let mut fastest = Vec::new();
    for (i, (username, password, _)) in cases.iter().enumerate() {
        let mut best = Duration::MAX;
        for round in 0..3 {
            // A fresh IP each time, so the throttle stays out of the way.
            let mut a = api(
                app,
                client_from(&format!("127.0.{}.{}", 10 + i, 10 + round)),
            );
            let started = Instant::now();
            let resp = login(&mut a, username, password).await;
            best = best.min(started.elapsed());
            resp.assert_error(401, "unauthenticated");
            assert!(resp.headers.get("set-cookie").is_none());
            answers.push(resp.body);
        }
        fastest.push(best);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    let slowest = fastest.iter().max().unwrap();
    for t in &fastest {
        assert!(
            t.as_secs_f64() >= slowest.as_secs_f64() / 4.0,
            "every failure runs argon2: {fastest:?}"
        );
    }

    for (username, _, reason) in cases {
        let records = audited(app, username, "admin.login_failed").await;
        assert_eq!(records.len(), 3, "{username}: {records:?}");
        let r = &records[0];
        assert_eq!(r.actor.label(), format!("admin:{username}"));
        assert!(
            r.ip.as_deref().is_some_and(|ip| ip.starts_with("127.0.")),
            "{r:?}"
        );
        assert_eq!(r.after.as_ref().unwrap()["reason"], reason);
    }
    let ok = audited(app, "admin", "admin.login").await;
    assert!(!ok.is_empty(), "successful logins are audited");
    assert_eq!(ok[0].ip.as_deref(), Some("127.0.0.1"));
}
