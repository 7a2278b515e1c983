//! The license state machine: pure functions from (license, command, now) to a
//! new license or a refusal. Storage and HTTP only carry the results.
//!
//! ```text
//!            activate                  suspend
//!   trial ───────────▶ active ◀──────────────▶ suspended
//!     │  ▲               │  ▲     reactivate       │
//!     │  │ extend trial  │  │ renew                │
//!     ▼  │               ▼  │                      │
//!   expired ◀────────── (contract end)             │
//!                                                  │
//!   any state except revoked ── revoke ──▶ revoked (terminal)
//! ```

use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};

use crate::customer::{CustomerId, Domain, Notes};
use crate::ids::InstallId;
use crate::plan::PlanSlug;
use crate::InvalidValue;

/// The longest trial an admin may grant in one go.
pub const MAX_TRIAL_DAYS: u32 = 365;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseStatus {
    Trial,
    Active,
    Suspended,
    Revoked,
    Expired,
}

impl LicenseStatus {
    pub const ALL: [LicenseStatus; 5] = [
        LicenseStatus::Trial,
        LicenseStatus::Active,
        LicenseStatus::Suspended,
        LicenseStatus::Revoked,
        LicenseStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LicenseStatus::Trial => "trial",
            LicenseStatus::Active => "active",
            LicenseStatus::Suspended => "suspended",
            LicenseStatus::Revoked => "revoked",
            LicenseStatus::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                InvalidValue::new(
                    "status",
                    format!("unknown status {raw:?} (trial, active, suspended, revoked, expired)"),
                )
            })
    }

    /// Whether a deployment on this status may run the product.
    pub fn is_usable(self) -> bool {
        matches!(self, LicenseStatus::Trial | LicenseStatus::Active)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingPeriod {
    Monthly,
    Annual,
}

impl BillingPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            BillingPeriod::Monthly => "monthly",
            BillingPeriod::Annual => "annual",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        match raw {
            "monthly" => Ok(BillingPeriod::Monthly),
            "annual" => Ok(BillingPeriod::Annual),
            other => Err(InvalidValue::new(
                "billingPeriod",
                format!("must be \"monthly\" or \"annual\", not {other:?}"),
            )),
        }
    }

    /// The end of a period that starts at `start`.
    pub fn end_of_period(self, start: DateTime<Utc>) -> DateTime<Utc> {
        let months = match self {
            BillingPeriod::Monthly => Months::new(1),
            BillingPeriod::Annual => Months::new(12),
        };
        start.checked_add_months(months).unwrap_or(start)
    }
}

/// One customer's license for one installation.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct License {
    pub install_id: InstallId,
    pub customer_id: CustomerId,
    pub plan: PlanSlug,
    pub billing_period: BillingPeriod,
    pub status: LicenseStatus,
    /// Set when the license started as a trial; kept after conversion.
    pub trial_ends_at: Option<DateTime<Utc>>,
    /// When a trial became a paid license.
    pub converted_at: Option<DateTime<Utc>>,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    /// End of the contract; `None` renews period after period until stopped.
    pub ends_at: Option<DateTime<Utc>>,
    pub status_reason: Option<String>,
    pub notes: Notes,
    pub domains: Vec<Domain>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency counter: each stored change bumps it.
    pub version: i64,
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// What an admin asks for when creating a license.
#[derive(Debug, Clone)]
pub struct LicenseTerms {
    pub install_id: InstallId,
    pub customer_id: CustomerId,
    pub plan: PlanSlug,
    pub billing_period: BillingPeriod,
    pub trial_days: u32,
    pub notes: Notes,
    pub domains: Vec<Domain>,
}

/// Trial days as given in a request: checked against [`MAX_TRIAL_DAYS`].
pub fn parse_trial_days(raw: i64) -> Result<u32, InvalidValue> {
    match u32::try_from(raw) {
        Ok(days) if days <= MAX_TRIAL_DAYS => Ok(days),
        _ => Err(InvalidValue::new(
            "trialDays",
            format!("must be a whole number from 0 to {MAX_TRIAL_DAYS}"),
        )),
    }
}

