//! From a decision to signed claims. The rules live in
//! `calos_core::verdict`; this only fills in the claim fields and signs.
//! The claims borrow from the cached license and the request: a verdict
//! copies no strings on its way into the token.

use chrono::{DateTime, Utc};

use calos_core::branding::BrandingLevel;
use calos_core::protocol::{LicenseClaimsRef, VerifyRequest, ISSUER, NO_LIMITS};
use calos_core::verdict::{Decision, VerdictCode, VerifyPolicy};

use super::cache::CachedLicense;
use calos_core::license::License;

/// The same words for a wrong key and an unknown install.
pub const BAD_CREDENTIALS: &str = "invalid install id or license key";

/// Claims for a deployment that proved its key. `license` is the cached
/// license advanced to `now`.
pub fn licensed_claims<'a>(
    cached: &'a CachedLicense,
    license: &'a License,
    decision: &'a Decision,
    req: &'a VerifyRequest,
    now: DateTime<Utc>,
) -> LicenseClaimsRef<'a> {
    let plan = &cached.plan;
    LicenseClaimsRef {
        iss: ISSUER,
        install_id: license.install_id.as_str(),
        instance_id: &req.instance_id,
        valid: decision.valid,
        code: decision.code.outward(),
        message: &decision.message,
        warning: decision.warning.as_deref(),
        tier: plan.slug.as_str(),
        tier_name: &plan.name,
        // An invalid verdict entitles to nothing.
        features: if decision.valid {
            &cached.features
        } else {
            &[]
        },
        limits: &plan.limits,
        allowed_domains: &cached.allowed_domains,
        iat: now.timestamp(),
        exp: decision.lease_until.timestamp(),
        grace_until: decision.grace_until.timestamp(),
        refresh_after: decision.refresh_after.timestamp(),
        nonce: &req.nonce,
        verification_interval: plan.verification_interval_hours,
        period_end: Some(license.current_period_end.timestamp()),
        // Pure and cheap (one flag lookup); the version came with the cache entry.
        branding_level: Some(BrandingLevel::for_plan(plan, decision.valid)),
        branding_version: Some(cached.branding_version),
    }
}

/// Claims for an answer that grants nothing and knows no license: bad
/// credentials, rate limited. Identical for a wrong key and an unknown install.
pub fn refusal_claims<'a>(
    code: VerdictCode,
    message: &'a str,
    req: &'a VerifyRequest,
    policy: &VerifyPolicy,
    now: DateTime<Utc>,
) -> LicenseClaimsRef<'a> {
    LicenseClaimsRef {
        iss: ISSUER,
        install_id: &req.install_id,
        instance_id: &req.instance_id,
        valid: false,
        code: code.outward(),
        message,
        warning: None,
        tier: "none",
        tier_name: "None",
        features: &[],
        limits: &NO_LIMITS,
        allowed_domains: &[],
        iat: now.timestamp(),
        exp: now.timestamp(),
        grace_until: now.timestamp(),
        refresh_after: (now + policy.refresh_interval).timestamp(),
        nonce: &req.nonce,
        verification_interval: 0,
        period_end: None,
        branding_level: None,
        branding_version: None,
    }
}
