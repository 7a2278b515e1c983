//! `POST /api/v1/license/verify`: a deployment proves its license and gets a
//! signed verdict. Every verdict, valid or not, is 200 with a token; only a
//! malformed request is a 4xx error. Rate limits answer 429 with
//! `Retry-After` and a signed `RATE_LIMITED` token.
//!
//! Reads come from the in-memory license cache; the writes a request causes
//! (instance, domain, last seen) are batched ([`crate::licensing::writes`]).
//! This is the server's hottest path, so it copies little: the claims
//! borrow from the cache and the request, rate-limit keys are shared or
//! plain addresses, and the stored row is only built when it will be written.

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, BytesMut};
use chrono::Utc;

use calos_core::customer::Domain;
use calos_core::protocol::{LicenseClaimsRef, VerifyRequest};
use calos_core::text::short_printable;
use calos_core::verdict::{decide, InstanceRule, VerdictCode, VerifyFacts};
use calos_core::InvalidValue;
use calos_store::VerifySeen;

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::licensing::keys::ActiveKey;
use crate::licensing::verdict::{licensed_claims, refusal_claims, BAD_CREDENTIALS};
use crate::licensing::AuthFailure;
use crate::ratelimit::RetryAfter;

/// The peer address as an address (not text): the per-IP limiter keys on it
/// without allocating; it becomes text only for a row that gets written.
pub struct PeerIp(Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        ))
    }
}

/// The `User-Agent` header alone (a shared reference to the received bytes):
/// taking the whole `HeaderMap` copied every header of every request, for a
/// value only read when a "last seen" row gets written.
pub struct UserAgent(Option<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(UserAgent(parts.headers.get(header::USER_AGENT).cloned()))
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/license/verify",
    operation_id = "verifyLicense",
    tag = "license",
    summary = "Verify a license: a signed verdict",
    request_body = calos_core::protocol::VerifyRequest,
    responses((status = 200, description = "A signed verdict for every outcome, valid or not: `token` is a compact JWS (`alg: EdDSA`, `kid` in its header, keys at `/.well-known/jwks.json`) whose payload is the `LicenseClaims` schema (see its `code`)", body = calos_core::protocol::VerifyResponse))
)]
pub async fn verify(
    State(state): State<AppState>,
    PeerIp(ip): PeerIp,
    UserAgent(agent): UserAgent,
    Json(req): Json<VerifyRequest>,
) -> ApiResult<Response> {
    check_shape(&req)?;
    let now = Utc::now();
    let licensing = &state.licensing;

    if let Err(wait) = licensing.per_ip.check_key(&ip) {
        tracing::info!(ip = ?ip, "verify rate limited per IP");
        return rate_limited(&state, &req, wait);
    }

    let cached = match state
        .license_cache
        .authenticate(&req.install_id, &req.license_key)
        .await
    {
        Ok(c) => c,
        Err(AuthFailure::Store(e)) => return Err(e.into()),
        Err(failure) => {
            // The truth goes to the log; outside, both read BAD_LICENSE_KEY.
            let truth = match failure {
                AuthFailure::UnknownInstall => VerdictCode::UnknownInstall,
                _ => VerdictCode::BadLicenseKey,
            };
            tracing::info!(install_id = %req.install_id, code = truth.as_str(), ip = ?ip, "verify refused");
            let claims = refusal_claims(truth, BAD_CREDENTIALS, &req, &licensing.policy, now);
            return signed(&state, StatusCode::OK, &claims, None);
        }
    };

    // Per install only after the key is proven: nobody can use up a
    // deployment's allowance by sending wrong keys under its install id.
    let install = &cached.install;
    if let Err(wait) = install.check_rate() {
        tracing::info!(install_id = %req.install_id, "verify rate limited per install");
        return rate_limited(&state, &req, wait);
    }

    // The cache holds the stored license; time may have moved it on since.
    let license = cached.current(now);
    let license = license.as_ref();
    // The domain as sent tells "same as last time" apart from a change; it is
    // parsed (IDNA, one allocation) only when something reads the parsed
    // form: a license limited to domains, or a row to write. A deployment
    // sends the same text each time, so most requests parse nothing.
    let observed = install
        .observe(
            state.store.as_ref(),
            &license.install_id,
            &req.instance_id,
            req.domain.as_deref(),
            now,
            licensing.installs.window,
        )
        .await?;
    let domain = (observed.write || !license.domains.is_empty())
        .then(|| req.domain.as_deref().and_then(|d| Domain::parse(d).ok()))
        .flatten();
    let rule = InstanceRule::for_plan(&cached.plan);
    let decision = decide(
        &VerifyFacts {
            license,
            plan: &cached.plan,
            domain: domain.as_ref(),
            active_instances: observed.active,
            instance_limit: rule.limit,
            over_limit: rule.over_limit,
            now,
        },
        &licensing.policy,
    );
    if observed.write {
        licensing.writes.push(VerifySeen {
            install_id: license.install_id.clone(),
            instance_id: req.instance_id.clone(),
            domain: domain.as_ref().map(|d| d.to_string()),
            version: req.version.clone(),
            ip: ip.map(|ip| ip.to_string()),
            user_agent: user_agent(agent.as_ref()),
            at: now,
        });
    }
    if !decision.valid {
        tracing::info!(install_id = %req.install_id, code = decision.code.as_str(), "verify: not valid");
    }
    let claims = licensed_claims(&cached, license, &decision, &req, now);
    signed(&state, StatusCode::OK, &claims, None)
}

