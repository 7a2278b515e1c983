//! An in-test CALOS server on loopback port 0 that signs with its own
//! Ed25519 keys, so every answer the SDK sees is under the test's control.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use calos_client::{Client, ClientBuilder, ManualClock};
use calos_core::plan::{Limit, Meter};
use calos_core::protocol::{LicenseClaims, TelemetryAck, VerifyRequest, ISSUER};
use calos_core::verdict::VerdictCode;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

pub const INSTALL: &str = "demo-install-abc123456789abcdef";
pub const KEY: &str = "calos_lk_secret";
/// A fixed start time for the manual clock.
pub const T0: i64 = 1_800_000_000;
pub const LEASE: i64 = 7 * 24 * 3600;
pub const GRACE: i64 = 7 * 24 * 3600;

/// An Ed25519 signing key with its kid and public JWK.
#[derive(Clone)]
pub struct Signer {
    pub kid: String,
    pub key: EncodingKey,
    pub jwk: Value,
}

impl Signer {
    pub fn new(kid: &str) -> Self {
        let sk = ed25519_dalek::SigningKey::from_bytes(&rand::random::<[u8; 32]>());
        let der = sk.to_pkcs8_der().unwrap();
        let x = URL_SAFE_NO_PAD.encode(sk.verifying_key().to_bytes());
        Self {
            kid: kid.to_owned(),
            key: EncodingKey::from_ed_der(der.as_bytes()),
            jwk: json!({"kty":"OKP","crv":"Ed25519","x":x,"kid":kid,"alg":"EdDSA","use":"sig"}),
        }
    }

    pub fn sign(&self, claims: &LicenseClaims) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

/// How the fake answers one verify request.
pub type VerifyFn = Box<dyn Fn(&Fake, &VerifyRequest) -> Reply + Send + Sync>;

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn token(token: String) -> Self {
        Self::json(200, json!({ "token": token }))
    }
    pub fn json(status: u16, v: Value) -> Self {
        Self {
            status,
            headers: vec![],
            body: serde_json::to_vec(&v).unwrap(),
        }
    }
    pub fn raw(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![],
            body,
        }
    }
}

pub struct Fake {
    pub clock: ManualClock,
    pub signer: Mutex<Signer>,
    /// Keys published at the JWKS endpoint.
    pub published: Mutex<Vec<Value>>,
    pub verify: Mutex<VerifyFn>,
    pub verify_requests: Mutex<Vec<VerifyRequest>>,
    pub jwks_fetches: AtomicUsize,
    /// Statuses for the next telemetry POSTs (then 200 with an ack).
    pub telemetry_script: Mutex<VecDeque<(u16, Option<u64>)>>,
    pub telemetry_bodies: Mutex<Vec<Value>>,
}

impl Fake {
    /// A valid answer for `req`, signed by the current key.
    pub fn valid_claims(&self, req: &VerifyRequest) -> LicenseClaims {
        let now = self.clock.now_secs();
        LicenseClaims {
            iss: ISSUER.into(),
            install_id: req.install_id.clone(),
            instance_id: req.instance_id.clone(),
            valid: true,
            code: VerdictCode::Valid,
            message: "license valid".into(),
            warning: None,
            tier: "pro".into(),
            tier_name: "Pro".into(),
            features: vec!["crypto".into(), "pos".into()],
            limits: BTreeMap::from([(Meter::ApiRequests, Limit::Max(10_000))]),
            allowed_domains: vec![],
            iat: now,
            exp: now + LEASE,
            grace_until: now + LEASE + GRACE,
            refresh_after: now + 900,
            nonce: req.nonce.clone(),
            verification_interval: 168,
            period_end: None,
            branding_level: None,
            branding_version: None,
        }
    }

    pub fn revoked_claims(&self, req: &VerifyRequest) -> LicenseClaims {
        let now = self.clock.now_secs();
        LicenseClaims {
            valid: false,
            code: VerdictCode::Revoked,
            message: "license revoked".into(),
            exp: now,
            grace_until: now,
            ..self.valid_claims(req)
        }
    }

