//! TOTP second factors (RFC 6238: SHA-1, 6 digits, 30-second steps, one
//! step of clock skew either way) with `totp-rs`. The secret is sealed at
//! rest with ChaCha20-Poly1305 under its own HKDF subkey of the master key,
//! with the admin id as associated data (a sealed secret copied to another
//! admin's row does not open).

use anyhow::{anyhow, Context};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

use crate::secrets::MasterKey;

const ISSUER: &str = "CALOS Enterprise";
const STEP_SECS: u64 = 30;
const DIGITS: usize = 6;
/// 160 bits, the length RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
const NONCE_BYTES: usize = 12;

/// Seals and opens TOTP secrets.
pub struct TotpSealer {
    aead: ChaCha20Poly1305,
}

impl std::fmt::Debug for TotpSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSealer(***)")
    }
}

impl TotpSealer {
    const INFO: &'static [u8] = b"calos totp-secret seal v1";

    pub fn new(master: &MasterKey) -> anyhow::Result<Self> {
        let key = master.derive(Self::INFO)?;
        Ok(Self {
            aead: ChaCha20Poly1305::new(Key::from_slice(&key)),
        })
    }

    /// A new random secret.
    pub fn generate_secret() -> Vec<u8> {
        let mut secret = vec![0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        secret
    }

    /// Nonce followed by the ciphertext.
    pub fn seal(&self, admin_id: i64, secret: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = admin_id.to_be_bytes();
        let sealed = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret,
                    aad: &aad,
                },
            )
            .map_err(|_| anyhow!("cannot seal the TOTP secret"))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    pub fn open(&self, admin_id: i64, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        if sealed.len() <= NONCE_BYTES {
            return Err(anyhow!(
                "sealed TOTP secret of admin {admin_id} is too short"
            ));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let aad = admin_id.to_be_bytes();
        self.aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                anyhow!("cannot open the TOTP secret of admin {admin_id}: wrong master key or tampered row")
            })
    }
}

/// The generator for one admin's secret.
pub fn generator(secret: Vec<u8>, username: &str) -> anyhow::Result<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECS,
        secret,
        Some(ISSUER.to_owned()),
        username.to_owned(),
    )
    .context("cannot build the TOTP generator")
}

/// What an authenticator app needs: the `otpauth://` URI (for a QR code)
/// and the base32 secret (to type in).
pub fn enrolment(totp: &TOTP) -> (String, String) {
    (totp.get_url(), totp.get_secret_base32())
}

/// The time step `code` is right for (current step ± 1), if any. The caller
/// must still claim the step so a code is accepted only once.
pub fn matching_step(totp: &TOTP, code: &str, unix_secs: u64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now_step = unix_secs / STEP_SECS;
    let mut found = None;
    // Every candidate is compared (constant time), whichever matches.
    for step in [now_step.saturating_sub(1), now_step, now_step + 1] {
        let expected = totp.generate(step * STEP_SECS);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = i64::try_from(step).ok();
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> TotpSealer {
        use base64::Engine;
        let key = base64::engine::general_purpose::STANDARD.encode([byte; 32]);
        TotpSealer::new(&MasterKey::from_base64(&key).unwrap()).unwrap()
    }

    #[test]
    fn secrets_open_only_with_the_same_key_and_admin() {
        let secret = TotpSealer::generate_secret();
        let sealed = sealer(1).seal(7, &secret).unwrap();
        assert!(!sealed.windows(secret.len()).any(|w| w == secret));
        assert_eq!(sealer(1).open(7, &sealed).unwrap(), secret);
        assert!(sealer(1).open(8, &sealed).is_err());
        assert!(sealer(2).open(7, &sealed).is_err());
        assert!(sealer(1).open(7, &sealed[..5]).is_err());
    }

    #[test]
    fn codes_match_their_step_and_neighbours_only() {
        // RFC 6238 appendix B test secret, SHA-1.
        let totp = generator(b"12345678901234567890".to_vec(), "alice").unwrap();
        assert_eq!(totp.generate(59), "287082");
        assert_eq!(matching_step(&totp, "287082", 59), Some(1));
        assert_eq!(matching_step(&totp, "287082", 89), Some(1), "one step late");
        assert_eq!(matching_step(&totp, "287082", 150), None, "too late");
        assert_eq!(matching_step(&totp, "28708", 59), None);
        assert_eq!(matching_step(&totp, "abcdef", 59), None);
        let (uri, secret) = enrolment(&totp);
        assert!(uri.starts_with("otpauth://totp/CALOS%20Enterprise:alice?secret="));
        assert!(uri.contains(&secret));
    }
}
