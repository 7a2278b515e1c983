//! Hardening: security headers on every kind of response, CORS closed, static
//! assets never reaching the disk, and secrets (license key, password, API
//! token, session) never in the logs.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::json;
use tokio::process::Command;

use crate::helpers::{bearer_client, TestApp};

crate::both_backends!(
    every_response_carries_security_headers_and_no_cors,
    asset_paths_never_reach_the_disk,
);

const JSON_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

#[track_caller]
fn assert_hardened(what: &str, h: &HeaderMap, json: bool) {
    let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert!(
        get("content-security-policy").contains("frame-ancestors 'none'"),
        "{what}"
    );
    assert!(!get("referrer-policy").is_empty(), "{what}");
    if json {
        assert_eq!(get("content-security-policy"), JSON_CSP, "{what}");
        assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    }
    // Plain HTTP test server: HSTS would be wrong here.
    assert!(h.get("strict-transport-security").is_none(), "{what}");
    assert!(
        h.get("access-control-allow-origin").is_none(),
        "{what}: CORS is closed"
    );
    assert!(
        h.get("access-control-allow-credentials").is_none(),
        "{what}"
    );
}

async fn every_response_carries_security_headers_and_no_cors(app: &TestApp) {
    let anon = app.anon();
    let token = app.token_client().await;
    let cases = [
        ("healthz", anon.get("/healthz").await),
        ("jwks", anon.get("/.well-known/jwks.json").await),
        ("admin json", token.get("/api/enterprise/stats").await),
        ("401", anon.get("/api/enterprise/stats").await),
        ("404", anon.get("/no/such/route").await),
        (
            "verify 4xx",
            anon.post("/api/v1/license/verify", &json!({})).await,
        ),
        (
            "telemetry 4xx",
            anon.post("/api/v1/telemetry", &json!({})).await,
        ),
    ];
    for (what, resp) in &cases {
        assert_hardened(what, &resp.headers, true);
    }
    let page = anon.get("/login").await;
    assert_eq!(page.status.as_u16(), 200);
    assert_hardened("login page", &page.headers, false);

    // A cross-origin preflight and a cross-origin request get no CORS grant.
    let client = reqwest::Client::new();
    let preflight = client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/enterprise/stats", app.base),
        )
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(!preflight.status().is_success(), "{}", preflight.status());
    assert_hardened("preflight", preflight.headers(), true);
    let cross = client
        .get(format!("{}/healthz", app.base))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_hardened("cross-origin GET", cross.headers(), true);
}

