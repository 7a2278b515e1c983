//! TOTP two-factor authentication: enrol (URI + secret, confirmed with a
//! code), the two-step login, no code replay, disable with a code, code
//! guessing throttled, recovery with `calos admin reset-totp`. Codes are
//! computed here with the same crate the server uses.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, ADMIN_PASSWORD};
use crate::login_support::{
    api, audited, authenticator, client_from, code, enable_totp, login, session_cookie,
};

crate::both_backends!(
    enrol_then_log_in_with_password_and_code,
    codes_are_not_replayed_and_wrong_codes_fail_like_passwords,
    disable_needs_a_current_code,
    code_guessing_is_throttled,
    bad_totp_input_is_refused,
    reset_totp_from_the_cli,
);

async fn second_step(app: &TestApp, challenge: &str, code: &str) -> crate::client::Resp {
    api(app, client_from("127.0.0.1"))
        .post(
            "/api/auth/login/totp",
            &json!({ "challenge": challenge, "code": code }),
        )
        .await
}

async fn enrol_then_log_in_with_password_and_code(app: &TestApp) {
    let admin = app.admin().await;
    assert_eq!(admin.get("/api/auth/me").await.body["totpEnabled"], false);
    let enrol = admin.post_empty("/api/auth/totp/enrol").await;
    assert_eq!(enrol.status, StatusCode::OK, "{}", enrol.body);
    let secret = enrol.body["secret"].as_str().unwrap();
    let uri = enrol.body["otpauthUri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/CALOS%20Enterprise:admin?"),
        "{uri}"
    );
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    // Not on until confirmed: login still needs the password only.
    let mut before = api(app, client_from("127.0.0.1"));
    assert_eq!(
        login(&mut before, "admin", ADMIN_PASSWORD).await.status,
        StatusCode::OK
    );

    let totp = authenticator(secret);
    admin
        .post("/api/auth/totp/confirm", &json!({ "code": "000000" }))
        .await
        .assert_error(422, "invalid_field");
    let confirm = admin
        .post("/api/auth/totp/confirm", &json!({ "code": code(&totp, 0) }))
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert_eq!(admin.get("/api/auth/me").await.body["totpEnabled"], true);
    assert_eq!(audited(app, "admin", "admin.totp_enable").await.len(), 1);
    // The secret is stored sealed, never in the clear.
    let admin_id = app
        .store()
        .get_admin_login("admin")
        .await
        .unwrap()
        .unwrap()
        .0
        .id;
    let stored = app.store().totp_factor(admin_id).await.unwrap().unwrap();
    let raw = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    assert!(!stored
        .sealed_secret
        .windows(raw.len())
        .any(|w| w == raw.as_slice()));

    // Password step: no session yet, a challenge instead.
    let mut browser = api(app, client_from("127.0.0.1"));
    let first = login(&mut browser, "admin", ADMIN_PASSWORD).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["totpRequired"], true);
    assert!(session_cookie(&first).is_none());
    let challenge = first.body["challenge"].as_str().unwrap();
    assert!(challenge.len() >= 40);
    // Code step (the next step's code: the current one confirmed enrolment).
    let second = browser
        .post(
            "/api/auth/login/totp",
            &json!({ "challenge": challenge, "code": code(&totp, 1) }),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert!(session_cookie(&second).is_some());
    assert_eq!(browser.get("/api/auth/me").await.status, StatusCode::OK);
    let logins = audited(app, "admin", "admin.login").await;
    assert_eq!(logins[0].after.as_ref().unwrap()["totp"], true);
}

async fn codes_are_not_replayed_and_wrong_codes_fail_like_passwords(app: &TestApp) {
    let admin = app.admin().await;
    let (totp, used) = enable_totp(&admin).await;
    let next = code(&totp, 1);
    let mut browser = api(app, client_from("127.0.0.1"));

    // The code that confirmed enrolment cannot log in.
    let c1 = login(&mut browser, "admin", ADMIN_PASSWORD).await;
    let replay = second_step(app, c1.body["challenge"].as_str().unwrap(), &used).await;
    replay.assert_error(401, "unauthenticated");

    // A wrong code: the same answer as a wrong password; the challenge is spent.
    let c2 = login(&mut browser, "admin", ADMIN_PASSWORD).await;
    let challenge = c2.body["challenge"].as_str().unwrap().to_owned();
    let wrong = second_step(app, &challenge, "123456").await;
    wrong.assert_error(401, "unauthenticated");
    let wrong_password = login(&mut browser, "admin", "not the password").await;
    assert_eq!(wrong.body, wrong_password.body);
    assert!(wrong_password.body.get("challenge").is_none());
    second_step(app, &challenge, &next)
        .await
        .assert_error(401, "unauthenticated");
    let reasons: Vec<_> = audited(app, "admin", "admin.login_failed")
        .await
        .into_iter()
        .map(|e| e.after.unwrap()["reason"].as_str().unwrap().to_owned())
        .collect();
    assert!(reasons.contains(&"wrong_code".to_owned()), "{reasons:?}");

    // A good code logs in once; the same code again does not.
    let c3 = login(&mut browser, "admin", ADMIN_PASSWORD).await;
    let ok = second_step(app, c3.body["challenge"].as_str().unwrap(), &next).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let c4 = login(&mut browser, "admin", ADMIN_PASSWORD).await;
    second_step(app, c4.body["challenge"].as_str().unwrap(), &next)
        .await
        .assert_error(401, "unauthenticated");
}

