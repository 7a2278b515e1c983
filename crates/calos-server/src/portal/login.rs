//! Portal sign-in, sign-out and setting a password from an invitation link.
//! Plain HTML forms (no script needed); every answer is a portal page.

use askama::Template;
use axum::extract::{OriginalUri, Path, State};
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use calos_core::audit::{Actor, AuditEntry};
use calos_core::customer::Email;

use super::dashboard::login_page;
use super::render::{error, message, with_headers};
use super::scope::resolve;
use super::session::{self, viewer};
use crate::api::branding::{level_of, resolve as resolve_brand, BrandView};
use crate::app::AppState;
use crate::auth::{password, sha256, LoginGuard};
use crate::error::ApiError;
use crate::extract::{ClientIp, Query};
use crate::pages::html;

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

// An axum handler takes what it needs as extractors, one argument each.
#[allow(clippy::too_many_arguments)]
pub async fn login(
    State(state): State<AppState>,
    Extension(guard): Extension<Arc<LoginGuard>>,
    ClientIp(ip): ClientIp,
    Path(raw_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let scope = match resolve(&state, &raw_id, &headers, &uri).await {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    let install_id = scope.install_id().clone();
    // The same back-off as the vendor's login, on its own account keys
    // (one portal account is one install's e-mail address).
    let account = format!("portal:{install_id}:{}", form.email);
    let attempt = match guard.throttle.check(&account, ip.as_deref()) {
        Ok(attempt) => attempt,
        Err(wait) => {
            tracing::warn!(install_id = %install_id, retry_after_secs = wait.secs(), "portal login throttled");
            let mut page = login_page(
                &state,
                &scope,
                Some(&format!(
                    "Too many failed sign-ins. Try again in {} seconds.",
                    wait.secs()
                )),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
            if let Ok(value) = HeaderValue::from_str(&wait.secs().to_string()) {
                page.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return page;
        }
    };
    let found = match Email::parse(&form.email) {
        Ok(email) => state.store.get_portal_login(&install_id, &email).await,
        Err(_) => Ok(None),
    };
    let found = match found {
        Ok(f) => f,
        Err(e) => return error(e.into()),
    };
    let (user, stored_hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, None),
    };
    // Unknown address, inactive account or wrong password: one answer, same cost.
    let ok = match password::verify(stored_hash, form.password).await {
        Ok(ok) => ok,
        Err(e) => return error(ApiError::internal(e)),
    };
    let Some(user) = user.filter(|_| ok) else {
        guard.throttle.failed(attempt);
        tracing::info!(install_id = %install_id, "portal login failed");
        return login_page(
            &state,
            &scope,
            Some("Wrong e-mail address or password."),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    };
    let (value, record) = session::issue(&user, Utc::now());
    if let Err(e) = state.store.create_portal_session(&record).await {
        guard.throttle.release(attempt);
        return error(e.into());
    }
    guard.throttle.succeeded(attempt);
    tracing::info!(install_id = %install_id, portal_user = user.id, "portal login");
    let jar = jar.add(session::cookie(value, state.config.secure_cookies));
    with_headers((jar, Redirect::to(&scope.home())).into_response())
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LogoutForm>,
) -> Response {
    let scope = match resolve(&state, &raw_id, &headers, &uri).await {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    match viewer(&state, &headers, scope.install_id()).await {
        Ok(Some(v)) => {
            if !bool::from(form.csrf.as_bytes().ct_eq(v.csrf.as_bytes())) {
                return error(ApiError::Csrf);
            }
            if let Err(e) = state.store.delete_portal_session(&v.token_hash).await {
                return error(e.into());
            }
        }
        Ok(None) => {}
        Err(e) => return error(e.into()),
    }
    let jar = jar.add(session::removal(state.config.secure_cookies));
    with_headers((jar, Redirect::to(&scope.home())).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Template)]
#[template(path = "portal_set_password.html")]
struct SetPasswordPage<'a> {
    brand: &'a BrandView,
    theme_url: String,
    action: String,
    token: &'a str,
    problem: Option<&'a str>,
}

async fn set_password_form(
    state: &AppState,
    scope: &super::scope::PortalScope,
    token: &str,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let brand = match level_of(state, &scope.license).await {
        Ok(level) => resolve_brand(state, scope.install_id(), level).await,
        Err(e) => Err(e),
    };
    let brand = match brand {
        Ok(b) => b,
        Err(e) => return error(e),
    };
    let page = SetPasswordPage {
        theme_url: super::dashboard::theme_url(&brand),
        brand: &brand,
        action: format!("/portal/{}/set-password", scope.install_id()),
        token,
        problem,
    };
    with_headers(html(status, &page))
}

pub async fn set_password_page(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    let scope = match resolve(&state, &raw_id, &headers, &uri).await {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    let token = q.token.unwrap_or_default();
    set_password_form(&state, &scope, &token, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct SetPasswordForm {
    token: String,
    password: String,
}

pub async fn set_password(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Form(form): Form<SetPasswordForm>,
) -> Response {
    let scope = match resolve(&state, &raw_id, &headers, &uri).await {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    if let Err(e) = password::check_strength(&form.password) {
        let text = e.to_string();
        return set_password_form(
            &state,
            &scope,
            &form.token,
            Some(&text),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let hash = match password::hash(form.password).await {
        Ok(h) => h,
        Err(e) => return error(ApiError::internal(e)),
    };
    let now = Utc::now();
    let audit = AuditEntry {
        at: now,
        actor: Actor::System,
        action: "portal_user.set_password".to_owned(),
        target_type: "portal_user".to_owned(),
        target_id: String::new(),
        before: None,
        after: Some(serde_json::json!({ "installId": scope.install_id() })),
        ip: None,
    };
    let accepted = state
        .store
        .accept_portal_invite(
            scope.install_id(),
            &sha256(form.token.trim()),
            &hash,
            now,
            &audit,
        )
        .await;
    match accepted {
        // The token names the account; it must be one of this install.
        Ok(Some(_)) => message(
            StatusCode::OK,
            "Password set",
            "Your password is set. Sign in on the portal's start page.",
        ),
        Ok(_) => set_password_form(
            &state,
            &scope,
            "",
            Some("This link is not valid (used, expired or for another portal). Ask your vendor for a new invitation."),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await,
        Err(e) => error(e.into()),
    }
}
