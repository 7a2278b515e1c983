//! `GET /.well-known/jwks.json`: the active signing key and every retired
//! key whose tokens may still be in use, as OKP/Ed25519 JWKs. Read from the
//! store on each request (it is rarely called), so a key rotated on another
//! node is published here before any node signs with it.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use chrono::Utc;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
};

use crate::app::AppState;
use crate::error::ApiResult;
use crate::licensing::keys::{published, PublishedKey};

#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = "jwks",
    tag = "license",
    summary = "Public keys that sign verdicts",
    responses((status = 200, description = "The active key and retired keys still in use", body = crate::api::openapi::schemas::Jwks))
)]
pub async fn jwks(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let records = state.store.list_signing_keys().await?;
    let set = JwkSet {
        keys: published(&records, Utc::now()).iter().map(to_jwk).collect(),
    };
    Ok((
        // Short: verifiers refetch on an unknown kid anyway.
        [(header::CACHE_CONTROL, "public, max-age=300")],
        axum::Json(set),
    ))
}

pub fn to_jwk(key: &PublishedKey) -> Jwk {
    Jwk {
        common: CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(KeyAlgorithm::EdDSA),
            key_id: Some(key.kid.clone()),
            ..CommonParameters::default()
        },
        algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: EllipticCurve::Ed25519,
            x: key.x(),
        }),
    }
}
