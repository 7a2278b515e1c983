//! The wire protocol between a deployment (the `calos-client` SDK) and the
//! server's public API. Shared by both sides so they cannot drift apart.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::plan::{Limit, Meter};
use crate::verdict::VerdictCode;

/// `POST /api/v1/license/verify` body.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyRequest {
    pub install_id: String,
    pub license_key: String,
    /// The domain the deployment serves, as configured by its operator.
    #[serde(default)]
    pub domain: Option<String>,
    /// Stable id of one running deployment, made by the SDK.
    pub instance_id: String,
    /// The vendor product's version.
    #[serde(default)]
    pub version: Option<String>,
    /// Random per request; echoed in the signed claims so an old answer cannot be replayed.
    pub nonce: String,
}

/// `POST /api/v1/license/verify` answer (200 for every verdict, valid or not).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    /// Compact JWS (`alg: EdDSA`, `kid` in the header) over [`LicenseClaims`].
    pub token: String,
}

/// What the signed verdict says. Times are Unix seconds (JWT NumericDate).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseClaims {
    /// Issuer: always [`ISSUER`].
    pub iss: String,
    pub install_id: String,
    pub instance_id: String,
    pub valid: bool,
    pub code: VerdictCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    pub tier: String,
    pub tier_name: String,
    /// Entitled features: the plan's true flags plus every included meter.
    pub features: Vec<String>,
    pub limits: BTreeMap<Meter, Limit>,
    pub allowed_domains: Vec<String>,
    pub iat: i64,
    /// End of the offline lease.
    pub exp: i64,
    /// After `exp`, an install that cannot reach the server works in grace until then.
    pub grace_until: i64,
    /// When the SDK should verify again.
    pub refresh_after: i64,
    pub nonce: String,
    /// The plan's verification interval in hours (0: never needs to phone home).
    pub verification_interval: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_end: Option<i64>,
    /// How much of the vendor's brand the deployment must show; signed, so
    /// it cannot be raised locally. Absent on answers that know no license.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branding_level: Option<crate::branding::BrandingLevel>,
    /// The branding's version (`GET /api/v1/branding`): refetch when it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branding_version: Option<u64>,
}

/// [`LicenseClaims`] borrowed from what the server already holds, so signing
/// a verdict copies no strings. Same fields, names and order: it serialises
/// to exactly the JSON of the owned claims (tested below), which is what the
/// SDK parses.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseClaimsRef<'a> {
    pub iss: &'a str,
    pub install_id: &'a str,
    pub instance_id: &'a str,
    pub valid: bool,
    pub code: VerdictCode,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<&'a str>,
    pub tier: &'a str,
    pub tier_name: &'a str,
    pub features: &'a [String],
    pub limits: &'a BTreeMap<Meter, Limit>,
    pub allowed_domains: &'a [String],
    pub iat: i64,
    pub exp: i64,
    pub grace_until: i64,
    pub refresh_after: i64,
    pub nonce: &'a str,
    pub verification_interval: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_end: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branding_level: Option<crate::branding::BrandingLevel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branding_version: Option<u64>,
}

impl LicenseClaims {
    pub fn as_ref(&self) -> LicenseClaimsRef<'_> {
        LicenseClaimsRef {
            iss: &self.iss,
            install_id: &self.install_id,
            instance_id: &self.instance_id,
            valid: self.valid,
            code: self.code,
            message: &self.message,
            warning: self.warning.as_deref(),
            tier: &self.tier,
            tier_name: &self.tier_name,
            features: &self.features,
            limits: &self.limits,
            allowed_domains: &self.allowed_domains,
            iat: self.iat,
            exp: self.exp,
            grace_until: self.grace_until,
            refresh_after: self.refresh_after,
            nonce: &self.nonce,
            verification_interval: self.verification_interval,
            period_end: self.period_end,
            branding_level: self.branding_level,
            branding_version: self.branding_version,
        }
    }
}