/// Sends a GET with `target` exactly as written (a client library would
/// normalise `..` away) and returns the status (0: no answer) and the text.
async fn raw_get(base: &str, target: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    let mut req = b"GET ".to_vec();
    req.extend_from_slice(target);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(&req).await.unwrap();
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Traversal in every spelling gets 404 (or 400 where the HTTP parser
/// already refuses the bytes), never a file: assets are embedded.
async fn asset_paths_never_reach_the_disk(app: &TestApp) {
    let (ok, css) = raw_get(&app.base, b"/assets/app.css").await;
    assert_eq!(ok, 200, "{css}");
    let encoded: &[&[u8]] = &[
        b"/assets/..%2fCargo.toml",
        b"/assets/%2e%2e%2fCargo.toml",
        b"/assets/%2e%2e/%2e%2e/Cargo.toml",
        b"/assets/%2E%2E%2F%2E%2E%2FCargo.toml",
        b"/assets/..%5cCargo.toml",
        b"/assets/%5c..%5c..%5cCargo.toml",
        b"/assets/%2fetc%2fpasswd",
        b"/assets//etc/passwd",
        b"/assets/C:%5cWindows%5cwin.ini",
        b"/assets/app.css%00.txt",
        b"/assets/%00",
        b"/assets/.%2fapp.css",
        b"/assets/..%252fCargo.toml",
    ];
    let raw: &[&[u8]] = &[
        b"/assets/../Cargo.toml",
        b"/assets/../../Cargo.toml",
        b"/assets/../../../../../../etc/passwd",
        b"/assets/..\\Cargo.toml",
        b"/assets/app.css\0",
    ];
    for (target, strict) in encoded
        .iter()
        .map(|t| (t, true))
        .chain(raw.iter().map(|t| (t, false)))
    {
        let shown = String::from_utf8_lossy(target);
        let (status, text) = raw_get(&app.base, target).await;
        if strict {
            assert_eq!(status, 404, "{shown}: {text}");
        } else {
            assert!(matches!(status, 400 | 404), "{shown}: {text}");
        }
        for leaked in ["[package]", "root:", "[dependencies]", "fn main"] {
            assert!(!text.contains(leaked), "{shown} served a file: {text}");
        }
    }
}

use crate::binary;
const PASSWORD: &str = "log-test-password-8c1f";

fn calos(dir: &Path) -> Command {
    let mut cmd = binary::calos(dir, PASSWORD);
    // Everything, sqlx statements and request headers included.
    cmd.env("RUST_LOG", "debug");
    cmd
}

/// A full flow against the real binary logging at debug level: login, API
/// token, license, verify, telemetry. None of the secrets may reach the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_debug_logs() {
    let dir = tempfile::tempdir().unwrap();
    let setup = calos(dir.path()).arg("setup").output().await.unwrap();
    assert!(
        setup.status.success(),
        "{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let log_path = dir.path().join("serve.log");
    let (mut server, base) = binary::serve(
        calos(dir.path()),
        Stdio::from(std::fs::File::create(&log_path).unwrap()),
    )
    .await;

    let session = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = session
        .post(format!("{base}/api/auth/login"))
        .json(&json!({ "username": "admin", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .and_then(|c| c.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap();
    let login: serde_json::Value = login.json().await.unwrap();
    let csrf = login["csrfToken"].as_str().unwrap().to_owned();
    // A failed login with the real password for another name: still not logged.
    session
        .post(format!("{base}/api/auth/login"))
        .json(&json!({ "username": "nobody", "password": PASSWORD }))
        .send()
        .await
        .unwrap();

    let made: serde_json::Value = session
        .post(format!("{base}/api/enterprise/tokens"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({ "name": "log-test" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = made["secret"].as_str().unwrap().to_owned();
    let api = bearer_client(&base, &token);
    let created = api
        .post(
            "/api/enterprise/create-license",
            &json!({ "customer": { "name": "Log Test", "email": "log@example.com" }, "tier": "pro" }),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    let install = created.body["installId"].as_str().unwrap().to_owned();
    let key = created.body["licenseKey"].as_str().unwrap().to_owned();
    let verified = api
        .post(
            "/api/v1/license/verify",
            &json!({ "installId": install, "licenseKey": key, "instanceId": "i-1",
                     "version": "1.0.0", "nonce": uuid::Uuid::new_v4().simple().to_string() }),
        )
        .await;
    assert_eq!(verified.status.as_u16(), 200, "{}", verified.body);
    let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let telemetry = api
        .post(
            "/api/v1/telemetry",
            &json!({ "installId": install, "licenseKey": key, "events": [
                { "eventId": "e-1", "type": "feature_use", "ts": ts, "feature": "pos" } ] }),
        )
        .await;
    assert!(telemetry.status.is_success(), "{}", telemetry.body);
    // A wrong key, too: rejections must not echo what was sent.
    api.post(
        "/api/v1/license/verify",
        &json!({ "installId": install, "licenseKey": format!("{key}x"), "instanceId": "i-1",
                 "version": "1.0.0", "nonce": uuid::Uuid::new_v4().simple().to_string() }),
    )
    .await;

    let pid = server.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(20), server.wait())
        .await
        .expect("serve exits")
        .unwrap();

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("DEBUG"), "logging ran at debug level:\n{log}");
    assert!(
        log.contains("/api/v1/license/verify"),
        "the flow was logged"
    );
    for (what, secret) in [
        ("license key", key.as_str()),
        ("password", PASSWORD),
        ("API token", token.as_str()),
        ("session cookie", cookie.as_str()),
        ("CSRF token", csrf.as_str()),
    ] {
        assert!(!log.contains(secret), "the {what} appears in the logs");
    }
}
