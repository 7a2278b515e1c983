//! The public keys a token may be signed with: pinned by the vendor, or the
//! server's JWKS. Only Ed25519 (OKP) keys are ever accepted.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::DecodingKey;

/// Ed25519 verification keys by `kid`.
#[derive(Clone, Default)]
pub struct KeyRing {
    keys: HashMap<String, DecodingKey>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KeyRing {
    /// Keeps the set's Ed25519 signing keys that carry a `kid`; other keys
    /// (RSA, HMAC secrets, encryption keys) are ignored, so a JWKS cannot
    /// smuggle in a key for another algorithm.
    pub fn from_jwks(set: &JwkSet) -> Self {
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let AlgorithmParameters::OctetKeyPair(okp) = &jwk.algorithm else {
                continue;
            };
            if okp.curve != EllipticCurve::Ed25519 {
                continue;
            }
            if matches!(jwk.common.key_algorithm, Some(alg) if alg != KeyAlgorithm::EdDSA) {
                continue;
            }
            if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
                continue;
            }
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            // jsonwebtoken slices the first 32 bytes when verifying; a short
            // key from a hostile JWKS must never reach it.
            let raw_len = URL_SAFE_NO_PAD
                .decode(okp.x.trim_end_matches('='))
                .map_or(0, |b| b.len());
            if raw_len != 32 {
                continue;
            }
            if let Ok(key) = DecodingKey::from_ed_components(&okp.x) {
                keys.insert(kid, key);
            }
        }
        Self { keys }
    }

    /// Parses a JWKS document (`{"keys":[...]}`).
    pub fn from_json(json: &[u8]) -> Result<Self, String> {
        let set: JwkSet = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        Ok(Self::from_jwks(&set))
    }

    pub fn get(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.get(kid)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
}