/// A change an admin (or time) asks of a license.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenseCommand {
    /// A trial (running or expired) becomes a paid license.
    Activate,
    /// Extends or reopens a contract: `ends_at` `None` makes it open-ended.
    Renew {
        ends_at: Option<DateTime<Utc>>,
    },
    Suspend {
        reason: Option<String>,
    },
    Reactivate,
    Revoke {
        reason: Option<String>,
    },
    ChangePlan {
        plan: PlanSlug,
        billing_period: Option<BillingPeriod>,
    },
    ExtendTrial {
        days: u32,
    },
    UpdateDetails {
        notes: Option<Notes>,
        domains: Option<Vec<Domain>>,
    },
}

impl LicenseCommand {
    /// A stable name for audit records and error messages.
    pub fn action(&self) -> &'static str {
        match self {
            LicenseCommand::Activate => "license.activate",
            LicenseCommand::Renew { .. } => "license.renew",
            LicenseCommand::Suspend { .. } => "license.suspend",
            LicenseCommand::Reactivate => "license.reactivate",
            LicenseCommand::Revoke { .. } => "license.revoke",
            LicenseCommand::ChangePlan { .. } => "license.change_tier",
            LicenseCommand::ExtendTrial { .. } => "license.extend_trial",
            LicenseCommand::UpdateDetails { .. } => "license.update",
        }
    }
}

/// The outcome of a command that was allowed.
// Lives for one admin action; boxing the license would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Changed(License),
    /// Asking again for what already holds (revoking a revoked license).
    Unchanged,
}

/// A command the license's current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a license that is {from}: {why}", from = .from.as_str())]
pub struct TransitionRefused {
    pub action: &'static str,
    pub from: LicenseStatus,
    pub why: &'static str,
}

impl License {
    /// A new license as the terms ask: a trial when `trial_days > 0`, else active.
    pub fn create(terms: LicenseTerms, now: DateTime<Utc>) -> License {
        let trial = terms.trial_days > 0;
        License {
            install_id: terms.install_id,
            customer_id: terms.customer_id,
            plan: terms.plan,
            billing_period: terms.billing_period,
            status: if trial {
                LicenseStatus::Trial
            } else {
                LicenseStatus::Active
            },
            trial_ends_at: trial.then(|| now + Duration::days(i64::from(terms.trial_days))),
            converted_at: None,
            current_period_start: now,
            current_period_end: terms.billing_period.end_of_period(now),
            ends_at: None,
            status_reason: None,
            notes: terms.notes,
            domains: terms.domains,
            created_at: now,
            updated_at: now,
            version: 0,
            last_seen_at: None,
        }
    }

    /// Whether this license began as a trial and never became paid.
    pub fn is_unconverted_trial(&self) -> bool {
        self.trial_ends_at.is_some() && self.converted_at.is_none()
    }

