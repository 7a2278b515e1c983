//! Cookie sessions: a random 32-byte value in an HttpOnly, SameSite=Strict
//! cookie, stored only as its SHA-256, with a CSRF token returned at login.

use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::{DateTime, Duration, Utc};

use calos_store::NewSession;

use super::{random_urlsafe, sha256};

pub const COOKIE_NAME: &str = "calos_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const LIFETIME_HOURS: i64 = 12;

/// A session to store plus the cookie value only the browser will hold.
pub struct IssuedSession {
    pub cookie_value: String,
    pub record: NewSession,
}

pub fn issue(admin_id: i64, now: DateTime<Utc>) -> IssuedSession {
    let cookie_value = random_urlsafe(32);
    IssuedSession {
        record: NewSession {
            token_hash: sha256(&cookie_value),
            admin_id,
            csrf_token: random_urlsafe(32),
            created_at: now,
            expires_at: now + Duration::hours(LIFETIME_HOURS),
        },
        cookie_value,
    }
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

/// A cookie that tells the browser to drop the session.
pub fn removal(secure: bool) -> Cookie<'static> {
    let mut c = cookie(String::new(), secure);
    c.make_removal();
    c
}
