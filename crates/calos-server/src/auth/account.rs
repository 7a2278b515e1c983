//! The signed-in admin's own account (sessions only, never an API token):
//! `POST /api/auth/password`, `POST /api/auth/totp/enrol`,
//! `POST /api/auth/totp/confirm`, `POST /api/auth/totp/disable`.
//! Wrong current passwords and codes count against the login throttle, so
//! a stolen session cannot be used to guess them quickly.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use calos_core::InvalidValue;
use calos_store::{StoreError, TotpFactor};

use super::guard::LoginGuard;
use super::{password, session, totp, AdminUser};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;

#[derive(utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

#[derive(utoipa::ToSchema)]
#[schema(as = TotpCode)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

fn wrong(field: &'static str, message: &str) -> ApiError {
    ApiError::InvalidField(InvalidValue::new(field, message))
}

/// Changes the password: every session of the admin ends (other browsers
/// included) and this browser gets a new one.
#[utoipa::path(
    post,
    path = "/api/auth/password",
    operation_id = "changePassword",
    tag = "auth",
    summary = "Change the own password (ends every session)",
    request_body = PasswordBody,
    responses((status = 200, description = "Changed; this browser gets a new session", body = crate::api::openapi::schemas::PasswordChanged))
)]
pub async fn change_password(
    State(state): State<AppState>,
    Extension(guard): Extension<Arc<LoginGuard>>,
    user: AdminUser,
    jar: CookieJar,
    Json(body): Json<PasswordBody>,
) -> ApiResult<Response> {
    user.require_session()?;
    password::check_strength(&body.new_password).map_err(|e| wrong("newPassword", &e.message))?;
    let attempt = guard
        .throttle
        .check(&user.admin.username, user.ip.as_deref())?;
    let stored = state
        .store
        .get_admin_login(&user.admin.username)
        .await?
        .map(|(_, hash)| hash);
    if !password::verify(stored, body.current_password)
        .await
        .map_err(ApiError::internal)?
    {
        guard.throttle.failed(attempt);
        return Err(wrong("currentPassword", "is not your current password"));
    }
    guard.throttle.succeeded(attempt);
    let hash = password::hash(body.new_password)
        .await
        .map_err(ApiError::internal)?;
    let audit = user.audit(
        "admin.password_change",
        "admin",
        &user.admin.username,
        None,
        None,
    );
    state
        .store
        .set_admin_password(user.admin.id, &hash, &audit)
        .await?;
    let issued = session::issue(user.admin.id, Utc::now(), &state.config.login);
    state.store.create_session(&issued.record).await?;
    let jar = jar.add(session::cookie(
        issued.cookie_value,
        state.config.secure_cookies,
        &state.config.login,
    ));
    let body = json!({ "success": true, "csrfToken": issued.record.csrf_token });
    Ok((jar, axum::Json(body)).into_response())
}

/// Starts enrolment: a new secret, shown once as an `otpauth://` URI and in
/// base32. Nothing changes at login until a code confirms it.
#[utoipa::path(
    post,
    path = "/api/auth/totp/enrol",
    operation_id = "totpEnrol",
    tag = "auth",
    summary = "Start TOTP enrolment",
    responses((status = 200, description = "The secret and its otpauth URI", body = crate::api::openapi::schemas::TotpEnrolment))
)]
pub async fn enrol(
    State(state): State<AppState>,
    Extension(guard): Extension<Arc<LoginGuard>>,
    user: AdminUser,
) -> ApiResult<impl IntoResponse> {
    user.require_session()?;
    let secret = totp::TotpSealer::generate_secret();
    let sealed = guard
        .sealer()
        .seal(user.admin.id, &secret)
        .map_err(ApiError::internal)?;
    let generator = totp::generator(secret, &user.admin.username).map_err(ApiError::internal)?;
    state
        .store
        .begin_totp_enrolment(user.admin.id, &sealed, Utc::now())
        .await?;
    let (uri, secret) = totp::enrolment(&generator);
    Ok(axum::Json(json!({
        "success": true,
        "otpauthUri": uri,
        "secret": secret,
    })))
}

