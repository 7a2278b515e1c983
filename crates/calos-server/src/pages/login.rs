//! `GET /login` (the form; `login.js` posts it to `/api/auth/login` and then
//! goes back to `next`) and `POST /logout` (a form with the CSRF token, so
//! it works without JavaScript).

use askama::Template;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::render::html;
use super::session::{lookup, safe_next};
use crate::app::AppState;
use crate::auth::{session, sha256};
use crate::extract::Query;

#[derive(Debug, Default, Deserialize)]
pub struct LoginParams {
    next: Option<String>,
    #[serde(rename = "loggedOut")]
    logged_out: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
    logged_out: bool,
}

pub async fn page(
    State(state): State<AppState>,
    Query(params): Query<LoginParams>,
    req: Request,
) -> Response {
    let next = safe_next(params.next.as_deref());
    let (parts, _) = req.into_parts();
    // Already logged in: straight on.
    if let Ok(Some(_)) = lookup(&parts, &state).await {
        return Redirect::to(&next).into_response();
    }
    html(
        StatusCode::OK,
        &LoginPage {
            next,
            logged_out: params.logged_out.is_some(),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<LogoutForm>,
) -> Response {
    if let Some(cookie) = jar.get(session::COOKIE_NAME) {
        let hash = sha256(cookie.value());
        let now = chrono::Utc::now();
        match session::lookup(
            state.store.as_ref(),
            &state.config.login,
            cookie.value(),
            now,
        )
        .await
        {
            Ok(Some((stored, _))) => {
                if !bool::from(form.csrf.as_bytes().ct_eq(stored.csrf_token.as_bytes())) {
                    return (StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response();
                }
                if let Err(e) = state.store.delete_session(&hash).await {
                    tracing::error!(error = %e, "logout: deleting the session failed");
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "logout failed: database unavailable",
                    )
                        .into_response();
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "logout: session lookup failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "logout failed: database unavailable",
                )
                    .into_response();
            }
        }
    }
    let jar = jar.add(session::removal(state.config.secure_cookies));
    (jar, Redirect::to("/login?loggedOut=1")).into_response()
}
