//! What the host application sees: a license state computed from the last
//! signed answer and the SDK's clock, plus diagnostics for operators.

use std::collections::BTreeMap;
use std::time::Duration;

use calos_core::plan::{Limit, Meter};
use calos_core::protocol::LicenseClaims;
use calos_core::verdict::VerdictCode;
use chrono::{DateTime, Utc};

/// The license as the deployment may act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenseState {
    /// A valid signed answer whose offline lease has not ended.
    Licensed {
        tier: String,
        features: Vec<String>,
        limits: BTreeMap<Meter, Limit>,
        /// End of the offline lease (the token's `exp`).
        expires: DateTime<Utc>,
    },
    /// The lease ended and the server could not be reached: still working,
    /// degraded, until `until`.
    Grace {
        until: DateTime<Utc>,
        tier: String,
        features: Vec<String>,
        limits: BTreeMap<Meter, Limit>,
    },
    /// Not licensed, and why.
    Unlicensed { code: UnlicensedCode },
}

/// Why a deployment is unlicensed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlicensedCode {
    /// The server said so in a signed answer (REVOKED, SUSPENDED, EXPIRED, BAD_LICENSE_KEY, ...).
    Verdict(VerdictCode),
    /// No valid answer yet: never verified, or every answer so far was refused.
    NotVerified,
    /// The last valid answer's lease and grace both ended without a refresh.
    GraceEnded,
}

impl LicenseState {
    pub fn is_licensed(&self) -> bool {
        !matches!(self, LicenseState::Unlicensed { .. })
    }

    /// Whether `feature` may be used now (licensed or in grace, and entitled).
    pub fn allows(&self, feature: &str) -> bool {
        match self {
            LicenseState::Licensed { features, .. } | LicenseState::Grace { features, .. } => {
                features.iter().any(|f| f == feature)
            }
            LicenseState::Unlicensed { .. } => false,
        }
    }
}

/// The state for the held answer at effective time `now`.
pub fn evaluate(held: Option<&LicenseClaims>, now: i64) -> LicenseState {
    let Some(c) = held else {
        return LicenseState::Unlicensed {
            code: UnlicensedCode::NotVerified,
        };
    };
    if !c.valid {
        return LicenseState::Unlicensed {
            code: UnlicensedCode::Verdict(c.code),
        };
    }
    if now < c.exp {
        LicenseState::Licensed {
            tier: c.tier.clone(),
            features: c.features.clone(),
            limits: c.limits.clone(),
            expires: to_time(c.exp),
        }
    } else if now < c.grace_until {
        LicenseState::Grace {
            until: to_time(c.grace_until),
            tier: c.tier.clone(),
            features: c.features.clone(),
            limits: c.limits.clone(),
        }
    } else {
        LicenseState::Unlicensed {
            code: UnlicensedCode::GraceEnded,
        }
    }
}

pub fn to_time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// For operators and support: what the SDK last saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diagnostics {
    pub instance_id: String,
    /// The held answer's verdict code and message (and warning, e.g. over the instance limit).
    pub code: Option<VerdictCode>,
    pub message: Option<String>,
    pub warning: Option<String>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    /// Delay the background refresh chose after its last attempt.
    pub next_refresh_in: Option<Duration>,
    /// Local clock minus the server's, when beyond the ±5 min tolerance.
    pub clock_skew_secs: Option<i64>,
    /// How far the local clock was set back (beyond the tolerance); it did not extend anything.
    pub clock_moved_back_secs: Option<i64>,
    pub telemetry: TelemetryStats,
}

/// Telemetry counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TelemetryStats {
    pub queued: usize,
    /// Events dropped because the queue was full (oldest first).
    pub dropped: u64,
    pub sent: u64,
    pub duplicates: u64,
    /// Events the server refused (with a reason) or that were too large to send.
    pub rejected: u64,
    pub failed_posts: u64,
    /// Delay chosen after the last failed POST.
    pub next_retry_in: Option<Duration>,
}