    pub fn sign(&self, claims: &LicenseClaims) -> String {
        self.signer.lock().unwrap().sign(claims)
    }

    pub fn set_verify(&self, f: impl Fn(&Fake, &VerifyRequest) -> Reply + Send + Sync + 'static) {
        *self.verify.lock().unwrap() = Box::new(f);
    }

    pub fn verify_count(&self) -> usize {
        self.verify_requests.lock().unwrap().len()
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": self.published.lock().unwrap().clone() })
    }
}

trait NowSecs {
    fn now_secs(&self) -> i64;
}
impl NowSecs for ManualClock {
    fn now_secs(&self) -> i64 {
        calos_client::Clock::now(self)
    }
}

pub struct FakeServer {
    pub fake: Arc<Fake>,
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeServer {
    pub async fn start() -> Self {
        let signer = Signer::new("k1");
        let fake = Arc::new(Fake {
            clock: ManualClock::new(T0),
            published: Mutex::new(vec![signer.jwk.clone()]),
            signer: Mutex::new(signer),
            verify: Mutex::new(Box::new(|f, req| {
                Reply::token(f.sign(&f.valid_claims(req)))
            })),
            verify_requests: Mutex::new(vec![]),
            jwks_fetches: AtomicUsize::new(0),
            telemetry_script: Mutex::new(VecDeque::new()),
            telemetry_bodies: Mutex::new(vec![]),
        });
        let app = Router::new()
            .route("/api/v1/license/verify", post(verify))
            .route("/.well-known/jwks.json", get(jwks))
            .route("/api/v1/telemetry", post(telemetry))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Self {
            fake,
            base,
            stop: Some(tx),
        }
    }

    /// A builder for this server with pinned keys and the shared manual clock.
    pub fn builder(&self) -> ClientBuilder {
        self.builder_unpinned()
            .trusted_keys_json(&self.fake.jwks().to_string())
    }

    /// A builder that fetches the JWKS.
    pub fn builder_unpinned(&self) -> ClientBuilder {
        Client::builder()
            .server(&self.base)
            .install_id(INSTALL)
            .license_key(KEY)
            .clock(Arc::new(self.fake.clock.clone()))
            .startup_timeout(std::time::Duration::from_secs(5))
            .request_timeout(std::time::Duration::from_secs(5))
            .backoff(
                std::time::Duration::from_millis(50),
                std::time::Duration::from_secs(2),
            )
    }

    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn verify(State(fake): State<Arc<Fake>>, body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<VerifyRequest>(&body) else {
        return (StatusCode::BAD_REQUEST, "bad request").into_response();
    };
    fake.verify_requests.lock().unwrap().push(req.clone());
    let reply = (fake.verify.lock().unwrap())(&fake, &req);
    to_response(reply)
}

async fn jwks(State(fake): State<Arc<Fake>>) -> Response {
    fake.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    axum::Json(fake.jwks()).into_response()
}

async fn telemetry(State(fake): State<Arc<Fake>>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap();
    let n = v["events"].as_array().map_or(0, |a| a.len()) as u64;
    fake.telemetry_bodies.lock().unwrap().push(v);
    let scripted = fake.telemetry_script.lock().unwrap().pop_front();
    match scripted {
        Some((status, retry_after)) => {
            let mut reply = Reply::json(
                status,
                json!({"error":{"code":"SCRIPTED","message":"scripted failure"}}),
            );
            if let Some(s) = retry_after {
                reply.headers.push(("retry-after", s.to_string()));
            }
            to_response(reply)
        }
        None => axum::Json(TelemetryAck {
            accepted: n,
            duplicates: 0,
            rejected: vec![],
        })
        .into_response(),
    }
}

fn to_response(reply: Reply) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    for (k, v) in reply.headers {
        headers.insert(k, HeaderValue::from_str(&v).unwrap());
    }
    (
        StatusCode::from_u16(reply.status).unwrap(),
        headers,
        reply.body,
    )
        .into_response()
}
