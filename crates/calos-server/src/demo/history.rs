//! A demo license's past, replayed through the real state machine: the
//! license is created with `License::create` at its creation time, then each
//! step is a `LicenseCommand` or what time alone does (`advance_time`), so
//! the stored history is one the product itself could have produced.

use anyhow::{anyhow, Context};
use chrono::{DateTime, Duration, Utc};

use calos_core::audit::Actor;
use calos_core::customer::{Domain, Notes};
use calos_core::ids::InstallId;
use calos_core::license::{License, LicenseCommand, LicenseStatus, LicenseTerms, Transition};
use calos_core::plan::PlanSlug;

use super::spec::{Profile, Step};

/// One change after creation, with the license as it is afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryStep {
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: &'static str,
    pub license: License,
}

/// Audit action of a period rollover done by time.
pub const ACTION_RENEW_PERIOD: &str = "license.renew_period";
/// Audit action of a trial or contract running out.
pub const ACTION_EXPIRE: &str = "license.expire";

pub fn days_ago(now: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    now - Duration::days(days)
}

/// The license as created and every change since, oldest first.
pub fn replay(
    profile: &Profile,
    install_id: InstallId,
    now: DateTime<Utc>,
) -> anyhow::Result<(License, Vec<HistoryStep>)> {
    let domains = profile
        .domains
        .iter()
        .map(|d| Domain::parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    let created_at = days_ago(now, profile.lifecycle.created_days_ago);
    let initial = License::create(
        LicenseTerms {
            install_id,
            customer_id: 0,
            plan: PlanSlug::parse(profile.plan)?,
            billing_period: profile.period,
            trial_days: profile.lifecycle.trial_days,
            notes: Notes::parse(profile.notes)?,
            domains,
        },
        created_at,
    );

    let mut steps = Vec::new();
    let mut current = initial.clone();
    for (days, step) in profile.lifecycle.steps {
        let at = days_ago(now, *days);
        if at < current.updated_at {
            return Err(anyhow!("{}: steps must be in time order", profile.key));
        }
        settle(&mut current, at, &mut steps);
        let command = command(step, now)?;
        match current.apply(&command, at) {
            Ok(Transition::Changed(next)) => {
                steps.push(HistoryStep {
                    at,
                    actor: Actor::Cli,
                    action: command.action(),
                    license: next.clone(),
                });
                current = next;
            }
            Ok(Transition::Unchanged) => {}
            Err(refused) => {
                return Err(refused).with_context(|| format!("demo customer {}", profile.key))
            }
        }
    }
    settle(&mut current, now, &mut steps);
    Ok((initial, steps))
}

fn command(step: &Step, now: DateTime<Utc>) -> anyhow::Result<LicenseCommand> {
    Ok(match step {
        Step::Activate => LicenseCommand::Activate,
        Step::Suspend(reason) => LicenseCommand::Suspend {
            reason: Some((*reason).to_owned()),
        },
        Step::Reactivate => LicenseCommand::Reactivate,
        Step::Revoke(reason) => LicenseCommand::Revoke {
            reason: Some((*reason).to_owned()),
        },
        Step::RenewUntilDaysAgo(days) => LicenseCommand::Renew {
            ends_at: Some(days_ago(now, *days)),
        },
        Step::ChangePlan(plan, billing_period) => LicenseCommand::ChangePlan {
            plan: PlanSlug::parse(plan)?,
            billing_period: *billing_period,
        },
        Step::ExtendTrial(days) => LicenseCommand::ExtendTrial { days: *days },
    })
}

/// Lets time pass up to `until`: a trial or contract expires at its own end;
/// periods that ended roll forward in one step at `until` (the moment the
/// expiry worker would next look), rather than one audit row per month.
fn settle(current: &mut License, until: DateTime<Utc>, steps: &mut Vec<HistoryStep>) {
    // Each pass either expires the license or brings its period past `until`,
    // so three passes always suffice; the bound only guards against a core change.
    for _ in 0..4 {
        let at = match current.status {
            LicenseStatus::Trial => match current.trial_ends_at {
                Some(end) if end <= until => end,
                _ => return,
            },
            LicenseStatus::Active => match current.ends_at.filter(|end| *end <= until) {
                // Periods that ended before the contract did roll first, just before its end.
                Some(end) if current.current_period_end < end => end - Duration::seconds(1),
                Some(end) => end,
                None if current.current_period_end <= until => until,
                None => return,
            },
            _ => return,
        };
        let Some(next) = current.advance_time(at) else {
            return;
        };
        let action = if next.status == LicenseStatus::Expired {
            ACTION_EXPIRE
        } else {
            ACTION_RENEW_PERIOD
        };
        steps.push(HistoryStep {
            at,
            actor: Actor::System,
            action,
            license: next.clone(),
        });
        *current = next;
    }
}
