//! Sessions: a new value at every login (session fixation), idle and
//! absolute timeouts, logout and password changes end sessions on the
//! server, the account pages.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use calos_server::config::Config;

use crate::helpers::{TestApp, ADMIN_PASSWORD};
use crate::login_support::{api, client_from, logged_in, login, me_with_cookie, session_cookie};

crate::both_backends_configured!(
    short_sessions;
    idle_sessions_end_and_use_keeps_them_alive,
    busy_sessions_still_end_at_the_absolute_timeout,
);

crate::both_backends!(
    login_never_keeps_the_session_value_the_browser_had,
    logout_ends_the_session_on_the_server,
    a_password_reset_ends_every_session_of_that_admin,
    changing_your_password_ends_your_other_sessions,
    account_and_login_pages,
);

fn short_sessions(config: &mut Config) {
    config.login.session_idle = Duration::from_millis(1500);
    config.login.session_absolute = Duration::from_secs(3);
}

async fn raw_login(app: &TestApp, planted: Option<&str>) -> crate::client::Resp {
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/auth/login", app.base))
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }));
    if let Some(value) = planted {
        req = req.header("cookie", format!("calos_session={value}"));
    }
    let resp = req.send().await.unwrap();
    crate::client::Resp {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp.json().await.unwrap(),
    }
}

async fn login_never_keeps_the_session_value_the_browser_had(app: &TestApp) {
    // An attacker plants a cookie value, the victim logs in with it.
    let planted = "attacker-chosen-session-value-0123456789abcdef";
    let first = raw_login(app, Some(planted)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let issued = session_cookie(&first).expect("a new session cookie");
    assert_ne!(issued, planted);
    assert_eq!(me_with_cookie(app, planted).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_with_cookie(app, &issued).await, StatusCode::OK);

    // Logging in again over a live session replaces it; the old value dies.
    let second = raw_login(app, Some(&issued)).await;
    let renewed = session_cookie(&second).expect("a new session cookie");
    assert_ne!(renewed, issued);
    assert_eq!(me_with_cookie(app, &issued).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_with_cookie(app, &renewed).await, StatusCode::OK);
    assert_ne!(first.body["csrfToken"], second.body["csrfToken"]);
}

async fn idle_sessions_end_and_use_keeps_them_alive(app: &TestApp) {
    let resp = raw_login(app, None).await;
    let value = session_cookie(&resp).unwrap();
    // Used every 0.6 s: alive past the 1.5 s idle timeout.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(me_with_cookie(app, &value).await, StatusCode::OK);
    }
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert_eq!(
        me_with_cookie(app, &value).await,
        StatusCode::UNAUTHORIZED,
        "idle for longer than the timeout"
    );
}