fn rate_limited(state: &AppState, req: &VerifyRequest, wait: RetryAfter) -> ApiResult<Response> {
    let claims = refusal_claims(
        VerdictCode::RateLimited,
        "too many verify requests; retry later",
        req,
        &state.licensing.policy,
        Utc::now(),
    );
    signed(state, StatusCode::TOO_MANY_REQUESTS, &claims, Some(wait))
}

/// The JSON answer: `{"token", "code", "valid"}`. On 429 it also carries our
/// usual error object and a `Retry-After` header. The token is signed
/// straight into the body: one buffer per answer.
fn signed(
    state: &AppState,
    status: StatusCode,
    claims: &LicenseClaimsRef<'_>,
    retry: Option<RetryAfter>,
) -> ApiResult<Response> {
    let key = state
        .licensing
        .keys
        .active()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no signing key loaded")))?;
    state.metrics.verdict(claims.code);
    answer(&key, status, claims, retry)
}

/// A 200 answer carrying `claims` signed by `key`, built exactly as verify
/// builds its own: the benchmark's floor answers with it.
pub fn signed_answer(key: &ActiveKey, claims: &LicenseClaimsRef<'_>) -> ApiResult<Response> {
    answer(key, StatusCode::OK, claims, None)
}

fn answer(
    key: &ActiveKey,
    status: StatusCode,
    claims: &LicenseClaimsRef<'_>,
    retry: Option<RetryAfter>,
) -> ApiResult<Response> {
    let error = retry.map(|wait| {
        serde_json::json!({
            "code": "rate_limited",
            "message": format!("too many requests; retry after {} s", wait.secs()),
        })
    });
    let body = ANSWERS.with(|arena| {
        let mut arena = arena.borrow_mut();
        let written = write_answer(&mut arena, key, claims, error.as_ref());
        if written.is_err() {
            arena.clear();
        }
        written.map(|()| arena.split().freeze())
    })?;
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if let Some(wait) = retry {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait.secs()));
    }
    Ok(response)
}

/// `{"token":"<JWS>","code":"…","valid":…}`, plus `"error"` when given.
fn write_answer(
    out: &mut BytesMut,
    key: &ActiveKey,
    claims: &LicenseClaimsRef<'_>,
    error: Option<&serde_json::Value>,
) -> ApiResult<()> {
    if out.capacity() - out.len() < ANSWER_ROOM {
        out.reserve(ANSWER_ARENA);
    }
    // A compact JWS is base64url and dots: nothing in it needs escaping.
    out.extend_from_slice(br#"{"token":""#);
    key.sign_into(claims, out).map_err(ApiError::internal)?;
    out.extend_from_slice(br#"","code":"#);
    serde_json::to_writer((&mut *out).writer(), &claims.code).map_err(ApiError::internal)?;
    out.extend_from_slice(if claims.valid {
        br#","valid":true"#
    } else {
        br#","valid":false"#
    });
    if let Some(error) = error {
        out.extend_from_slice(br#","error":"#);
        serde_json::to_writer((&mut *out).writer(), error).map_err(ApiError::internal)?;
    }
    out.extend_from_slice(b"}");
    Ok(())
}

thread_local! {
    /// Answer bodies are cut from a per-thread arena: a body is ~1.2 KiB,
    /// and allocating that much per request makes the allocator sweep its
    /// small free lists every time; one 64 KiB block serves ~50 answers.
    static ANSWERS: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// The arena is renewed when less than this is left in it.
const ANSWER_ROOM: usize = 4 * 1024;
/// How much a renewal asks for.
const ANSWER_ARENA: usize = 64 * 1024;

/// Refuses requests no deployment would send (4xx, never a token): sizes
/// are bounded so a client cannot make us sign or store arbitrary text.
/// Public for the `verify_request` fuzz target (fuzz/), which runs it as the handler does.
pub fn check_shape(req: &VerifyRequest) -> Result<(), InvalidValue> {
    let field = |name: &'static str, value: &str, max: usize| {
        if !short_printable(value, max) {
            Err(InvalidValue::new(
                name,
                format!("must be 1 to {max} characters without control characters"),
            ))
        } else {
            Ok(())
        }
    };
    field("installId", &req.install_id, 128)?;
    field("licenseKey", &req.license_key, 256)?;
    field("instanceId", &req.instance_id, 128)?;
    field("nonce", &req.nonce, 256)?;
    if let Some(v) = &req.version {
        field("version", v, 64)?;
    }
    if let Some(d) = &req.domain {
        field("domain", d, 253)?;
    }
    Ok(())
}

fn user_agent(value: Option<&HeaderValue>) -> Option<String> {
    value
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().filter(|c| !c.is_control()).take(256).collect())
}
