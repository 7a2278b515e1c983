//! From a decision to signed claims. The rules live in
//! `calos_core::verdict`; this only fills in the claim fields and signs.

use chrono::{DateTime, Utc};

use calos_core::protocol::{LicenseClaims, VerifyRequest, ISSUER};
use calos_core::verdict::{Decision, VerdictCode, VerifyPolicy};

use super::keys::ActiveKey;
use calos_core::license::License;
use calos_core::plan::Plan;

/// The same words for a wrong key and an unknown install.
pub const BAD_CREDENTIALS: &str = "invalid install id or license key";

/// Claims for a deployment that proved its key.
pub fn licensed_claims(
    license: &License,
    plan: &Plan,
    decision: &Decision,
    req: &VerifyRequest,
    now: DateTime<Utc>,
) -> LicenseClaims {
    LicenseClaims {
        iss: ISSUER.to_owned(),
        install_id: license.install_id.to_string(),
        instance_id: req.instance_id.clone(),
        valid: decision.valid,
        code: decision.code.outward(),
        message: decision.message.clone(),
        warning: decision.warning.clone(),
        tier: plan.slug.as_str().to_owned(),
        tier_name: plan.name.clone(),
        // An invalid verdict entitles to nothing.
        features: if decision.valid {
            plan.entitled_features()
        } else {
            Vec::new()
        },
        limits: plan.limits.clone(),
        allowed_domains: license.domains.iter().map(|d| d.to_string()).collect(),
        iat: now.timestamp(),
        exp: decision.lease_until.timestamp(),
        grace_until: decision.grace_until.timestamp(),
        refresh_after: decision.refresh_after.timestamp(),
        nonce: req.nonce.clone(),
        verification_interval: plan.verification_interval_hours,
        period_end: Some(license.current_period_end.timestamp()),
    }
}

/// Claims for an answer that grants nothing and knows no license: bad
/// credentials, rate limited. Identical for a wrong key and an unknown install.
pub fn refusal_claims(
    code: VerdictCode,
    message: &str,
    req: &VerifyRequest,
    policy: &VerifyPolicy,
    now: DateTime<Utc>,
) -> LicenseClaims {
    LicenseClaims {
        iss: ISSUER.to_owned(),
        install_id: req.install_id.clone(),
        instance_id: req.instance_id.clone(),
        valid: false,
        code: code.outward(),
        message: message.to_owned(),
        warning: None,
        tier: "none".to_owned(),
        tier_name: "None".to_owned(),
        features: Vec::new(),
        limits: Default::default(),
        allowed_domains: Vec::new(),
        iat: now.timestamp(),
        exp: now.timestamp(),
        grace_until: now.timestamp(),
        refresh_after: (now + policy.refresh_interval).timestamp(),
        nonce: req.nonce.clone(),
        verification_interval: 0,
        period_end: None,
    }
}

/// A compact JWS (`alg: EdDSA`, `kid`) over `claims`.
pub fn sign(key: &ActiveKey, claims: &LicenseClaims) -> anyhow::Result<String> {
    jsonwebtoken::encode(&key.header, claims, &key.encoding)
        .map_err(|e| anyhow::anyhow!("cannot sign the verdict: {e}"))
}
