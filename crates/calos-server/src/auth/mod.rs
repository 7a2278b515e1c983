//! Admin authentication and authorisation. Everything that decides who may
//! do what goes through [`AdminUser`] and [`AdminUser::require`], so roles
//! and throttling (later issues) change one place.

mod admin_user;
pub mod password;
pub mod routes;
pub mod session;
pub mod token;

pub use admin_user::{AdminUser, AuthMethod};

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
