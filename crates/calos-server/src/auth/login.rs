//! `POST /api/auth/login` and, for admins with TOTP, its second step
//! `POST /api/auth/login/totp`.
//!
//! Every failure (unknown user, wrong password, disabled account, wrong or
//! replayed code, stale challenge) is the same 401 after the same work (the
//! password is checked against a dummy hash for unknown users), is counted
//! by the throttle and is audited with the true reason. A throttled attempt
//! is 429 with `Retry-After` before any password is checked.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum_extra::extract::cookie::CookieJar;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use calos_core::audit::{Actor, AuditEntry};
use calos_store::Admin;

use super::guard::LoginGuard;
use super::throttle::Attempt;
use super::{password, random_urlsafe, session, sha256, totp};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ClientIp, Json};

/// How long the code step may follow the password step.
const CHALLENGE_MINUTES: i64 = 5;

#[derive(utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
}

#[derive(utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpLoginBody {
    challenge: String,
    code: String,
}

/// A login event for the audit log. The actor is the account the attempt
/// claimed to be (id 0 when no such admin exists).
pub(super) fn audit_entry(
    action: &str,
    admin_id: Option<i64>,
    username: &str,
    ip: Option<String>,
    after: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        at: Utc::now(),
        actor: Actor::Admin {
            id: admin_id.unwrap_or(0),
            username: username.to_owned(),
        },
        action: action.to_owned(),
        target_type: "admin".to_owned(),
        target_id: username.to_owned(),
        before: None,
        after: Some(after),
        ip,
    }
}

fn throttled(username: &str, wait: crate::ratelimit::RetryAfter) -> ApiError {
    tracing::warn!(username = %username, retry_after_secs = wait.secs(), "login throttled");
    wait.into()
}

/// Counts, audits and logs a failed attempt; the answer is always the same 401.
async fn refuse(
    state: &AppState,
    guard: &LoginGuard,
    attempt: Attempt,
    username: &str,
    admin_id: Option<i64>,
    ip: Option<String>,
    reason: &str,
) -> ApiError {
    guard.throttle.failed(attempt);
    tracing::info!(username = %username, reason, "login failed");
    let entry = audit_entry(
        "admin.login_failed",
        admin_id,
        username,
        ip,
        json!({ "reason": reason }),
    );
    if let Err(err) = state.store.record_security_event(&entry).await {
        tracing::error!(error = %err, "cannot audit a failed login");
    }
    ApiError::LoginFailed
}

#[utoipa::path(
    post,
    path = "/api/auth/login",
    operation_id = "login",
    tag = "auth",
    summary = "Log in with username and password",
    request_body = LoginBody,
    responses((status = 200, description = "Logged in (session cookie set), or `totpRequired` with a challenge", body = crate::api::openapi::schemas::LoginResult))
)]
pub async fn login(
    State(state): State<AppState>,
    Extension(guard): Extension<Arc<LoginGuard>>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(body): Json<LoginBody>,
) -> ApiResult<Response> {
    let username = body.username.trim().to_owned();
    let attempt = guard
        .throttle
        .check(&username, ip.as_deref())
        .map_err(|wait| throttled(&username, wait))?;
    let (admin, stored_hash) = match state.store.get_admin_login(&username).await? {
        Some((admin, hash)) => (Some(admin), Some(hash)),
        None => (None, None),
    };
    let ok = password::verify(stored_hash, body.password)
        .await
        .map_err(ApiError::internal)?;
    let admin = match admin {
        Some(admin) if ok && !admin.disabled => admin,
        other => {
            let reason = match &other {
                None => "unknown_user",
                Some(a) if a.disabled => "disabled",
                Some(_) => "wrong_password",
            };
            let id = other.map(|a| a.id);
            return Err(refuse(&state, &guard, attempt, &username, id, ip, reason).await);
        }
    };
    let now = Utc::now();
    let second_factor = state.store.totp_factor(admin.id).await?;
    if second_factor.is_some_and(|f| f.enabled) {
        // Not a success yet: the failures stay until the code is right too.
        guard.throttle.release(attempt);
        let challenge = random_urlsafe(32);
        let expires = now + chrono::Duration::minutes(CHALLENGE_MINUTES);
        state
            .store
            .create_login_challenge(&sha256(&challenge), admin.id, now, expires)
            .await?;
        let body = json!({ "success": false, "totpRequired": true, "challenge": challenge });
        return Ok(axum::Json(body).into_response());
    }
    start_session(&state, &guard, attempt, admin, jar, ip, now, false).await
}

