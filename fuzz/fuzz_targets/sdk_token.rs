//! The SDK's side of a verdict: what a hostile network, server or disk cache
//! can hand `calos-client`. Three kinds of input, told apart by how they start:
//!
//! * `{"keys"…` — a JWKS document (`KeyRing::from_json`, as fetched from the
//!   server); any token must then verify or be refused, never panic;
//! * `{…` — a claims payload, which the harness signs with the pinned key, so
//!   the claims decoding and checks behind the signature are reached;
//! * anything else — a compact JWS as it arrives (`token::verify` against the
//!   pinned keys: header, algorithm, `kid`, base64, signature).
//!
//! The pinned key is Ed25519 with the secret 32 × 0x07, `kid` `fuzz-key-1`.
#![no_main]

use std::sync::LazyLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;

use calos_client::keys::KeyRing;
use calos_client::token::{self, Expect};
use calos_client::TokenError;

const KID: &str = "fuzz-key-1";

struct Pinned {
    signing: SigningKey,
    ring: KeyRing,
    /// A token the pinned key signed, for checking hostile key sets against.
    good_token: String,
}

static PINNED: LazyLock<Pinned> = LazyLock::new(|| {
    let signing = SigningKey::from_bytes(&[7; 32]);
    let jwks = serde_json::json!({"keys": [{
        "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": KID,
        "x": URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
    }]});
    let ring = KeyRing::from_json(jwks.to_string().as_bytes()).expect("pinned key");
    assert_eq!(ring.len(), 1);
    let claims = br#"{"iss":"calos","installId":"fuzz-install-01","instanceId":"inst-1","valid":true,"code":"VALID","message":"license valid","tier":"pro","tierName":"Pro","features":["pos"],"limits":{},"allowedDomains":[],"iat":1767258000,"exp":1767862800,"graceUntil":1768467600,"refreshAfter":1767258900,"nonce":"nonce-1","verificationInterval":168}"#;
    let good_token = sign(&signing, claims);
    Pinned {
        signing,
        ring,
        good_token,
    }
});

const EXPECT: Expect<'static> = Expect {
    install_id: "fuzz-install-01",
    instance_id: "inst-1",
    nonce: Some("nonce-1"),
};

/// `b64url(header).b64url(payload).b64url(signature)` with the pinned key.
fn sign(key: &SigningKey, payload: &[u8]) -> String {
    let header = format!(r#"{{"typ":"JWT","alg":"EdDSA","kid":"{KID}"}}"#);
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = key.sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn check(result: &Result<calos_core::protocol::LicenseClaims, TokenError>) {
    if let Ok(claims) = result {
        // Whatever was accepted answers this install, instance and request.
        assert_eq!(claims.iss, calos_core::protocol::ISSUER);
        assert_eq!(claims.install_id, EXPECT.install_id);
        assert_eq!(claims.instance_id, EXPECT.instance_id);
        assert_eq!(Some(claims.nonce.as_str()), EXPECT.nonce);
    }
}

fuzz_target!(|data: &[u8]| {
    let p = &*PINNED;
    if data.starts_with(br#"{"keys""#) {
        if let Ok(ring) = KeyRing::from_json(data) {
            let got = token::verify(&p.good_token, &ring, &EXPECT);
            check(&got);
        }
        return;
    }
    if data.starts_with(b"{") {
        let token = sign(&p.signing, data);
        let got = token::verify(&token, &p.ring, &EXPECT);
        check(&got);
        // Read back from the disk cache: no nonce to compare.
        let cached = Expect {
            nonce: None,
            ..EXPECT
        };
        let _ = token::verify(&token, &p.ring, &cached);
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let got = token::verify(text.trim(), &p.ring, &EXPECT);
    check(&got);
    if got.is_ok() {
        // Only the pinned key can have made it: the signature covered these bytes.
        assert!(text.trim().split('.').count() == 3);
    }
});
