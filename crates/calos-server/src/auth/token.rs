//! API tokens for scripts: `calos_at_` + 64 hex characters (a prefix secret
//! scanners can recognise), stored as SHA-256 only.

use chrono::{DateTime, Utc};
use rand::RngCore;

use calos_core::InvalidValue;
use calos_store::NewApiToken;

use super::sha256;

pub const PREFIX: &str = "calos_at_";
/// How much of the token is kept in clear to tell tokens apart in lists.
const SHOWN_CHARS: usize = PREFIX.len() + 8;

pub struct IssuedToken {
    /// The secret, shown once.
    pub secret: String,
    pub record: NewApiToken,
}

pub fn check_name(name: &str) -> Result<String, InvalidValue> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(InvalidValue::new(
            "name",
            "must be 1-100 characters without control characters",
        ));
    }
    Ok(name.to_owned())
}

pub fn issue(
    admin_id: i64,
    name: String,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> IssuedToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{PREFIX}{}", hex::encode(bytes));
    IssuedToken {
        record: NewApiToken {
            admin_id,
            name,
            prefix: secret.chars().take(SHOWN_CHARS).collect(),
            token_hash: sha256(&secret),
            created_at: now,
            expires_at,
            role: None,
        },
        secret,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_and_stored_hashed() {
        let t = issue(1, "ci".into(), Utc::now(), None);
        assert!(t.secret.starts_with("calos_at_"));
        assert_eq!(t.secret.len(), PREFIX.len() + 64);
        assert_eq!(t.record.prefix.len(), SHOWN_CHARS);
        assert_eq!(t.record.token_hash, sha256(&t.secret));
        assert!(!String::from_utf8_lossy(&t.record.token_hash).contains(&t.secret));
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("  ").is_err());
        assert_eq!(check_name(" ci ").unwrap(), "ci");
    }
}
