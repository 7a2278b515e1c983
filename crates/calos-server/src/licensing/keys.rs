//! Ed25519 signing keys: made with `ed25519-dalek`, sealed at rest with
//! ChaCha20-Poly1305 under a subkey of the master key (the kid is the
//! associated data, so a sealed key cannot be passed off under another kid),
//! and held decrypted only in memory.

use std::sync::{Arc, RwLock};

use anyhow::{anyhow, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::BytesMut;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer, SigningKey};
use jsonwebtoken::{Algorithm, Header};
use rand::RngCore;
use serde::Serialize;

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

/// The key that signs now, held parsed: signing a token costs one Ed25519
/// signature and nothing else (no key decoding, no public-key derivation).
pub struct ActiveKey {
    pub kid: String,
    signing: SigningKey,
    /// The token's first part and its dot: base64url of the JOSE header
    /// (`alg: EdDSA`, `kid`), the same for every token this key signs.
    header_part: String,
}

impl ActiveKey {
    pub fn new(kid: &str, signing: SigningKey) -> anyhow::Result<Self> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_owned());
        let json = serde_json::to_vec(&header).context("cannot encode the JOSE header")?;
        let mut header_part = URL_SAFE_NO_PAD.encode(json);
        header_part.push('.');
        Ok(Self {
            kid: kid.to_owned(),
            signing,
            header_part,
        })
    }

    /// A compact JWS over `claims`.
    pub fn sign<T: Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        let mut out = BytesMut::new();
        self.sign_into(claims, &mut out)?;
        String::from_utf8(Vec::from(out)).context("a compact JWS is ASCII")
    }

    /// Appends a compact JWS over `claims` to `out` (RFC 7515 §7.1:
    /// `b64url(header) . b64url(claims) . b64url(signature)`, the signature
    /// over the first two parts). The claims JSON goes through a per-thread
    /// buffer, so a token costs no allocation beyond `out` growing.
    pub fn sign_into<T: Serialize>(&self, claims: &T, out: &mut BytesMut) -> anyhow::Result<()> {
        let start = out.len();
        out.extend_from_slice(self.header_part.as_bytes());
        CLAIMS_JSON.with(|cell| -> anyhow::Result<()> {
            let mut json = cell.borrow_mut();
            json.clear();
            serde_json::to_writer(&mut *json, claims).context("cannot encode the claims")?;
            append_base64url(out, &json);
            if json.capacity() > MAX_KEPT_BUFFER {
                *json = Vec::new();
            }
            Ok(())
        })?;
        let signature = self.signing.sign(&out[start..]);
        out.extend_from_slice(b".");
        append_base64url(out, &signature.to_bytes());
        Ok(())
    }
}

thread_local! {
    /// Claims JSON before base64url: reused by every token signed on the thread.
    static CLAIMS_JSON: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A thread's claims buffer is dropped rather than kept above this size.
const MAX_KEPT_BUFFER: usize = 64 * 1024;

fn append_base64url(out: &mut BytesMut, bytes: &[u8]) {
    let at = out.len();
    let len = base64::encoded_len(bytes.len(), false).unwrap_or(0);
    out.resize(at + len, 0);
    // The slice is exactly the encoded length, so this cannot run short.
    let written = URL_SAFE_NO_PAD
        .encode_slice(bytes, &mut out[at..])
        .unwrap_or(0);
    out.truncate(at + written);
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
        let active = ActiveKey::new(&record.kid, self.sealer.open(record)?)?;
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
    fn tokens_verify_with_a_standard_jose_library() {
        let s = sealer(1);
        let record = s.generate(Utc::now()).unwrap();
        let key = ActiveKey::new(&record.kid, s.open(&record).unwrap()).unwrap();
        let claims = serde_json::json!({"sub": "x", "exp": 4_000_000_000_i64, "note": "é\"\n"});
        let token = key.sign(&claims).unwrap();
        let mut prefixed = BytesMut::from(&b"{\"token\":\""[..]);
        key.sign_into(&claims, &mut prefixed).unwrap();
        assert_eq!(&prefixed[10..], token.as_bytes(), "appends the same token");

        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.kid.as_deref(), Some(record.kid.as_str()));
        let public = jsonwebtoken::DecodingKey::from_ed_components(
            &URL_SAFE_NO_PAD.encode(&record.public_key),
        )
        .unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::EdDSA);
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<serde_json::Value>(&token, &public, &validation).unwrap();
        assert_eq!(data.claims, claims);

        let mut flipped = token.into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert!(jsonwebtoken::decode::<serde_json::Value>(&flipped, &public, &validation).is_err());
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