async fn busy_sessions_still_end_at_the_absolute_timeout(app: &TestApp) {
    let started = Instant::now();
    let resp = raw_login(app, None).await;
    let value = session_cookie(&resp).unwrap();
    let cookie = resp.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Max-Age=3"), "{cookie}");
    while started.elapsed() < Duration::from_millis(2400) {
        assert_eq!(me_with_cookie(app, &value).await, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    tokio::time::sleep(
        Duration::from_secs(3).saturating_sub(started.elapsed()) + Duration::from_millis(300),
    )
    .await;
    assert_eq!(
        me_with_cookie(app, &value).await,
        StatusCode::UNAUTHORIZED,
        "past the absolute timeout however busy"
    );
}

async fn logout_ends_the_session_on_the_server(app: &TestApp) {
    let resp = raw_login(app, None).await;
    let value = session_cookie(&resp).unwrap();
    let csrf = resp.body["csrfToken"].as_str().unwrap();
    let out = reqwest::Client::new()
        .post(format!("{}/api/auth/logout", app.base))
        .header("cookie", format!("calos_session={value}"))
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::OK);
    // The browser was told to drop the cookie; one that kept it gets nowhere.
    assert_eq!(me_with_cookie(app, &value).await, StatusCode::UNAUTHORIZED);
}

async fn a_password_reset_ends_every_session_of_that_admin(app: &TestApp) {
    let owner = app.admin().await;
    let made = owner
        .post(
            "/api/enterprise/admins",
            &json!({ "username": "erin", "role": "support", "password": "erin's password" }),
        )
        .await;
    assert_eq!(made.status.as_u16(), 201, "{}", made.body);
    let id = made.body["admin"]["id"].as_i64().unwrap();
    let laptop = logged_in(app, "127.0.0.1", "erin", "erin's password").await;
    let phone = logged_in(app, "127.0.0.1", "erin", "erin's password").await;
    let reset = owner
        .post_empty(&format!("/api/enterprise/admins/{id}/reset-password"))
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    for erin in [&laptop, &phone] {
        erin.get("/api/auth/me")
            .await
            .assert_error(401, "unauthenticated");
    }
    assert_eq!(owner.get("/api/auth/me").await.status, StatusCode::OK);
}

async fn changing_your_password_ends_your_other_sessions(app: &TestApp) {
    let other = app.admin().await;
    let mut this = api(app, client_from("127.0.0.1"));
    login(&mut this, "admin", ADMIN_PASSWORD).await;

    let wrong = this
        .post(
            "/api/auth/password",
            &json!({ "currentPassword": "not it at all", "newPassword": "a brand new password" }),
        )
        .await;
    wrong.assert_error(422, "invalid_field");
    let short = this
        .post(
            "/api/auth/password",
            &json!({ "currentPassword": ADMIN_PASSWORD, "newPassword": "short" }),
        )
        .await;
    short.assert_error(422, "invalid_field");
    this.post(
        "/api/auth/password",
        &json!({ "currentPassword": ADMIN_PASSWORD }),
    )
    .await
    .assert_error(422, "invalid_body");

    let changed = this
        .post(
            "/api/auth/password",
            &json!({ "currentPassword": ADMIN_PASSWORD, "newPassword": "a brand new password" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert!(
        session_cookie(&changed).is_some(),
        "this browser gets a new session"
    );
    this.csrf = changed.body["csrfToken"].as_str().map(str::to_owned);
    assert_eq!(this.get("/api/auth/me").await.status, StatusCode::OK);
    other
        .get("/api/auth/me")
        .await
        .assert_error(401, "unauthenticated");
    // The new CSRF token works for changes.
    let again = this
        .post(
            "/api/auth/password",
            &json!({ "currentPassword": "a brand new password", "newPassword": ADMIN_PASSWORD }),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let audited = crate::login_support::audited(app, "admin", "admin.password_change").await;
    assert_eq!(audited.len(), 2);

    // An API token may not change its admin's password.
    app.token_client()
        .await
        .post(
            "/api/auth/password",
            &json!({ "currentPassword": ADMIN_PASSWORD, "newPassword": "token's new password" }),
        )
        .await
        .assert_error(403, "forbidden");
}

async fn account_and_login_pages(app: &TestApp) {
    let page = reqwest::Client::new()
        .get(format!("{}/admin/login", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"login-form\"") && html.contains("id=\"totp-form\""));
    assert!(
        html.contains("/assets/login.css"),
        "hides the step not shown"
    );
    assert!(!html.contains("<script>"), "no inline script");

    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let anon = no_redirect
        .get(format!("{}/admin/account", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), StatusCode::SEE_OTHER);
    assert!(anon.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login?next=%2Fadmin%2Faccount"));

    let admin = app.admin().await;
    let account = admin
        .client
        .get(format!("{}/admin/account", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(account.status(), StatusCode::OK);
    let html = account.text().await.unwrap();
    for part in [
        "id=\"password-form\"",
        "id=\"totp-start\"",
        "/assets/account.js",
    ] {
        assert!(html.contains(part), "{part} missing");
    }
    let js = reqwest::get(format!("{}/assets/account.js", app.base))
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK);
}
