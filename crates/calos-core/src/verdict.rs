//! The license verdict a deployment receives when it phones home: pure rules
//! from (license, plan, request, now) to a code, validity and the offline lease.
//!
//! Three clocks, kept apart on purpose (the seed ran its grace period on the
//! same clock as its cache, so grace could never apply):
//! * `refresh_after`: when the deployment should ask again (short, so a revoke
//!   reaches an online deployment within minutes);
//! * `lease_until` (the token's `exp`): how long the answer stays good offline
//!   (the plan's verification interval);
//! * `grace_until`: after the lease, how long an install that cannot reach the
//!   server keeps working, in a degraded "grace" state.

use std::borrow::Cow;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::customer::Domain;
use crate::license::{License, LicenseStatus};
use crate::plan::Plan;

/// Machine-readable reason of a verdict.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerdictCode {
    Valid,
    Trial,
    TrialExpired,
    Expired,
    ValidInGrace,
    Suspended,
    Revoked,
    UnknownInstall,
    BadLicenseKey,
    DomainNotAllowed,
    TooManyInstances,
    RateLimited,
}

impl VerdictCode {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictCode::Valid => "VALID",
            VerdictCode::Trial => "TRIAL",
            VerdictCode::TrialExpired => "TRIAL_EXPIRED",
            VerdictCode::Expired => "EXPIRED",
            VerdictCode::ValidInGrace => "VALID_IN_GRACE",
            VerdictCode::Suspended => "SUSPENDED",
            VerdictCode::Revoked => "REVOKED",
            VerdictCode::UnknownInstall => "UNKNOWN_INSTALL",
            VerdictCode::BadLicenseKey => "BAD_LICENSE_KEY",
            VerdictCode::DomainNotAllowed => "DOMAIN_NOT_ALLOWED",
            VerdictCode::TooManyInstances => "TOO_MANY_INSTANCES",
            VerdictCode::RateLimited => "RATE_LIMITED",
        }
    }

    /// Whether a deployment holding this verdict may run.
    pub fn is_valid(self) -> bool {
        matches!(
            self,
            VerdictCode::Valid | VerdictCode::Trial | VerdictCode::ValidInGrace
        )
    }

    /// What the deployment is told. An unknown install and a wrong key look
    /// the same from outside, so the code cannot be used to probe which
    /// install ids exist; the server logs the true code.
    pub fn outward(self) -> VerdictCode {
        match self {
            VerdictCode::UnknownInstall => VerdictCode::BadLicenseKey,
            other => other,
        }
    }
}

/// Whether running more instances than the plan allows stops the license or only warns.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverLimitPolicy {
    /// Paid plans: never break a paying customer's production; warn and flag an upsell.
    #[default]
    Warn,
    /// Free plans: the extra instances are refused.
    Block,
}

impl OverLimitPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            OverLimitPolicy::Warn => "warn",
            OverLimitPolicy::Block => "block",
        }
    }
}

/// How many running instances (deployments) a plan allows, and what happens
/// beyond that. The allowance is the plan's `seats` limit (`null` =
/// unlimited, as for every meter); free plans block the extra instances,
/// paid plans only warn — a paying customer's production never stops
/// because one more node started, the vendor gets an upsell signal instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceRule {
    pub limit: Option<u64>,
    pub over_limit: OverLimitPolicy,
}

impl InstanceRule {
    pub fn for_plan(plan: &Plan) -> Self {
        let limit = match plan.limit(crate::plan::Meter::Seats) {
            crate::plan::Limit::Unlimited => None,
            // A limit of 0 ("not included") still lets the asking instance run.
            crate::plan::Limit::Max(n) => Some(n.max(1)),
        };
        let over_limit = if plan.is_paid() {
            OverLimitPolicy::Warn
        } else {
            OverLimitPolicy::Block
        };
        Self { limit, over_limit }
    }
}

/// The longest a token signed now can be relied on (its lease plus the grace
/// after it) under any of `plans`: how long a retired signing key must stay
/// published.
pub fn longest_token_life(plans: &[Plan], policy: &VerifyPolicy) -> Duration {
    plans
        .iter()
        .map(|p| lease_length(p, policy) * 2)
        .chain([policy.offline_plan_lease * 2])
        .max()
        .unwrap_or(policy.offline_plan_lease * 2)
        + policy.expiry_grace
}

/// Server-wide timing rules of verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyPolicy {
    /// How soon an online deployment asks again.
    pub refresh_interval: Duration,
    /// Lease for plans whose verification interval is 0 ("never phones home": air-gapped).
    pub offline_plan_lease: Duration,
    /// After a contract ends, how long the license still verifies as `VALID_IN_GRACE`.
    pub expiry_grace: Duration,
}

impl Default for VerifyPolicy {
    fn default() -> Self {
        Self {
            refresh_interval: Duration::minutes(15),
            offline_plan_lease: Duration::days(365),
            expiry_grace: Duration::days(7),
        }
    }
}

