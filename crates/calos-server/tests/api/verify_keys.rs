//! JWKS shape, key rotation, and `calos verify-token` / `calos keys` on the binary.

use std::path::Path;

use chrono::Utc;
use serde_json::json;
use tokio::process::Command;

use calos_core::verdict::VerdictCode;

use crate::helpers::TestApp;
use crate::verify_support::{check_token, jwks, new_install, post_verify, request, verify_ok};

crate::both_backends!(
    jwks_publishes_okp_ed25519_keys,
    rotation_keeps_old_tokens_verifiable,
    verify_token_cli_accepts_good_and_rejects_bad_tokens,
);

async fn jwks_publishes_okp_ed25519_keys(app: &TestApp) {
    let raw: serde_json::Value = reqwest::get(format!("{}/.well-known/jwks.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = raw["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{raw}");
    let k = &keys[0];
    assert_eq!(k["kty"], "OKP");
    assert_eq!(k["crv"], "Ed25519");
    assert_eq!(k["use"], "sig");
    assert_eq!(k["alg"], "EdDSA");
    assert!(k["kid"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(k["x"].as_str().unwrap().len(), 43, "32 bytes, base64url");
    assert!(k.get("d").is_none(), "never the private key");
}

async fn rotation_keeps_old_tokens_verifiable(app: &TestApp) {
    let i = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    let old = post_verify(&app.base, &request(&i, "n", None)).await;
    let old_token = old.body["token"].as_str().unwrap().to_owned();
    let old_kid = jsonwebtoken::decode_header(&old_token)
        .unwrap()
        .kid
        .unwrap();

    let store = app.store();
    let keys = &app.state.licensing.keys;
    let new_key = keys.sealer().generate(Utc::now()).unwrap();
    let audit = calos_core::audit::AuditEntry {
        at: Utc::now(),
        actor: calos_core::audit::Actor::Cli,
        action: "signing_key.rotate".into(),
        target_type: "signing_key".into(),
        target_id: new_key.kid.clone(),
        before: None,
        after: None,
        ip: None,
    };
    store
        .rotate_signing_key(&new_key, Utc::now() + chrono::Duration::days(800), &audit)
        .await
        .unwrap();
    keys.load(store.as_ref()).await.unwrap();

    let set = jwks(&app.base).await;
    assert_eq!(set.keys.len(), 2);
    assert!(set.find(&old_kid).is_some() && set.find(&new_key.kid).is_some());
    assert_eq!(
        check_token(&app.base, &old_token).await.unwrap().code,
        VerdictCode::Valid
    );
    let fresh = post_verify(&app.base, &request(&i, "n", None)).await;
    let fresh_token = fresh.body["token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(fresh_token)
            .unwrap()
            .kid
            .unwrap(),
        new_key.kid
    );
    assert!(verify_ok(&app.base, &request(&i, "n", None)).await.valid);
}

const BIN: &str = env!("CARGO_BIN_EXE_calos");

fn calos(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("calos.db").display()),
        )
        .env("CALOS_DATA_DIR", dir)
        .env("CALOS_ADMIN_PASSWORD", "keys test password")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// A token and the JWKS of a running test server, the JWKS written to a file.
async fn token_and_jwks_file(app: &TestApp, dir: &Path) -> (String, std::path::PathBuf) {
    let i = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    let resp = post_verify(&app.base, &request(&i, "n", None)).await;
    let set = jwks(&app.base).await;
    let path = dir.join("jwks.json");
    std::fs::write(&path, serde_json::to_vec(&set).unwrap()).unwrap();
    (resp.body["token"].as_str().unwrap().to_owned(), path)
}

async fn verify_token(dir: &Path, token: &str, key_file: &Path) -> std::process::Output {
    calos(dir)
        .args(["verify-token", token, "--key-file"])
        .arg(key_file)
        .output()
        .await
        .unwrap()
}

async fn verify_token_cli_accepts_good_and_rejects_bad_tokens(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let (token, file) = token_and_jwks_file(app, dir.path()).await;
    let ok = verify_token(dir.path(), &token, &file).await;
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(printed["code"], "VALID");

    // One flipped byte in the signature.
    let mut bytes = token.clone().into_bytes();
    let last = bytes.len() - 5;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(bytes).unwrap();
    let out = verify_token(dir.path(), &flipped, &file).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not verify"));

    // alg: none.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = token.split('.').nth(1).unwrap();
    let none = format!("{}.{payload}.", b64.encode(br#"{"alg":"none"}"#));
    assert!(!verify_token(dir.path(), &none, &file)
        .await
        .status
        .success());

    // Signed by a key the JWKS does not hold.
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, br#"{"keys":[]}"#).unwrap();
    let out = verify_token(dir.path(), &token, &empty).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown key"));

    // Garbage.
    assert!(!verify_token(dir.path(), "not.a.token", &file)
        .await
        .status
        .success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_and_list_on_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let setup = calos(dir.path()).arg("setup").output().await.unwrap();
    assert!(
        setup.status.success(),
        "{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let list = |dir: std::path::PathBuf| async move {
        let out = calos(&dir)
            .args(["keys", "list", "--output", "json"])
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let rotate = calos(dir.path())
        .args(["keys", "rotate"])
        .output()
        .await
        .unwrap();
    assert!(
        rotate.status.success(),
        "{}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    let keys = list(dir.path().to_path_buf()).await;
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(keys[0]["state"], "retired (published)");
    assert_eq!(keys[1]["state"], "active");
    assert!(keys[0]["publishUntil"].is_string());
    // Without the master key that sealed them, rotating refuses.
    let out = calos(dir.path())
        .env(
            "CALOS_MASTER_KEY",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [9u8; 32]),
        )
        .args(["keys", "rotate"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        list(dir.path().to_path_buf())
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
