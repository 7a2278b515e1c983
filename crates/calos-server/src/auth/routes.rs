//! `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me`.

use axum::extract::State;
use axum::response::IntoResponse;
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::{password, session, AdminUser, AuthMethod};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
}

/// Any failure (unknown user, wrong password, disabled account) is the same
/// 401 so the answer does not reveal which usernames exist.
pub async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    Json(body): Json<LoginBody>,
) -> ApiResult<impl IntoResponse> {
    let found = state.store.get_admin_login(body.username.trim()).await?;
    let (admin, stored_hash) = match found {
        Some((admin, hash)) => (Some(admin), Some(hash)),
        None => (None, None),
    };
    let ok = password::verify(stored_hash, body.password)
        .await
        .map_err(ApiError::internal)?;
    let admin = match admin {
        Some(admin) if ok && !admin.disabled => admin,
        _ => {
            tracing::info!(username = %body.username, "login failed");
            return Err(ApiError::LoginFailed);
        }
    };
    let issued = session::issue(admin.id, Utc::now());
    state.store.create_session(&issued.record).await?;
    tracing::info!(admin = %admin.username, "admin logged in");
    let jar = jar.add(session::cookie(
        issued.cookie_value,
        state.config.secure_cookies,
    ));
    Ok((
        jar,
        axum::Json(json!({
            "success": true,
            "admin": admin,
            "csrfToken": issued.record.csrf_token,
        })),
    ))
}

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

pub async fn me(user: AdminUser) -> impl IntoResponse {
    let via = match user.method {
        AuthMethod::Session { .. } => "session",
        AuthMethod::ApiToken { .. } => "token",
    };
    axum::Json(json!({ "success": true, "admin": user.admin, "via": via }))
}
