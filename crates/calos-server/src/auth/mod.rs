//! Admin authentication and authorisation. Everything that decides who may
//! do what goes through [`AdminUser`] and [`AdminUser::require`], so roles
//! change one place. Login protection: [`throttle`] (failed-login back-off),
//! [`session`] (rotation, idle and absolute timeouts), [`totp`] (2FA).

pub mod account;
mod admin_user;
pub mod guard;
pub mod login;
pub mod password;
pub mod routes;
pub mod session;
pub mod settings;
pub mod throttle;
pub mod token;
pub mod totp;

pub use admin_user::{AdminUser, AuthMethod};
pub use guard::LoginGuard;

use axum::routing::post;
use axum::Router;

use crate::app::AppState;

/// The login code step and the signed-in admin's own account routes (the
/// password step, logout and `me` are in the main route table).
pub fn account_router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login/totp", post(login::login_totp))
        .route("/api/auth/password", post(account::change_password))
        .route("/api/auth/totp/enrol", post(account::enrol))
        .route("/api/auth/totp/confirm", post(account::confirm))
        .route("/api/auth/totp/disable", post(account::disable))
}

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// `n` random bytes from the OS, URL-safe base64 without padding.
pub fn random_urlsafe(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How bearer secrets (session cookies, API tokens) are stored: they are
/// 32 random bytes, so a plain SHA-256 is enough (no guessing to slow down).
pub fn sha256(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}