async fn disable_needs_a_current_code(app: &TestApp) {
    let admin = app.admin().await;
    let (totp, used) = enable_totp(&admin).await;
    admin
        .post("/api/auth/totp/disable", &json!({ "code": "000000" }))
        .await
        .assert_error(422, "invalid_field");
    admin
        .post("/api/auth/totp/disable", &json!({ "code": used }))
        .await
        .assert_error(422, "invalid_field");
    let off = admin
        .post("/api/auth/totp/disable", &json!({ "code": code(&totp, 1) }))
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(admin.get("/api/auth/me").await.body["totpEnabled"], false);
    assert_eq!(audited(app, "admin", "admin.totp_disable").await.len(), 1);
    let mut browser = api(app, client_from("127.0.0.1"));
    let plain = login(&mut browser, "admin", ADMIN_PASSWORD).await;
    assert!(session_cookie(&plain).is_some(), "password alone again");
    admin
        .post("/api/auth/totp/disable", &json!({ "code": code(&totp, 1) }))
        .await
        .assert_error(409, "conflict");
}

async fn code_guessing_is_throttled(app: &TestApp) {
    let admin = app.admin().await;
    enable_totp(&admin).await;
    // The default allows 5 failures; the 6th sets a back-off.
    for _ in 0..6 {
        admin
            .post("/api/auth/totp/disable", &json!({ "code": "999999" }))
            .await
            .assert_error(422, "invalid_field");
    }
    let blocked = admin
        .post("/api/auth/totp/disable", &json!({ "code": "999999" }))
        .await;
    blocked.assert_error(429, "rate_limited");
    assert!(blocked.headers.contains_key("retry-after"));
    // The login code step is held back the same way.
    let mut browser = api(app, client_from("127.0.0.1"));
    login(&mut browser, "admin", ADMIN_PASSWORD)
        .await
        .assert_error(429, "rate_limited");
}

async fn bad_totp_input_is_refused(app: &TestApp) {
    let admin = app.admin().await;
    admin
        .post("/api/auth/totp/confirm", &json!({ "code": "123456" }))
        .await
        .assert_error(404, "not_found");
    admin
        .post("/api/auth/totp/disable", &json!({ "code": "123456" }))
        .await
        .assert_error(409, "conflict");
    admin
        .post("/api/auth/totp/confirm", &json!({ "cod": "123456" }))
        .await
        .assert_error(422, "invalid_body");
    second_step(app, "no-such-challenge", "123456")
        .await
        .assert_error(401, "unauthenticated");
    api(app, client_from("127.0.0.1"))
        .post("/api/auth/login/totp", &json!({ "code": "123456" }))
        .await
        .assert_error(422, "invalid_body");
    let token = app.token_client().await;
    token
        .post_empty("/api/auth/totp/enrol")
        .await
        .assert_error(403, "forbidden");
    app.anon()
        .post_empty("/api/auth/totp/enrol")
        .await
        .assert_error(401, "unauthenticated");
    enable_totp(&admin).await;
    admin
        .post_empty("/api/auth/totp/enrol")
        .await
        .assert_error(409, "conflict");
}

async fn reset_totp_from_the_cli(app: &TestApp) {
    let admin = app.admin().await;
    enable_totp(&admin).await;
    let dir = tempfile::tempdir().unwrap();
    let run = |username: &str| {
        let mut cmd = crate::binary::calos(dir.path(), ADMIN_PASSWORD);
        cmd.env("DATABASE_URL", &app.state.config.database_url)
            .args(["admin", "reset-totp", "--username", username]);
        cmd
    };
    let out = run("admin").output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("removed"));
    // Its sessions ended; the password alone logs in again.
    admin
        .get("/api/auth/me")
        .await
        .assert_error(401, "unauthenticated");
    let mut browser = api(app, client_from("127.0.0.1"));
    let plain = login(&mut browser, "admin", ADMIN_PASSWORD).await;
    assert!(session_cookie(&plain).is_some(), "{}", plain.body);
    assert_eq!(audited(app, "admin", "admin.totp_reset").await.len(), 1);

    let again = run("admin").output().await.unwrap();
    assert!(!again.status.success(), "nothing to reset");
    let unknown = run("nobody").output().await.unwrap();
    assert!(!unknown.status.success());
}