/// No limits: what a refusal carries.
pub static NO_LIMITS: BTreeMap<Meter, Limit> = BTreeMap::new();

/// `POST /api/v1/telemetry` body. Events are kept as raw JSON here so each
/// one can be validated (and rejected) on its own: good events in a batch
/// with bad ones are still stored.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TelemetryBatch {
    pub install_id: String,
    pub license_key: String,
    pub events: Vec<serde_json::Value>,
}

/// One event as a deployment sends it (what the SDK's `track` builds).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireEvent {
    /// Client-made and unique per install: a retried batch never counts twice.
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// Opaque user id, already hashed by the SDK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// RFC 3339 time the event happened.
    pub ts: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For `usage` events: the meter, quantity and (money meters) amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub props: serde_json::Map<String, serde_json::Value>,
}

/// `POST /api/v1/telemetry` answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TelemetryAck {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: Vec<RejectedEvent>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedEvent {
    /// Position in the batch.
    pub index: usize,
    pub event_id: Option<String>,
    pub reason: String,
}

/// The `iss` of every token the server signs.
pub const ISSUER: &str = "calos";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_request_uses_camel_case_and_refuses_unknown_fields() {
        let json = r#"{"installId":"a","licenseKey":"b","instanceId":"c","nonce":"n"}"#;
        let req: VerifyRequest = serde_json::from_str(json).unwrap();
        assert_eq!(req.domain, None);
        let bad = r#"{"installId":"a","licenseKey":"b","instanceId":"c","nonce":"n","tier":"enterprise"}"#;
        assert!(serde_json::from_str::<VerifyRequest>(bad).is_err());
    }

    fn sample_claims() -> LicenseClaims {
        LicenseClaims {
            iss: ISSUER.into(),
            install_id: "i".into(),
            instance_id: "x".into(),
            valid: true,
            code: VerdictCode::Valid,
            message: "ok".into(),
            warning: None,
            tier: "pro".into(),
            tier_name: "Pro".into(),
            features: vec!["pos".into()],
            limits: BTreeMap::from([(Meter::ApiRequests, Limit::Max(10_000))]),
            allowed_domains: vec![],
            iat: 1,
            exp: 2,
            grace_until: 3,
            refresh_after: 1,
            nonce: "n".into(),
            verification_interval: 168,
            period_end: None,
            branding_level: Some(crate::branding::BrandingLevel::None),
            branding_version: Some(3),
        }
    }

    #[test]
    fn claims_serialise_the_interface_names() {
        let claims = sample_claims();
        let v = serde_json::to_value(&claims).unwrap();
        for key in [
            "installId",
            "valid",
            "code",
            "tier",
            "nonce",
            "iat",
            "exp",
            "graceUntil",
            "refreshAfter",
            "tierName",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(v["code"], "VALID");
        assert_eq!(v["limits"]["api_requests"], 10_000);
    }

    #[test]
    fn borrowed_claims_serialise_byte_for_byte_like_the_owned_ones() {
        let mut claims = sample_claims();
        let same = |c: &LicenseClaims| {
            let owned = serde_json::to_string(c).unwrap();
            assert_eq!(serde_json::to_string(&c.as_ref()).unwrap(), owned);
            let back: LicenseClaims = serde_json::from_str(&owned).unwrap();
            assert_eq!(&back, c);
        };
        same(&claims);
        claims.warning = Some("3 instances running; the plan allows 2 \"x\"".into());
        claims.period_end = Some(1_700_000_000);
        claims.allowed_domains = vec!["*.acme.com".into(), "acme.com".into()];
        claims.features.push("crypto".into());
        claims.limits.insert(Meter::Seats, Limit::Unlimited);
        same(&claims);
        claims.valid = false;
        claims.code = VerdictCode::BadLicenseKey;
        claims.features.clear();
        claims.limits.clear();
        same(&claims);
    }
}
