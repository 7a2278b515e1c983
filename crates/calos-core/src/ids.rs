//! Identifiers a deployment presents: the public install id and the secret
//! license key. Both are parsed once at the edge and trusted afterwards.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::InvalidValue;

/// Public identifier of one licensed installation (e.g. `demo-install-abc123456789abcdef`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstallId(String);

impl InstallId {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let ok_len = (Self::MIN_LEN..=Self::MAX_LEN).contains(&raw.len());
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        let ok_start = raw
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if ok_len && ok_chars && ok_start {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue::new(
                "installId",
                format!(
                    "must be {}-{} characters of a-z, 0-9, '-' or '_'",
                    Self::MIN_LEN,
                    Self::MAX_LEN
                ),
            ))
        }
    }

    /// A fresh install id from 16 random bytes: 32 lower-case hex characters, as the seed made them.
    pub fn from_random_bytes(bytes: [u8; 16]) -> Self {
        Self(to_hex(&bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for InstallId {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<InstallId> for String {
    fn from(value: InstallId) -> Self {
        value.0
    }
}

/// The secret a deployment proves its license with. Shown once at creation and
/// stored only as a keyed hash; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct LicenseKey(String);

impl LicenseKey {
    pub const PREFIX: &'static str = "calos_lk_";
    const SECRET_HEX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let secret = raw.strip_prefix(Self::PREFIX).unwrap_or_default();
        if secret.len() == Self::SECRET_HEX_LEN
            && secret
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue::new(
                "licenseKey",
                "is not a CALOS license key (expected calos_lk_ followed by 64 hex characters)",
            ))
        }
    }

    /// A fresh key from 32 random bytes.
    pub fn from_random_bytes(bytes: [u8; 32]) -> Self {
        Self(format!("{}{}", Self::PREFIX, to_hex(&bytes)))
    }

    /// The secret text, for hashing or for showing once to the admin who created it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LicenseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LicenseKey(***)")
    }
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_demo_install_id_parses() {
        let id = InstallId::parse("demo-install-abc123456789abcdef").unwrap();
        assert_eq!(id.as_str().len(), 31);
    }

    #[test]
    fn install_id_rejects_bad_shapes() {
        for bad in [
            "",
            "short",
            "UPPERCASE-install-id",
            "-leading-dash-install",
            "has space in it ok",
            "x'; DROP TABLE licenses;--",
            &"a".repeat(65),
        ] {
            assert!(InstallId::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn random_install_id_is_32_hex() {
        let id = InstallId::from_random_bytes([0xab; 16]);
        assert_eq!(id.as_str(), "ab".repeat(16));
        assert!(InstallId::parse(id.as_str()).is_ok());
    }

    #[test]
    fn license_key_round_trips_and_hides_in_debug() {
        let key = LicenseKey::from_random_bytes([7; 32]);
        assert!(key.expose().starts_with("calos_lk_"));
        assert_eq!(LicenseKey::parse(key.expose()).unwrap(), key);
        assert_eq!(format!("{key:?}"), "LicenseKey(***)");
    }

    #[test]
    fn license_key_rejects_wrong_prefix_or_length() {
        assert!(LicenseKey::parse(&"a".repeat(73)).is_err());
        assert!(LicenseKey::parse("calos_lk_abc").is_err());
        assert!(LicenseKey::parse(&format!("calos_lk_{}", "G".repeat(64))).is_err());
    }
}
