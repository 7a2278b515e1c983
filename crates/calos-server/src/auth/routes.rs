//! `POST /api/auth/logout`, `GET /api/auth/me`; the login steps are in
//! [`super::login`], the signed-in admin's own account in [`super::account`].

use axum::extract::State;
use axum::response::IntoResponse;
use axum_extra::extract::cookie::CookieJar;
use serde_json::json;

use super::{session, AdminUser, AuthMethod};
use crate::app::AppState;
use crate::error::ApiResult;

pub use super::login::{login, login_totp};

/// Ends the session on the server (the cookie alone would not).
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    operation_id = "logout",
    tag = "auth",
    summary = "End this session",
    responses((status = 200, description = "Logged out", body = crate::api::openapi::schemas::Done))
)]
pub async fn logout(
    State(state): State<AppState>,
    user: AdminUser,
    jar: CookieJar,
) -> ApiResult<impl IntoResponse> {
    if let AuthMethod::Session { token_hash } = &user.method {
        state.store.delete_session(token_hash).await?;
    }
    let jar = jar.add(session::removal(state.config.secure_cookies));
    Ok((jar, axum::Json(json!({ "success": true }))))
}

#[utoipa::path(
    get,
    path = "/api/auth/me",
    operation_id = "me",
    tag = "auth",
    summary = "The authenticated admin",
    responses((status = 200, description = "The admin, role and how they authenticated", body = crate::api::openapi::schemas::Me))
)]
pub async fn me(State(state): State<AppState>, user: AdminUser) -> ApiResult<impl IntoResponse> {
    let via = match user.method {
        AuthMethod::Session { .. } => "session",
        AuthMethod::ApiToken { .. } => "token",
    };
    let totp_enabled = state
        .store
        .totp_factor(user.admin.id)
        .await?
        .is_some_and(|f| f.enabled);
    Ok(axum::Json(json!({
        "success": true,
        "admin": user.admin,
        "via": via,
        "totpEnabled": totp_enabled,
    })))
}
