//! Portal sessions: their own cookie (`calos_portal`, HttpOnly,
//! SameSite=Strict), their own CSRF token, bound to one install.

use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::{DateTime, Duration, Utc};

use calos_core::ids::InstallId;
use calos_store::{PortalSession, PortalUser, StoreError};

use crate::app::AppState;
use crate::auth::{random_urlsafe, sha256};

pub const COOKIE_NAME: &str = "calos_portal";
pub const LIFETIME_HOURS: i64 = 12;

/// A portal account signed in for this very install.
#[derive(Debug, Clone)]
pub struct PortalViewer {
    pub user: PortalUser,
    pub csrf: String,
    pub token_hash: Vec<u8>,
}

/// A new session to store, and the cookie value only the browser keeps.
pub fn issue(user: &PortalUser, now: DateTime<Utc>) -> (String, PortalSession) {
    let value = random_urlsafe(32);
    let session = PortalSession {
        token_hash: sha256(&value),
        user_id: user.id,
        install_id: user.install_id.clone(),
        csrf_token: random_urlsafe(32),
        created_at: now,
        expires_at: now + Duration::hours(LIFETIME_HOURS),
    };
    (value, session)
}

pub fn cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((COOKIE_NAME, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(secure)
        .max_age(::cookie::time::Duration::hours(LIFETIME_HOURS))
        .build()
}

pub fn removal(secure: bool) -> Cookie<'static> {
    let mut c = cookie(String::new(), secure);
    c.make_removal();
    c
}

/// The viewer of `install_id`'s portal: a live session of an account of that
/// install. A session of another install is nobody here.
pub async fn viewer(
    state: &AppState,
    headers: &HeaderMap,
    install_id: &InstallId,
) -> Result<Option<PortalViewer>, StoreError> {
    let jar = CookieJar::from_headers(headers);
    let Some(cookie) = jar.get(COOKIE_NAME) else {
        return Ok(None);
    };
    let hash = sha256(cookie.value());
    let found = state.store.get_portal_session(&hash, Utc::now()).await?;
    Ok(found
        .filter(|(s, u)| s.install_id == *install_id && u.install_id == *install_id)
        .map(|(s, user)| PortalViewer {
            user,
            csrf: s.csrf_token,
            token_hash: hash,
        }))
}
