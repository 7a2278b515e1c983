//! Pseudonymous user ids: a raw id (often an e-mail) is hashed with a
//! per-install key before it leaves the deployment, so the vendor can count
//! distinct users but never sees who they are.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A user id already hashed by [`UserHasher`]; the only form `Event::user` takes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HashedUser(String);

impl HashedUser {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Hashes user ids with HMAC-SHA256 under a salt derived from the license
/// key (a secret the deployment holds and the vendor's server keeps only as a
/// keyed hash), bound to the install id. Every instance of one install
/// derives the same salt, so a user counts once across instances.
#[derive(Clone)]
pub struct UserHasher {
    salt: [u8; 32],
}

impl std::fmt::Debug for UserHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserHasher(..)")
    }
}

impl UserHasher {
    pub fn new(install_id: &str, license_key: &str) -> Self {
        let mut mac = new_mac(license_key.as_bytes());
        mac.update(b"calos-user-salt-v1\0");
        mac.update(install_id.as_bytes());
        Self {
            salt: mac.finalize().into_bytes().into(),
        }
    }

    /// An explicit salt, e.g. one the operator shares between installs.
    pub fn with_salt(salt: [u8; 32]) -> Self {
        Self { salt }
    }

    /// The pseudonym of `raw` (trimmed and lower-cased first, so
    /// `Alice@Example.com` and `alice@example.com` are one user).
    pub fn hash(&self, raw: &str) -> HashedUser {
        let mut mac = new_mac(&self.salt);
        mac.update(raw.trim().to_lowercase().as_bytes());
        let digest = mac.finalize().into_bytes();
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        HashedUser(format!("u_{hex}"))
    }
}

fn new_mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail; the fallback only
    // exists to keep the code panic-free.
    HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default()))
}
