//! Helpers for the verify tests: licenses with their keys, verify requests,
//! and token checks against the served JWKS with a standard JOSE library.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{json, Value};

use calos_core::ids::InstallId;
use calos_core::license::License;
use calos_core::protocol::LicenseClaims;

use crate::client::Resp;
use crate::helpers::TestApp;

pub struct Install {
    pub install_id: String,
    pub license_key: String,
}

pub async fn new_install(app: &TestApp, tier: &str, extra: Value) -> Install {
    let admin = app.admin().await;
    let body = app.create_license(&admin, tier, extra).await;
    Install {
        install_id: body["installId"].as_str().unwrap().to_owned(),
        license_key: body["licenseKey"].as_str().unwrap().to_owned(),
    }
}

pub fn request(i: &Install, instance: &str, domain: Option<&str>) -> Value {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let mut body = json!({
        "installId": i.install_id,
        "licenseKey": i.license_key,
        "instanceId": instance,
        "version": "1.2.3",
        "nonce": nonce,
    });
    if let Some(d) = domain {
        body["domain"] = json!(d);
    }
    body
}

pub async fn post_verify(base: &str, body: &Value) -> Resp {
    let api = crate::client::Api {
        client: reqwest::Client::new(),
        base: base.to_owned(),
        csrf: None,
    };
    api.post("/api/v1/license/verify", body).await
}

pub async fn jwks(base: &str) -> JwkSet {
    reqwest::get(format!("{base}/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Verifies `token` against the JWKS at `base` (as any client would) and
/// returns its claims; `Err` when it does not verify.
pub async fn check_token(base: &str, token: &str) -> Result<LicenseClaims, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let set = jwks(base).await;
    let jwk = set.find(&kid).ok_or("unknown kid")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    // Refusals carry exp = iat (they lease nothing); expiry is the SDK's call.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<LicenseClaims>(token, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

/// Posts a verify request, expects 200, checks the signature and the nonce.
pub async fn verify_ok(base: &str, body: &Value) -> LicenseClaims {
    let resp = post_verify(base, body).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    let token = resp.body["token"].as_str().expect("token");
    let claims = check_token(base, token).await.expect("token verifies");
    assert_eq!(claims.nonce, body["nonce"].as_str().unwrap());
    assert_eq!(
        resp.body["code"],
        serde_json::to_value(claims.code).unwrap()
    );
    claims
}

/// Changes a stored license behind the API's back (to put it in the past),
/// then drops it from the cache as any change would.
pub async fn set_license(app: &TestApp, install_id: &str, change: impl FnOnce(&mut License)) {
    let id = InstallId::parse(install_id).unwrap();
    let store = app.store();
    let mut l = store.get_license(&id).await.unwrap().unwrap();
    change(&mut l);
    let audit = calos_core::audit::AuditEntry {
        at: chrono::Utc::now(),
        actor: calos_core::audit::Actor::System,
        action: "test.change".into(),
        target_type: "license".into(),
        target_id: install_id.into(),
        before: None,
        after: None,
        ip: None,
    };
    store.update_license(&l, &audit).await.unwrap();
    app.state.license_cache.invalidate(install_id);
}

/// A second server on the same database (another "node"), with its own
/// caches and limits; `tweak` adjusts its configuration.
pub struct Node {
    pub base: String,
    pub state: calos_server::app::AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Node {
    pub async fn spawn(
        app: &TestApp,
        tweak: impl FnOnce(&mut calos_server::config::Config),
    ) -> Node {
        let mut config = (*app.state.config).clone();
        config.port = 0;
        tweak(&mut config);
        let (listener, addr, state) = calos_server::app::build(config).await.expect("build node");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(calos_server::app::run(
            listener,
            state.clone(),
            async move {
                let _ = rx.await;
            },
        ));
        Node {
            base: format!("http://{addr}"),
            state,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let outcome = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
            assert!(
                matches!(outcome, Ok(Ok(Ok(())))),
                "node did not stop cleanly: {outcome:?}"
            );
        }
    }
}
