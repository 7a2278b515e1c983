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
