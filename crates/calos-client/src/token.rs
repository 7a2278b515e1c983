//! Verification of one signed verdict: signature (EdDSA only, against a
//! trusted key by `kid`), issuer, and that it answers *this* install,
//! instance and request. Times are judged by the caller, which owns the clock.

use base64::Engine;
use calos_core::protocol::{LicenseClaims, ISSUER};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};

use crate::error::TokenError;
use crate::keys::KeyRing;

/// What a token must say to be accepted.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    pub install_id: &'a str,
    pub instance_id: &'a str,
    /// The nonce sent with the request; `None` for a token read back from the
    /// disk cache (it was checked when it arrived).
    pub nonce: Option<&'a str>,
}

/// Verifies `token` and returns its claims.
pub fn verify(
    token: &str,
    keys: &KeyRing,
    expect: &Expect<'_>,
) -> Result<LicenseClaims, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| header_error(token, &e))?;
    if header.alg != Algorithm::EdDSA {
        return Err(TokenError::WrongAlgorithm);
    }
    let kid = header.kid.ok_or(TokenError::MissingKid)?;
    let key = keys
        .get(&kid)
        .ok_or_else(|| TokenError::UnknownKey(kid.clone()))?;

    let mut validation = Validation::new(Algorithm::EdDSA);
    // Lease, grace and skew are judged against the SDK's own clock rules.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["iss"]);
    validation.set_issuer(&[ISSUER]);
    let data = jsonwebtoken::decode::<LicenseClaims>(token, key, &validation).map_err(|e| {
        match e.kind() {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
            ErrorKind::InvalidAlgorithm => TokenError::WrongAlgorithm,
            // A flipped byte in the signature part may not decode as base64 at all.
            ErrorKind::Base64(_) => TokenError::BadSignature,
            _ => TokenError::Malformed(e.to_string()),
        }
    })?;
    let claims = data.claims;
    if claims.install_id != expect.install_id {
        return Err(TokenError::WrongInstall);
    }
    if claims.instance_id != expect.instance_id {
        return Err(TokenError::WrongInstance);
    }
    if let Some(nonce) = expect.nonce {
        if claims.nonce != nonce {
            return Err(TokenError::NonceMismatch);
        }
    }
    Ok(claims)
}

/// A header jsonwebtoken cannot parse: name `alg: none` and other algorithms
/// it does not know as such, anything else is malformed.
fn header_error(token: &str, e: &jsonwebtoken::errors::Error) -> TokenError {
    let alg = token
        .split('.')
        .next()
        .and_then(|h| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .ok()
        })
        .and_then(|raw| serde_json::from_slice::<serde_json::Value>(&raw).ok())
        .and_then(|v| v.get("alg").and_then(|a| a.as_str()).map(str::to_owned));
    match alg {
        Some(alg) if alg != "EdDSA" => TokenError::WrongAlgorithm,
        _ => TokenError::Malformed(e.to_string()),
    }
}