#[utoipa::path(
    post,
    path = "/api/auth/login/totp",
    operation_id = "loginTotp",
    tag = "auth",
    summary = "Second login step: the TOTP code",
    request_body = TotpLoginBody,
    responses((status = 200, description = "Logged in (session cookie set)", body = crate::api::openapi::schemas::LoginResult))
)]
pub async fn login_totp(
    State(state): State<AppState>,
    Extension(guard): Extension<Arc<LoginGuard>>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(body): Json<TotpLoginBody>,
) -> ApiResult<Response> {
    let now = Utc::now();
    // Single use: a wrong code sends the user back to the password step.
    let Some(admin) = state
        .store
        .take_login_challenge(&sha256(&body.challenge), now)
        .await?
    else {
        tracing::info!("login code step with an unknown or expired challenge");
        return Err(ApiError::LoginFailed);
    };
    let username = admin.username.clone();
    let attempt = guard
        .throttle
        .check(&username, ip.as_deref())
        .map_err(|wait| throttled(&username, wait))?;
    let id = Some(admin.id);
    if admin.disabled {
        return Err(refuse(&state, &guard, attempt, &username, id, ip, "disabled").await);
    }
    let factor = state.store.totp_factor(admin.id).await?;
    let Some(factor) = factor.filter(|f| f.enabled) else {
        return Err(refuse(&state, &guard, attempt, &username, id, ip, "totp_removed").await);
    };
    let secret = guard
        .sealer()
        .open(admin.id, &factor.sealed_secret)
        .map_err(ApiError::internal)?;
    let generator = totp::generator(secret, &admin.username).map_err(ApiError::internal)?;
    let unix = u64::try_from(now.timestamp()).unwrap_or(0);
    let accepted = match totp::matching_step(&generator, &body.code, unix) {
        Some(step) => state.store.claim_totp_step(admin.id, step).await?,
        None => false,
    };
    if !accepted {
        return Err(refuse(&state, &guard, attempt, &username, id, ip, "wrong_code").await);
    }
    start_session(&state, &guard, attempt, admin, jar, ip, now, true).await
}

/// A fresh session for the browser (any session its old cookie named is
/// ended: the value before login is never the one after), audited.
#[allow(clippy::too_many_arguments)]
async fn start_session(
    state: &AppState,
    guard: &LoginGuard,
    attempt: Attempt,
    admin: Admin,
    jar: CookieJar,
    ip: Option<String>,
    now: DateTime<Utc>,
    with_totp: bool,
) -> ApiResult<Response> {
    if let Some(old) = jar.get(session::COOKIE_NAME) {
        state.store.delete_session(&sha256(old.value())).await?;
    }
    let issued = session::issue(admin.id, now, &state.config.login);
    let entry = audit_entry(
        "admin.login",
        Some(admin.id),
        &admin.username,
        ip,
        json!({ "totp": with_totp }),
    );
    state.store.start_session(&issued.record, &entry).await?;
    guard.throttle.succeeded(attempt);
    tracing::info!(admin = %admin.username, "admin logged in");
    let jar = jar.add(session::cookie(
        issued.cookie_value,
        state.config.secure_cookies,
        &state.config.login,
    ));
    let body = json!({
        "success": true,
        "admin": admin,
        "csrfToken": issued.record.csrf_token,
    });
    Ok((jar, axum::Json(body)).into_response())
}
