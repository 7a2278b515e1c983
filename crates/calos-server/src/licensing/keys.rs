//! Ed25519 signing keys: made with `ed25519-dalek`, sealed at rest with
//! ChaCha20-Poly1305 under a subkey of the master key (the kid is the
//! associated data, so a sealed key cannot be passed off under another kid),
//! and held decrypted only in memory.

use std::sync::{Arc, RwLock};

use anyhow::{anyhow, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore;

use calos_store::{SigningKeyRecord, Store};

use crate::secrets::MasterKey;

/// Seals and opens private keys.
pub struct KeySealer {
    aead: ChaCha20Poly1305,
}

impl std::fmt::Debug for KeySealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySealer(***)")
    }
}

impl KeySealer {
    const INFO: &'static [u8] = b"calos signing-key seal v1";

    pub fn new(master: &MasterKey) -> anyhow::Result<Self> {
        let key = master.derive(Self::INFO)?;
        Ok(Self {
            aead: ChaCha20Poly1305::new(Key::from_slice(&key)),
        })
    }

    /// A fresh key pair, sealed, ready to store.
    pub fn generate(&self, now: DateTime<Utc>) -> anyhow::Result<SigningKeyRecord> {
        let signing = SigningKey::generate(&mut rand::rngs::OsRng);
        let mut id = [0u8; 6];
        rand::rngs::OsRng.fill_bytes(&mut id);
        let kid = format!("{}-{}", now.format("%Y%m%d"), hex::encode(id));
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: signing.as_bytes(),
                    aad: kid.as_bytes(),
                },
            )
            .map_err(|_| anyhow!("cannot seal the new signing key"))?;
        Ok(SigningKeyRecord {
            kid,
            public_key: signing.verifying_key().as_bytes().to_vec(),
            sealed_private_key: sealed,
            nonce: nonce.to_vec(),
            created_at: now,
            activated_at: now,
            retired_at: None,
            publish_until: None,
        })
    }

    /// Opens a stored key; fails when the master key is not the one it was sealed with.
    pub fn open(&self, record: &SigningKeyRecord) -> anyhow::Result<SigningKey> {
        if record.nonce.len() != 12 {
            return Err(anyhow!("signing key {} has a bad nonce", record.kid));
        }
        let seed = self
            .aead
            .decrypt(
                Nonce::from_slice(&record.nonce),
                Payload {
                    msg: &record.sealed_private_key,
                    aad: record.kid.as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow!(
                    "cannot open signing key {}: wrong master key or tampered row",
                    record.kid
                )
            })?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| anyhow!("signing key {} has the wrong length", record.kid))?;
        let key = SigningKey::from_bytes(&seed);
        if key.verifying_key().as_bytes().as_slice() != record.public_key.as_slice() {
            return Err(anyhow!(
                "signing key {} does not match its public key",
                record.kid
            ));
        }
        Ok(key)
    }
}

/// A public key that verifiers may trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    pub kid: String,
    pub public_key: Vec<u8>,
    pub active: bool,
}

impl PublishedKey {
    /// The JWK `x`: the raw public key, base64url without padding.
    pub fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.public_key)
    }
}

/// The key that signs now, ready for `jsonwebtoken`.
pub struct ActiveKey {
    pub kid: String,
    pub header: Header,
    pub encoding: EncodingKey,
}

/// The active key and the keys still published, loaded from the store.
pub struct KeyRing {
    sealer: KeySealer,
    active: RwLock<Option<Arc<ActiveKey>>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRing(***)")
    }
}

/// Keys worth publishing at `now`: the active one and retired ones whose
/// tokens may still be in use.
pub fn published(records: &[SigningKeyRecord], now: DateTime<Utc>) -> Vec<PublishedKey> {
    records
        .iter()
        .filter(|r| r.retired_at.is_none() || r.publish_until.is_some_and(|u| u > now))
        .map(|r| PublishedKey {
            kid: r.kid.clone(),
            public_key: r.public_key.clone(),
            active: r.retired_at.is_none(),
        })
        .collect()
}

impl KeyRing {
    pub fn new(sealer: KeySealer) -> Self {
        Self {
            sealer,
            active: RwLock::new(None),
        }
    }

    pub fn sealer(&self) -> &KeySealer {
        &self.sealer
    }

    /// Loads the active key, creating the first one when the store has none.
    pub async fn load(&self, store: &dyn Store) -> anyhow::Result<()> {
        let mut records = store
            .list_signing_keys()
            .await
            .context("cannot read signing keys")?;
        if !records.iter().any(|r| r.retired_at.is_none()) {
            let first = self.sealer.generate(Utc::now())?;
            if store
                .insert_first_signing_key(&first)
                .await
                .context("cannot store the first signing key")?
            {
                tracing::info!(kid = %first.kid, "created the first signing key");
            }
            records = store
                .list_signing_keys()
                .await
                .context("cannot read signing keys")?;
        }
        let record = records
            .iter()
            .find(|r| r.retired_at.is_none())
            .ok_or_else(|| anyhow!("no active signing key after creating one"))?;
        let current = self.active_kid();
        if current.as_deref() == Some(record.kid.as_str()) {
            return Ok(());
        }
        let signing = self.sealer.open(record)?;
        let der = signing
            .to_pkcs8_der()
            .map_err(|e| anyhow!("cannot encode signing key {}: {e}", record.kid))?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(record.kid.clone());
        let active = ActiveKey {
            kid: record.kid.clone(),
            header,
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
        };
        if let Ok(mut slot) = self.active.write() {
            *slot = Some(Arc::new(active));
        }
        if current.is_some() {
            tracing::info!(kid = %record.kid, "signing with a new key");
        }
        Ok(())
    }

    pub fn active(&self) -> Option<Arc<ActiveKey>> {
        self.active.read().ok().and_then(|a| a.clone())
    }

    fn active_kid(&self) -> Option<String> {
        self.active().map(|a| a.kid.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> KeySealer {
        use base64::engine::general_purpose::STANDARD;
        let master = MasterKey::from_base64(&STANDARD.encode([byte; 32])).unwrap();
        KeySealer::new(&master).unwrap()
    }

    #[test]
    fn sealed_keys_open_only_with_the_same_master_key_and_kid() {
        let s = sealer(1);
        let record = s.generate(Utc::now()).unwrap();
        assert_eq!(record.public_key.len(), 32);
        let seed = *s.open(&record).unwrap().as_bytes();
        assert_ne!(
            &record.sealed_private_key[..32],
            &seed[..],
            "stored sealed, not in the clear"
        );
        assert!(s.open(&record).is_ok());
        assert!(sealer(2).open(&record).is_err());
        let mut renamed = record.clone();
        renamed.kid = "other".into();
        assert!(s.open(&renamed).is_err());
        let mut flipped = record;
        flipped.sealed_private_key[0] ^= 1;
        assert!(s.open(&flipped).is_err());
    }

    #[test]
    fn retired_keys_stay_published_until_their_window_ends() {
        let s = sealer(1);
        let now = Utc::now();
        let mut old = s.generate(now).unwrap();
        old.retired_at = Some(now);
        old.publish_until = Some(now + chrono::Duration::days(1));
        let mut gone = s.generate(now).unwrap();
        gone.retired_at = Some(now);
        gone.publish_until = Some(now - chrono::Duration::seconds(1));
        let active = s.generate(now).unwrap();
        let p = published(&[old.clone(), gone, active.clone()], now);
        let kids: Vec<&str> = p.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, [old.kid.as_str(), active.kid.as_str()]);
        assert!(p[1].active && !p[0].active);
    }
}
