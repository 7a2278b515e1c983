//! Cookie sessions: a random 32-byte value in an HttpOnly, SameSite=Strict
//! cookie, stored only as its SHA-256, with a CSRF token returned at login.
//! A session ends at logout, after `session_idle` without use, and
//! `session_absolute` after login whatever happens (see [`LoginSettings`]).
//! Every login issues a new value (no session fixation).

use std::time::Duration;

use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::{DateTime, Utc};

use calos_store::{Admin, NewSession, Session, Store, StoreResult};

use super::settings::LoginSettings;
use super::{random_urlsafe, sha256};

pub const COOKIE_NAME: &str = "calos_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The last-seen time of a session is written at most this often.
const TOUCH_AT_MOST_EVERY: Duration = Duration::from_secs(60);

/// A session to store plus the cookie value only the browser will hold.
pub struct IssuedSession {
    pub cookie_value: String,
    pub record: NewSession,
}

pub fn issue(admin_id: i64, now: DateTime<Utc>, settings: &LoginSettings) -> IssuedSession {
    let cookie_value = random_urlsafe(32);
    let lifetime = chrono::Duration::from_std(settings.session_absolute)
        .unwrap_or(chrono::Duration::hours(12));
    IssuedSession {
        record: NewSession {
            token_hash: sha256(&cookie_value),
            admin_id,
            csrf_token: random_urlsafe(32),
            created_at: now,
            expires_at: now + lifetime,
        },
        cookie_value,
    }
}

/// The session behind a cookie value, if it is still valid (not logged out,
/// not idle too long, not past its absolute end); its use is recorded.
pub async fn lookup(
    store: &dyn Store,
    settings: &LoginSettings,
    cookie_value: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<(Session, Admin)>> {
    // Record use often enough that the idle timeout stays accurate to a quarter.
    let touch_after = (settings.session_idle / 4).min(TOUCH_AT_MOST_EVERY);
    store
        .active_session(
            &sha256(cookie_value),
            now,
            settings.session_idle,
            touch_after,
        )
        .await
}

pub fn cookie(value: String, secure: bool, settings: &LoginSettings) -> Cookie<'static> {
    let max_age = i64::try_from(settings.session_absolute.as_secs()).unwrap_or(i64::MAX);
    Cookie::build((COOKIE_NAME, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(secure)
        .max_age(::cookie::time::Duration::seconds(max_age))
        .build()
}

/// A cookie that tells the browser to drop the session.
pub fn removal(secure: bool) -> Cookie<'static> {
    let mut c = cookie(String::new(), secure, &LoginSettings::default());
    c.make_removal();
    c
}