/// The step `code` is right for, claimed for the factor, or a 422 that
/// counts against the throttle.
async fn checked_code(
    state: &AppState,
    guard: &LoginGuard,
    user: &AdminUser,
    factor: &TotpFactor,
    code: &str,
    claim: bool,
) -> ApiResult<i64> {
    let attempt = guard
        .throttle
        .check(&user.admin.username, user.ip.as_deref())?;
    let secret = guard
        .sealer()
        .open(user.admin.id, &factor.sealed_secret)
        .map_err(ApiError::internal)?;
    let generator = totp::generator(secret, &user.admin.username).map_err(ApiError::internal)?;
    let unix = u64::try_from(Utc::now().timestamp()).unwrap_or(0);
    let step = match totp::matching_step(&generator, code, unix) {
        Some(step) if !claim => Some(step),
        Some(step) => state
            .store
            .claim_totp_step(user.admin.id, step)
            .await?
            .then_some(step),
        None => None,
    };
    match step {
        Some(step) => {
            guard.throttle.succeeded(attempt);
            Ok(step)
        }
        None => {
            guard.throttle.failed(attempt);
            Err(wrong("code", "is wrong, expired or already used"))
        }
    }
}

/// Confirms enrolment with a code from the authenticator: TOTP is on.
#[utoipa::path(
    post,
    path = "/api/auth/totp/confirm",
    operation_id = "totpConfirm",
    tag = "auth",
    summary = "Confirm TOTP enrolment with a code",
    request_body = CodeBody,
    responses((status = 200, description = "TOTP enabled", body = crate::api::openapi::schemas::TotpState))
)]
pub async fn confirm(
    State(state): State<AppState>,
    Extension(guard): Extension<Arc<LoginGuard>>,
    user: AdminUser,
    Json(body): Json<CodeBody>,
) -> ApiResult<impl IntoResponse> {
    user.require_session()?;
    let factor = state.store.totp_factor(user.admin.id).await?;
    let factor = match factor {
        Some(f) if f.enabled => {
            return Err(StoreError::conflict(
                "totp",
                "two-factor authentication is already enabled",
            )
            .into())
        }
        Some(f) => f,
        None => {
            return Err(ApiError::NotFound(
                "pending two-factor enrolment".to_owned(),
            ))
        }
    };
    let step = checked_code(&state, &guard, &user, &factor, &body.code, false).await?;
    let audit = user.audit(
        "admin.totp_enable",
        "admin",
        &user.admin.username,
        None,
        None,
    );
    state.store.enable_totp(user.admin.id, step, &audit).await?;
    Ok(axum::Json(json!({ "success": true, "totpEnabled": true })))
}

/// Turns TOTP off; needs a current code.
#[utoipa::path(
    post,
    path = "/api/auth/totp/disable",
    operation_id = "totpDisable",
    tag = "auth",
    summary = "Turn TOTP off with a code",
    request_body = CodeBody,
    responses((status = 200, description = "TOTP disabled", body = crate::api::openapi::schemas::TotpState))
)]
pub async fn disable(
    State(state): State<AppState>,
    Extension(guard): Extension<Arc<LoginGuard>>,
    user: AdminUser,
    Json(body): Json<CodeBody>,
) -> ApiResult<impl IntoResponse> {
    user.require_session()?;
    let factor = state
        .store
        .totp_factor(user.admin.id)
        .await?
        .filter(|f| f.enabled)
        .ok_or_else(|| {
            ApiError::from(StoreError::conflict(
                "totp",
                "two-factor authentication is not enabled",
            ))
        })?;
    checked_code(&state, &guard, &user, &factor, &body.code, true).await?;
    let audit = user.audit(
        "admin.totp_disable",
        "admin",
        &user.admin.username,
        None,
        None,
    );
    state.store.remove_totp(user.admin.id, &audit).await?;
    Ok(axum::Json(json!({ "success": true, "totpEnabled": false })))
}
