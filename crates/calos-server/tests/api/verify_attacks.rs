//! What the seed's verifier got wrong, and bad input on the verify endpoint.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::json;

use calos_core::verdict::VerdictCode;

use crate::client::raw_request;
use crate::helpers::TestApp;
use crate::verify_support::{check_token, new_install, post_verify, request, verify_ok};

const VERIFY: &str = "/api/v1/license/verify";

crate::both_backends!(
    answers_are_signed_and_tampering_breaks_them,
    the_install_id_alone_proves_nothing,
    a_local_looking_host_or_domain_grants_nothing,
    garbage_json_is_400,
    empty_body_is_400,
    ten_megabyte_body_is_413,
    missing_and_unknown_fields_are_422,
    oversized_fields_are_422,
    unknown_install_never_fails_open,
);

async fn answers_are_signed_and_tampering_breaks_them(app: &TestApp) {
    let i = new_install(app, "community", json!({ "trialDays": 0 })).await;
    let body = request(&i, "n", None);
    let resp = post_verify(&app.base, &body).await;
    let token = resp.body["token"].as_str().unwrap().to_owned();
    let claims = check_token(&app.base, &token).await.unwrap();
    assert_eq!(claims.tier, "community");
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert!(header["kid"].is_string());

    // Raising the tier in the payload (what the seed's plain-JSON cache allowed).
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["tier"] = json!("enterprise");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    );
    assert!(check_token(&app.base, &forged).await.is_err());
    // A replay under another nonce fails the same way.
    payload["tier"] = json!("community");
    payload["nonce"] = json!("another-nonce");
    let replayed = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    );
    assert!(check_token(&app.base, &replayed).await.is_err());
    // alg: none with no signature.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    assert!(check_token(&app.base, &none).await.is_err());
}

async fn the_install_id_alone_proves_nothing(app: &TestApp) {
    let i = new_install(app, "enterprise", json!({ "trialDays": 0 })).await;
    let mut body = request(&i, "n", None);
    body["licenseKey"] = json!("");
    post_verify(&app.base, &body)
        .await
        .assert_error(422, "invalid_field");
    body["licenseKey"] = json!(i.install_id);
    let c = verify_ok(&app.base, &body).await;
    assert_eq!(c.code, VerdictCode::BadLicenseKey);
    assert!(c.features.is_empty() && !c.valid);
}

async fn a_local_looking_host_or_domain_grants_nothing(app: &TestApp) {
    // The seed granted "development" to any request whose Host looked local.
    let i = new_install(
        app,
        "pro",
        json!({ "trialDays": 0, "domains": ["shop.acme.com"] }),
    )
    .await;
    let body = request(&i, "n", Some("localhost"));
    let client = reqwest::Client::new();
    for host in ["localhost", "127.0.0.1", "dev.local"] {
        let resp = client
            .post(format!("{}{VERIFY}", app.base))
            .header(reqwest::header::HOST, host)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let v: serde_json::Value = resp.json().await.unwrap();
        let c = check_token(&app.base, v["token"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(c.code, VerdictCode::DomainNotAllowed, "{host}");
        assert_eq!(c.tier, "pro");
        assert!(!c.valid);
    }
    let mut unknown = request(&i, "n", Some("localhost"));
    unknown["installId"] = json!("localhost-dev-install");
    let c = verify_ok(&app.base, &unknown).await;
    assert_eq!(
        (c.code, c.tier.as_str()),
        (VerdictCode::BadLicenseKey, "none")
    );
}

async fn garbage_json_is_400(app: &TestApp) {
    let r = app
        .anon()
        .post_raw(VERIFY, "{\"installId\": nope", Some("application/json"))
        .await;
    r.assert_error(400, "malformed_json");
    assert!(r.body.get("token").is_none());
}

async fn empty_body_is_400(app: &TestApp) {
    let r = app
        .anon()
        .post_raw(VERIFY, "", Some("application/json"))
        .await;
    r.assert_error(400, "malformed_json");
}

async fn ten_megabyte_body_is_413(app: &TestApp) {
    let head = format!(
        "POST {VERIFY} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        10 * 1024 * 1024
    );
    raw_request(&app.base, head.as_bytes())
        .await
        .assert_error(413, "body_too_large");
}

async fn missing_and_unknown_fields_are_422(app: &TestApp) {
    let i = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    let mut body = request(&i, "n", None);
    body.as_object_mut().unwrap().remove("nonce");
    post_verify(&app.base, &body)
        .await
        .assert_error(422, "invalid_body");
    let mut body = request(&i, "n", None);
    body["tier"] = json!("enterprise");
    post_verify(&app.base, &body)
        .await
        .assert_error(422, "invalid_body");
    let r = app
        .anon()
        .post_raw(
            VERIFY,
            serde_json::to_vec(&request(&i, "n", None)).unwrap(),
            Some("text/plain"),
        )
        .await;
    r.assert_error(415, "unsupported_media_type");
}

async fn oversized_fields_are_422(app: &TestApp) {
    let i = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    for (field, value) in [
        ("instanceId", json!("x".repeat(129))),
        ("instanceId", json!("")),
        ("nonce", json!("n".repeat(257))),
        ("version", json!("v\u{0}1")),
        ("domain", json!("d".repeat(300))),
    ] {
        let mut body = request(&i, "n", None);
        body[field] = value;
        post_verify(&app.base, &body)
            .await
            .assert_error(422, "invalid_field");
    }
}

async fn unknown_install_never_fails_open(app: &TestApp) {
    // The seed fell back to a free tier on any error; an install it could
    // not find got "community". Ours grants nothing and leases nothing.
    let body = json!({
        "installId": "never-created-install",
        "licenseKey": format!("calos_lk_{}", "a".repeat(64)),
        "instanceId": "n",
        "nonce": "abc",
    });
    let c = verify_ok(&app.base, &body).await;
    assert!(!c.valid);
    assert_eq!(c.tier, "none");
    assert!(c.features.is_empty() && c.limits.is_empty());
    assert!(c.exp <= c.iat && c.grace_until <= c.iat);
}