/// What the verdict rules look at.
#[derive(Debug, Clone, Copy)]
pub struct VerifyFacts<'a> {
    /// The license, already advanced to `now` (see `License::advance_time`).
    pub license: &'a License,
    pub plan: &'a Plan,
    /// The domain the deployment runs on, as it reports it.
    pub domain: Option<&'a Domain>,
    /// Instances seen recently, including the one asking.
    pub active_instances: u64,
    /// The plan's instance allowance (`None` = unlimited) and what exceeding it does.
    pub instance_limit: Option<u64>,
    pub over_limit: OverLimitPolicy,
    pub now: DateTime<Utc>,
}

/// The decision, before it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub code: VerdictCode,
    pub valid: bool,
    /// Fixed words for each code; built only when it names counts.
    pub message: Cow<'static, str>,
    pub warning: Option<String>,
    pub refresh_after: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
    pub grace_until: DateTime<Utc>,
}

/// Decides a verdict for a deployment that proved its key.
pub fn decide(facts: &VerifyFacts<'_>, policy: &VerifyPolicy) -> Decision {
    let l = facts.license;
    let now = facts.now;
    let (code, message, mut warning) = match l.status {
        LicenseStatus::Revoked => (VerdictCode::Revoked, Cow::Borrowed("license revoked"), None),
        LicenseStatus::Suspended => (
            VerdictCode::Suspended,
            Cow::Borrowed("license suspended"),
            None,
        ),
        LicenseStatus::Expired if l.is_unconverted_trial() => (
            VerdictCode::TrialExpired,
            Cow::Borrowed("trial ended"),
            None,
        ),
        LicenseStatus::Expired => match l.ends_at {
            Some(end) if now < end + policy.expiry_grace => (
                VerdictCode::ValidInGrace,
                Cow::Borrowed("license expired; still valid during the renewal grace period"),
                Some(format!(
                    "license expired on {}; renew before {}",
                    end.to_rfc3339(),
                    (end + policy.expiry_grace).to_rfc3339()
                )),
            ),
            _ => (VerdictCode::Expired, Cow::Borrowed("license expired"), None),
        },
        LicenseStatus::Trial => (VerdictCode::Trial, Cow::Borrowed("trial license"), None),
        LicenseStatus::Active => (VerdictCode::Valid, Cow::Borrowed("license valid"), None),
    };

    let (code, message) = if code.is_valid() && !domain_allowed(&l.domains, facts.domain) {
        (
            VerdictCode::DomainNotAllowed,
            Cow::Borrowed("this domain is not allowed for the license"),
        )
    } else {
        (code, message)
    };

    let over = facts
        .instance_limit
        .is_some_and(|max| facts.active_instances > max);
    let (code, message) = match (code.is_valid(), over, facts.over_limit) {
        (true, true, OverLimitPolicy::Block) => (
            VerdictCode::TooManyInstances,
            Cow::Owned(format!(
                "{} instances running; the plan allows {}",
                facts.active_instances,
                facts.instance_limit.unwrap_or_default()
            )),
        ),
        (true, true, OverLimitPolicy::Warn) => {
            warning = Some(format!(
                "{} instances running; the plan allows {}",
                facts.active_instances,
                facts.instance_limit.unwrap_or_default()
            ));
            (code, message)
        }
        _ => (code, message),
    };

    let valid = code.is_valid();
    if !valid {
        // An invalid verdict grants nothing offline.
        return Decision {
            code,
            valid,
            message,
            warning,
            refresh_after: now + policy.refresh_interval,
            lease_until: now,
            grace_until: now,
        };
    }

    let interval = lease_length(facts.plan, policy);
    let mut lease_until = now + interval;
    // Never lease past a known end: a trial's end or the renewal grace.
    if code == VerdictCode::Trial {
        if let Some(end) = l.trial_ends_at {
            lease_until = lease_until.min(end);
        }
    }
    if code == VerdictCode::ValidInGrace {
        if let Some(end) = l.ends_at {
            lease_until = lease_until.min(end + policy.expiry_grace);
        }
    }
    if let Some(end) = l.ends_at.filter(|_| code == VerdictCode::Valid) {
        lease_until = lease_until.min(end + policy.expiry_grace);
    }
    let lease_until = lease_until.max(now);
    let grace_until = if code == VerdictCode::Valid {
        lease_until + interval
    } else {
        lease_until
    };
    Decision {
        code,
        valid,
        message,
        warning,
        refresh_after: (now + policy.refresh_interval).min(lease_until),
        lease_until,
        grace_until,
    }
}

/// The offline lease (and, for valid paid licenses, the grace after it): the
/// plan's verification interval, or the air-gapped lease when it is 0.
fn lease_length(plan: &Plan, policy: &VerifyPolicy) -> Duration {
    match plan.verification_interval_hours {
        0 => policy.offline_plan_lease,
        hours => Duration::hours(i64::from(hours)),
    }
}

/// Whether `domain` may use a license restricted to `allowed` (empty = any).
/// `*.acme.com` matches `a.acme.com` and `b.a.acme.com`, not `acme.com`.
pub fn domain_allowed(allowed: &[Domain], domain: Option<&Domain>) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let Some(domain) = domain else {
        return false;
    };
    let host = domain.as_str();
    allowed.iter().any(|a| match a.as_str().strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with('.') && head.len() > 1),
        None => a.as_str() == host,
    })
}

#[cfg(test)]
mod tests;
