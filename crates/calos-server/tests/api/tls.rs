//! HTTPS: the built binary with a self-signed certificate made here serves
//! TLS with HSTS and `Secure` session cookies, `calos verify-token --jwks
//! https://…` checks a verdict against it, SIGTERM still shuts it down
//! cleanly, and a bad certificate or key stops `serve` with a clear error.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

use crate::binary;
use crate::client::Api;

const PASSWORD: &str = "tls-test-password-51a0";

/// A self-signed certificate for localhost and 127.0.0.1, written as PEM
/// files in `dir`; returns (cert path, key path, cert PEM).
fn self_signed(dir: &Path, stem: &str) -> (PathBuf, PathBuf, String) {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_pem = made.cert.pem();
    let cert = dir.join(format!("{stem}-cert.pem"));
    let key = dir.join(format!("{stem}-key.pem"));
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    (cert, key, cert_pem)
}

/// A client trusting only `cert_pem`, over rustls.
fn trusting(cert_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .cookie_store(true)
        .build()
        .unwrap()
}

async fn setup(dir: &Path) {
    let out = binary::calos(dir, PASSWORD)
        .arg("setup")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_hsts_secure_cookies_and_verify_token_over_https() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path()).await;
    let (cert, key, cert_pem) = self_signed(dir.path(), "server");
    let mut cmd = binary::calos(dir.path(), PASSWORD);
    cmd.env("CALOS_TLS_CERT", &cert).env("CALOS_TLS_KEY", &key);
    let (mut server, base) = binary::serve(cmd, Stdio::null()).await;
    assert!(base.starts_with("https://"), "{base}");

    let client = trusting(&cert_pem);
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );

    // Plain HTTP to the TLS port gets no answer a browser could use.
    let plain = reqwest::Client::new()
        .get(base.replace("https://", "http://") + "/healthz")
        .send()
        .await;
    assert!(
        plain.as_ref().map_or(true, |r| !r.status().is_success()),
        "{plain:?}"
    );
    // A client that does not trust the self-signed certificate refuses it.
    let untrusting = reqwest::Client::builder().use_rustls_tls().build().unwrap();
    assert!(untrusting
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_err());

    // The session cookie is Secure once TLS is on.
    let login = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({ "username": "admin", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);
    let cookies: Vec<String> = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(!cookies.is_empty());
    for c in &cookies {
        assert!(c.contains("Secure"), "{c}");
        assert!(c.contains("HttpOnly"), "{c}");
    }
    let csrf = login.json::<serde_json::Value>().await.unwrap()["csrfToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // A license and a verdict over HTTPS, then verify-token against the HTTPS JWKS.
    let admin = Api {
        client: client.clone(),
        base: base.clone(),
        csrf: Some(csrf),
    };
    let created = admin
        .post(
            "/api/enterprise/create-license",
            &json!({ "customer": { "name": "Tls Test", "email": "tls@example.com" }, "tier": "pro" }),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    let verdict = admin
        .post(
            "/api/v1/license/verify",
            &json!({ "installId": created.body["installId"], "licenseKey": created.body["licenseKey"],
                     "instanceId": "i-1", "version": "1.0.0",
                     "nonce": uuid::Uuid::new_v4().simple().to_string() }),
        )
        .await;
    assert_eq!(verdict.status.as_u16(), 200, "{}", verdict.body);
    let token = verdict.body["token"].as_str().unwrap().to_owned();
    let jwks = format!("{base}/.well-known/jwks.json");

    let checked = binary::calos(dir.path(), PASSWORD)
        .args(["verify-token", &token, "--jwks", &jwks, "--ca-cert"])
        .arg(&cert)
        .output()
        .await
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let claims: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(claims["installId"], created.body["installId"]);

    // Without the CA the same URL is refused, naming the URL.
    let refused = binary::calos(dir.path(), PASSWORD)
        .args(["verify-token", &token, "--jwks", &jwks])
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("cannot fetch") && stderr.contains(&jwks),
        "{stderr}"
    );

    // Graceful shutdown still works with TLS connections open.
    let pid = server.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(20), server.wait())
        .await
        .expect("serve exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

/// Runs `calos serve` with these TLS flags and returns its exit status and stderr.
async fn serve_fails(dir: &Path, flags: &[&Path]) -> (bool, String) {
    let mut cmd = binary::calos(dir, PASSWORD);
    cmd.args(["serve", "--port", "0", "--bind", "127.0.0.1"]);
    for (name, path) in ["--tls-cert", "--tls-key"].iter().zip(flags) {
        cmd.arg(name).arg(path);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("serve exits on its own")
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_certificate_or_key_stops_serve_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing-cert.pem");
    let (ok, err) = serve_fails(dir.path(), &[&missing, &missing]).await;
    assert!(!ok);
    assert!(
        err.contains("cannot load the TLS certificate") && err.contains("missing-cert.pem"),
        "{err}"
    );

    let (cert_a, _, _) = self_signed(dir.path(), "a");
    let (_, key_b, _) = self_signed(dir.path(), "b");
    let (ok, err) = serve_fails(dir.path(), &[&cert_a, &key_b]).await;
    assert!(!ok);
    assert!(err.contains("do not go together"), "{err}");

    // A certificate file given as the key: no private key in it.
    let (ok, err) = serve_fails(dir.path(), &[&cert_a, &cert_a]).await;
    assert!(!ok);
    assert!(err.contains("cannot load the TLS private key"), "{err}");

    // Half a pair is a configuration error.
    let (ok, err) = serve_fails(dir.path(), &[&cert_a]).await;
    assert!(!ok);
    assert!(err.contains("needs its key"), "{err}");
    // Nothing was listening or created: the TLS check comes before the database.
    assert!(!dir.path().join("calos.db").exists());
}
