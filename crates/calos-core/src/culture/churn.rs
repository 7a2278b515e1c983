//! Churn-risk signals: falling or stopped activity, rising errors, a trial
//! ending with little use, a license no longer in force.

use chrono::TimeDelta;
use serde_json::json;

use super::activity::Facts;
use super::clock::Clock;
use super::profile::{Activity, ChurnRisk, ChurnSignal, Reliability};
use crate::license::{License, LicenseStatus};

/// Activity this far below the previous fortnight counts as falling.
const FALLING_RATIO: f64 = 0.6;
/// The previous fortnight needs this much activity for a fall to mean anything.
const MIN_BASELINE: i64 = 20;
/// No activity for this many days is "gone quiet".
const QUIET_DAYS: f64 = 14.0;
/// A trial ending within this many days is watched for low use.
const TRIAL_WATCH_DAYS: i64 = 7;
/// Fewer active days than this in the last 14 is low use.
const LOW_USE_DAYS: usize = 4;

pub struct Inputs<'a> {
    pub clock: &'a Clock,
    pub license: &'a License,
    pub activity: &'a Activity,
    pub facts: &'a Facts,
    pub reliability: &'a Reliability,
    pub breadth: Option<f64>,
}

pub fn assess(f: &Inputs<'_>) -> ChurnRisk {
    let mut signals = Vec::new();
    let a = f.activity;
    let quiet_days = f.facts.last_good.map(|t| f.clock.days_since(t));
    let gone_quiet = quiet_days.is_some_and(|d| d >= QUIET_DAYS);
    if gone_quiet {
        let days = quiet_days.unwrap_or_default();
        signals.push(ChurnSignal {
            kind: "gone_quiet".to_owned(),
            message: format!("No activity for {days:.0} days."),
            evidence: json!({ "daysSinceLastActivity": days.floor(), "lastActivity": f.facts.last_good }),
        });
    } else if a.previous_14_days >= MIN_BASELINE
        && (a.last_14_days as f64) < a.previous_14_days as f64 * FALLING_RATIO
    {
        let drop = 100.0 - a.last_14_days as f64 * 100.0 / a.previous_14_days as f64;
        signals.push(ChurnSignal {
            kind: "falling_activity".to_owned(),
            message: format!("Activity fell {drop:.0}% over the last two weeks."),
            evidence: json!({ "last14Days": a.last_14_days, "previous14Days": a.previous_14_days }),
        });
    }
    let r = f.reliability;
    if r.trend == "rising" && r.last_7_days_rate.is_some_and(|x| x >= 0.02) {
        signals.push(ChurnSignal {
            kind: "rising_errors".to_owned(),
            message: format!(
                "Errors are rising: {:.1}% of events in the last 7 days against {:.1}% the week before.",
                r.last_7_days_rate.unwrap_or_default() * 100.0,
                r.previous_7_days_rate.unwrap_or_default() * 100.0
            ),
            evidence: json!({ "last7DaysRate": r.last_7_days_rate, "previous7DaysRate": r.previous_7_days_rate }),
        });
    }
    let l = f.license;
    let trial_ending = l.status == LicenseStatus::Trial
        && l.trial_ends_at.is_some_and(|t| {
            t >= f.clock.now && t <= f.clock.now + TimeDelta::days(TRIAL_WATCH_DAYS)
        });
    if trial_ending {
        let since = f.clock.local_date(f.clock.now) - TimeDelta::days(13);
        let active_14 = f.facts.active_dates.iter().filter(|d| **d >= since).count();
        let low = active_14 < LOW_USE_DAYS || f.breadth.is_some_and(|b| b < 0.5);
        if low {
            signals.push(ChurnSignal {
                kind: "trial_ending_low_use".to_owned(),
                message: format!(
                    "The trial ends soon and the product was used on only {active_14} of the last 14 days."
                ),
                evidence: json!({ "trialEndsAt": l.trial_ends_at, "activeDaysLast14": active_14, "breadth": f.breadth }),
            });
        }
    }
    if matches!(l.status, LicenseStatus::Suspended | LicenseStatus::Expired) {
        signals.push(ChurnSignal {
            kind: "license_inactive".to_owned(),
            message: format!("The license is {}.", l.status.as_str()),
            evidence: json!({ "status": l.status }),
        });
    }
    let level = match signals.len() {
        0 => "low",
        1 if !gone_quiet => "medium",
        _ => "high",
    };
    ChurnRisk {
        level: level.to_owned(),
        signals,
    }
}