    /// Applies an admin command.
    pub fn apply(
        &self,
        command: &LicenseCommand,
        now: DateTime<Utc>,
    ) -> Result<Transition, TransitionRefused> {
        use LicenseStatus::*;
        let refuse = |why: &'static str| TransitionRefused {
            action: command.action().trim_start_matches("license."),
            from: self.status,
            why,
        };
        let mut next = self.clone();
        next.updated_at = now;
        match command {
            LicenseCommand::Activate => {
                match self.status {
                    Trial => {}
                    Expired if self.is_unconverted_trial() => {}
                    Active => return Ok(Transition::Unchanged),
                    _ => return Err(refuse("only a trial can be activated")),
                }
                next.status = Active;
                next.converted_at = Some(now);
                next.status_reason = None;
                next.restart_period(now);
            }
            LicenseCommand::Renew { ends_at } => {
                if !matches!(self.status, Active | Expired) {
                    return Err(refuse("only an active or expired license can be renewed"));
                }
                if ends_at.is_some_and(|end| end <= now) {
                    return Err(refuse("the new contract end must be in the future"));
                }
                if self.status == Expired {
                    next.restart_period(now);
                    if self.is_unconverted_trial() {
                        next.converted_at = Some(now);
                    }
                }
                next.status = Active;
                next.ends_at = *ends_at;
                next.status_reason = None;
            }
            LicenseCommand::Suspend { reason } => match self.status {
                Suspended => return Ok(Transition::Unchanged),
                Trial | Active => {
                    next.status = Suspended;
                    next.status_reason = reason.clone();
                }
                Revoked | Expired => {
                    return Err(refuse("only a trial or active license can be suspended"))
                }
            },
            LicenseCommand::Reactivate => {
                if self.status != Suspended {
                    return Err(refuse("only a suspended license can be reactivated"));
                }
                next.status_reason = None;
                next.status = self.resumed_status(now);
            }
            LicenseCommand::Revoke { reason } => {
                if self.status == Revoked {
                    return Ok(Transition::Unchanged);
                }
                next.status = Revoked;
                next.status_reason = reason.clone();
            }
            LicenseCommand::ChangePlan {
                plan,
                billing_period,
            } => {
                if self.status == Revoked {
                    return Err(refuse(
                        "a revoked license never comes back; create a new one",
                    ));
                }
                let period = billing_period.unwrap_or(self.billing_period);
                if *plan == self.plan && period == self.billing_period {
                    return Ok(Transition::Unchanged);
                }
                next.plan = plan.clone();
                if period != self.billing_period {
                    next.billing_period = period;
                    next.restart_period(now);
                }
            }
            LicenseCommand::ExtendTrial { days } => {
                if *days == 0 || *days > MAX_TRIAL_DAYS {
                    return Err(refuse("a trial extension must be 1 to 365 days"));
                }
                let extra = Duration::days(i64::from(*days));
                match self.status {
                    Trial => {
                        let base = self.trial_ends_at.unwrap_or(now).max(now);
                        next.trial_ends_at = Some(base + extra);
                    }
                    Expired if self.is_unconverted_trial() => {
                        next.status = Trial;
                        next.trial_ends_at = Some(now + extra);
                        next.restart_period(now);
                    }
                    _ => {
                        return Err(refuse(
                            "only a trial, or a trial that ran out, can be extended",
                        ))
                    }
                }
            }
            LicenseCommand::UpdateDetails { notes, domains } => {
                if let Some(notes) = notes {
                    next.notes = notes.clone();
                }
                if let Some(domains) = domains {
                    next.domains = domains.clone();
                }
                if next.notes == self.notes && next.domains == self.domains {
                    return Ok(Transition::Unchanged);
                }
            }
        }
        Ok(Transition::Changed(next))
    }

    /// What time alone does to a license: trials and contracts run out, and
    /// open-ended paid periods roll forward. `None` when nothing is due.
    pub fn advance_time(&self, now: DateTime<Utc>) -> Option<License> {
        let mut next = self.clone();
        match self.status {
            LicenseStatus::Trial if self.trial_ends_at.is_some_and(|end| end <= now) => {
                // The tier is kept (the seed rewrote it to community and lost it).
                next.status = LicenseStatus::Expired;
                next.status_reason = Some("trial ended".to_owned());
            }
            LicenseStatus::Active if self.ends_at.is_some_and(|end| end <= now) => {
                next.status = LicenseStatus::Expired;
                next.status_reason = Some("contract ended".to_owned());
            }
            LicenseStatus::Active if self.current_period_end <= now => {
                // Bounded: at most a few hundred periods even for ancient data.
                for _ in 0..1200 {
                    if next.current_period_end > now {
                        break;
                    }
                    next.current_period_start = next.current_period_end;
                    next.current_period_end =
                        next.billing_period.end_of_period(next.current_period_start);
                }
            }
            _ => return None,
        }
        next.updated_at = now;
        Some(next)
    }

    fn restart_period(&mut self, now: DateTime<Utc>) {
        self.current_period_start = now;
        self.current_period_end = self.billing_period.end_of_period(now);
    }

    fn resumed_status(&self, now: DateTime<Utc>) -> LicenseStatus {
        if self.is_unconverted_trial() {
            if self.trial_ends_at.is_some_and(|end| end > now) {
                LicenseStatus::Trial
            } else {
                LicenseStatus::Expired
            }
        } else if self.ends_at.is_some_and(|end| end <= now) {
            LicenseStatus::Expired
        } else {
            LicenseStatus::Active
        }
    }
}

#[cfg(test)]
mod tests;
