//! Webhook secrets. None is stored: each endpoint keeps a random salt, and
//! its secret is an HMAC of that salt under a subkey of the master key, so
//! a copy of the database alone cannot sign webhooks. Rotating an
//! endpoint's secret is giving it a new salt.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::secrets::MasterKey;

/// Salt bytes per endpoint.
const SALT_LEN: usize = 16;

/// Derives endpoints' secrets from their salts.
#[derive(Clone)]
pub struct WebhookSecrets {
    key: [u8; 32],
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecrets(***)")
    }
}

impl WebhookSecrets {
    pub fn new(master: &MasterKey) -> anyhow::Result<Self> {
        Ok(Self {
            key: master.derive(b"calos webhook secret v1")?,
        })
    }

    /// A fresh random salt for a new or rotated secret.
    pub fn new_salt() -> Vec<u8> {
        let mut salt = vec![0u8; SALT_LEN];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        salt
    }

    /// The secret of the endpoint with `salt`, as shown to the admin once
    /// and used as the HMAC key of its signatures.
    pub fn secret(&self, salt: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default()));
        mac.update(salt);
        format!("whsec_{}", hex::encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_depend_on_master_key_and_salt() {
        let key = |b64: &str| WebhookSecrets::new(&MasterKey::from_base64(b64).unwrap()).unwrap();
        let a = key("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        let b = key("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=");
        let salt = [1u8; 16];
        assert_eq!(a.secret(&salt), a.secret(&salt));
        assert!(a.secret(&salt).starts_with("whsec_"));
        assert_ne!(a.secret(&salt), b.secret(&salt));
        assert_ne!(a.secret(&salt), a.secret(&[2u8; 16]));
        assert_ne!(WebhookSecrets::new_salt(), WebhookSecrets::new_salt());
    }
}
