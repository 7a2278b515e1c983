//! Support for the login-protection tests: clients on their own loopback
//! address (the throttle keys on the client IP), logins that keep the
//! session cookie, TOTP codes computed with the same crate as the server.

use std::net::IpAddr;

use reqwest::StatusCode;
use serde_json::json;

use calos_core::audit::AuditEntry;
use calos_store::AuditQuery;

use crate::client::{Api, Resp};
use crate::helpers::TestApp;

/// A client whose connections come from `ip` (any 127.x.y.z works on Linux),
/// with a cookie store.
pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// An `Api` over `client` with no session yet.
pub fn api(app: &TestApp, client: reqwest::Client) -> Api {
    Api {
        client,
        base: app.base.clone(),
        csrf: None,
    }
}

/// Posts a login from `api`; on success the API carries the CSRF token.
pub async fn login(api: &mut Api, username: &str, password: &str) -> Resp {
    let resp = api
        .post(
            "/api/auth/login",
            &json!({ "username": username, "password": password }),
        )
        .await;
    if let Some(csrf) = resp.body["csrfToken"].as_str() {
        api.csrf = Some(csrf.to_owned());
    }
    resp
}

/// A fresh client on `ip`, logged in; panics unless the login succeeds.
pub async fn logged_in(app: &TestApp, ip: &str, username: &str, password: &str) -> Api {
    let mut a = api(app, client_from(ip));
    let resp = login(&mut a, username, password).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    a
}

/// The `calos_session` value a response sets, if any.
pub fn session_cookie(resp: &Resp) -> Option<String> {
    resp.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("calos_session="))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
        .filter(|v| !v.is_empty())
}

/// `GET /api/auth/me` with only this cookie value.
pub async fn me_with_cookie(app: &TestApp, value: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{}/api/auth/me", app.base))
        .header("cookie", format!("calos_session={value}"))
        .send()
        .await
        .unwrap()
        .status()
}

/// The generator for a secret the server showed at enrolment.
pub fn authenticator(secret_base32: &str) -> totp_rs::TOTP {
    let secret = totp_rs::Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        secret,
        None,
        String::new(),
    )
    .unwrap()
}

/// The code for `steps_ahead` 30-second steps from now.
pub fn code(totp: &totp_rs::TOTP, steps_ahead: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp.generate(now + 30 * steps_ahead)
}

/// Enrols and confirms TOTP for the admin behind `api`; returns the
/// authenticator and the code that confirmed it (used up).
pub async fn enable_totp(api: &Api) -> (totp_rs::TOTP, String) {
    let enrol = api.post_empty("/api/auth/totp/enrol").await;
    assert_eq!(enrol.status, StatusCode::OK, "{}", enrol.body);
    let totp = authenticator(enrol.body["secret"].as_str().unwrap());
    let used = code(&totp, 0);
    let confirm = api
        .post("/api/auth/totp/confirm", &json!({ "code": used }))
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    (totp, used)
}

/// Audit records about the admin `username` with `action`, newest first.
pub async fn audited(app: &TestApp, username: &str, action: &str) -> Vec<AuditEntry> {
    app.store()
        .list_audit(&AuditQuery {
            target_type: Some("admin".to_owned()),
            target_id: Some(username.to_owned()),
            limit: 1000,
        })
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry)
        .filter(|e| e.action == action)
        .collect()
}
