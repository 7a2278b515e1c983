//! Authentication: 401 everywhere without credentials, login/logout, CSRF,
//! API tokens.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{bearer_client, TestApp, ADMIN_PASSWORD};

crate::both_backends!(
    every_enterprise_route_needs_credentials,
    login_sets_a_strict_http_only_session_cookie,
    wrong_password_and_unknown_user_get_the_same_401,
    logout_ends_the_session,
    cookie_mutation_without_csrf_is_403_and_changes_nothing,
    cookie_mutation_with_a_wrong_csrf_token_is_403,
    bearer_token_works_without_csrf,
    unknown_or_malformed_bearer_tokens_are_401,
);

const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/enterprise/stats"),
    ("GET", "/api/enterprise/customers"),
    ("POST", "/api/enterprise/create-license"),
    ("POST", "/api/enterprise/revoke-license"),
    (
        "GET",
        "/api/enterprise/customer/demo-install-abc123456789abcdef/profile",
    ),
    (
        "POST",
        "/api/enterprise/customer/demo-install-abc123456789abcdef/update-tier",
    ),
    (
        "POST",
        "/api/enterprise/customer/demo-install-abc123456789abcdef/suspend",
    ),
    (
        "POST",
        "/api/enterprise/customer/demo-install-abc123456789abcdef/reactivate",
    ),
    (
        "POST",
        "/api/enterprise/customer/demo-install-abc123456789abcdef/activate",
    ),
    (
        "POST",
        "/api/enterprise/customer/demo-install-abc123456789abcdef/renew",
    ),
    (
        "POST",
        "/api/enterprise/customer/demo-install-abc123456789abcdef/extend-trial",
    ),
    (
        "PATCH",
        "/api/enterprise/customer/demo-install-abc123456789abcdef",
    ),
    ("GET", "/api/enterprise/plans"),
    ("PUT", "/api/enterprise/plans/pro"),
    ("GET", "/api/enterprise/audit"),
    ("GET", "/api/auth/me"),
    ("POST", "/api/auth/logout"),
];

async fn every_enterprise_route_needs_credentials(app: &TestApp) {
    let anon = app.anon();
    for (method, path) in ROUTES {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let resp = anon
            .client
            .request(method.clone(), format!("{}{path}", app.base))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated", "{method} {path}");
    }
}

async fn login_sets_a_strict_http_only_session_cookie(app: &TestApp) {
    let resp = app
        .anon()
        .client
        .post(format!("{}/api/auth/login", app.base))
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("calos_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(attr), "{attr} missing in {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "not configured for TLS: {cookie}"
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["admin"]["username"], "admin");
    assert_eq!(body["admin"]["role"], "owner");
    assert!(body["csrfToken"].as_str().unwrap().len() >= 32);
    assert!(body["admin"].get("passwordHash").is_none());

    let admin = app.admin().await;
    let me = admin.get("/api/auth/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        (
            me.body["admin"]["username"].as_str(),
            me.body["via"].as_str()
        ),
        (Some("admin"), Some("session"))
    );
}

async fn wrong_password_and_unknown_user_get_the_same_401(app: &TestApp) {
    let anon = app.anon();
    let wrong = anon
        .post(
            "/api/auth/login",
            &json!({ "username": "admin", "password": "nope nope nope" }),
        )
        .await;
    wrong.assert_error(401, "unauthenticated");
    assert!(wrong.headers.get("set-cookie").is_none());
    let unknown = anon
        .post(
            "/api/auth/login",
            &json!({ "username": "mallory", "password": "nope nope nope" }),
        )
        .await;
    unknown.assert_error(401, "unauthenticated");
    assert_eq!(
        wrong.body, unknown.body,
        "the answer must not reveal which usernames exist"
    );
}

async fn logout_ends_the_session(app: &TestApp) {
    let admin = app.admin().await;
    assert_eq!(
        admin.get("/api/enterprise/stats").await.status,
        StatusCode::OK
    );
    let out = admin.post_empty("/api/auth/logout").await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    admin
        .get("/api/enterprise/stats")
        .await
        .assert_error(401, "unauthenticated");
}

async fn cookie_mutation_without_csrf_is_403_and_changes_nothing(app: &TestApp) {
    let admin = app.admin().await;
    let before = app.snapshot(&admin).await;
    let body = json!({ "customer": { "name": "Eve", "email": "eve@example.com" }, "tier": "pro" });
    admin
        .post_without_csrf("/api/enterprise/create-license", &body)
        .await
        .assert_error(403, "csrf");
    assert_eq!(app.snapshot(&admin).await, before);
}

async fn cookie_mutation_with_a_wrong_csrf_token_is_403(app: &TestApp) {
    let mut admin = app.admin().await;
    admin.csrf = Some("not-the-token".into());
    let body = json!({ "customer": { "name": "Eve", "email": "eve@example.com" }, "tier": "pro" });
    admin
        .post("/api/enterprise/create-license", &body)
        .await
        .assert_error(403, "csrf");
}

async fn bearer_token_works_without_csrf(app: &TestApp) {
    let api = app.token_client().await;
    let me = api.get("/api/auth/me").await;
    assert_eq!(me.body["via"], "token");
    let created = app.create_license(&api, "pro", json!({})).await;
    let id = created["installId"].as_str().unwrap();
    let audit = api
        .get(&format!(
            "/api/enterprise/audit?targetType=license&targetId={id}"
        ))
        .await;
    assert_eq!(audit.body["audit"][0]["actorLabel"], "token:tests");
    assert_eq!(audit.body["audit"][0]["actor"]["kind"], "api_token");
}

async fn unknown_or_malformed_bearer_tokens_are_401(app: &TestApp) {
    let fake = format!("calos_at_{}", "0".repeat(64));
    for token in [fake.as_str(), "garbage", ""] {
        bearer_client(&app.base, token)
            .get("/api/enterprise/stats")
            .await
            .assert_error(401, "unauthenticated");
    }
}
