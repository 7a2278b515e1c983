//! Schemas the OpenAPI document needs that no handler type carries: the
//! error body every failure shares, the admin API's answer envelope, and the
//! shapes of answers built from third-party types (JWKs) or plain JSON.

use serde::Serialize;
use utoipa::ToSchema;

/// Every error: `{"error":{"code","message"}}` (see [`crate::error::ApiError`]).
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code (`unauthenticated`, `not_found`, `invalid_field`, …).
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
}

/// The admin API's answer: `success` plus the resource's fields (camelCase).
#[derive(Serialize, ToSchema)]
pub struct Success {
    /// `true`, except a login that still needs its TOTP step.
    pub success: bool,
}

/// `GET /healthz`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` (with status 503) when the store does not answer.
    pub status: String,
    /// The store backend: `sqlite` or `postgres`.
    pub store: String,
}

/// `GET /.well-known/jwks.json`: a JWK set of Ed25519 public keys.
#[derive(Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// One OKP/Ed25519 public key (RFC 8037).
#[derive(Serialize, ToSchema)]
pub struct Jwk {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// Key id, the `kid` in verdict tokens' headers.
    pub kid: String,
    /// `EdDSA`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `sig`.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
}
