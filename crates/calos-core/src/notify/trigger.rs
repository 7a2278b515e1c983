//! Conditions found by scanning (usage thresholds, countdowns, silence,
//! health, upsells) and the deduplication key of each.
//!
//! The key rule: a key names the condition, the customer (install), the
//! period it belongs to and how bad it is. The outbox keeps one notification
//! per key, so a condition seen again in the same period is silent, and it
//! notifies again only when it reaches a worse level (a new key) or a new
//! period starts. Scans only ever propose the worst level reached, so a jump
//! from 50% to 100% sends one notification, not three.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::event::{EventKind, NewNotification, Subject};
use crate::plan::Meter;

/// How far a meter's use has got towards its plan's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UsageLevel {
    Percent80,
    Percent95,
    Percent100,
}

impl UsageLevel {
    pub fn percent(self) -> u32 {
        match self {
            UsageLevel::Percent80 => 80,
            UsageLevel::Percent95 => 95,
            UsageLevel::Percent100 => 100,
        }
    }

    /// The worst level `used` of a finite `limit` has reached, if any. A
    /// limit of 0 means "not included": there is no allowance to warn about.
    pub fn reached(used: i64, limit: u64) -> Option<UsageLevel> {
        if limit == 0 || used <= 0 {
            return None;
        }
        // Integer maths: used × 100 ≥ p × limit, without float rounding.
        let used = u128::try_from(used).unwrap_or(0) * 100;
        let at = |p: u32| used >= u128::from(p) * u128::from(limit);
        [
            UsageLevel::Percent100,
            UsageLevel::Percent95,
            UsageLevel::Percent80,
        ]
        .into_iter()
        .find(|level| at(level.percent()))
    }
}

/// `usage:{install}:{meter}:{period start}:{level}`.
pub fn usage_key(
    install_id: &str,
    meter: Meter,
    period_start: DateTime<Utc>,
    level: UsageLevel,
) -> String {
    format!(
        "usage:{install_id}:{}:{}:{}",
        meter.as_str(),
        period_start.timestamp(),
        level.percent()
    )
}

pub fn usage_notification(
    subject: &Subject,
    meter: Meter,
    used: i64,
    limit: u64,
    period_start: DateTime<Utc>,
    level: UsageLevel,
    now: DateTime<Utc>,
) -> NewNotification {
    NewNotification::about(
        EventKind::UsageLimitReached,
        subject,
        Some(usage_key(&subject.install_id, meter, period_start, level)),
        json!({
            "meter": meter.as_str(),
            "used": used,
            "limit": limit,
            "level": level.percent(),
            "periodStart": period_start,
        }),
        now,
    )
}

/// Days before a trial ends at which to warn.
pub const TRIAL_STEPS: [i64; 3] = [7, 3, 1];
/// Days before a contract ends at which to warn.
pub const EXPIRY_STEPS: [i64; 3] = [30, 7, 1];

/// The closest warning step `end` is within, or `None` when it is further
/// than the first step or already past. `steps` are in days, largest first.
pub fn countdown_step(now: DateTime<Utc>, end: DateTime<Utc>, steps: &[i64]) -> Option<i64> {
    if end <= now {
        return None;
    }
    let left = end - now;
    steps
        .iter()
        .copied()
        .filter(|days| left <= chrono::Duration::days(*days))
        .min()
}

/// Trial ending, keyed by the trial's end (an extended trial warns anew).
pub fn trial_notification(
    subject: &Subject,
    ends_at: DateTime<Utc>,
    step: i64,
    now: DateTime<Utc>,
) -> NewNotification {
    NewNotification::about(
        EventKind::TrialEnding,
        subject,
        Some(format!(
            "trial:{}:{}:{step}",
            subject.install_id,
            ends_at.timestamp()
        )),
        json!({ "endsAt": ends_at, "daysLeft": step }),
        now,
    )
}

/// Contract ending, keyed by the contract's end (a renewal warns anew).
pub fn expiry_notification(
    subject: &Subject,
    ends_at: DateTime<Utc>,
    step: i64,
    now: DateTime<Utc>,
) -> NewNotification {
    NewNotification::about(
        EventKind::LicenseExpiring,
        subject,
        Some(format!(
            "expiry:{}:{}:{step}",
            subject.install_id,
            ends_at.timestamp()
        )),
        json!({ "endsAt": ends_at, "daysLeft": step }),
        now,
    )
}

/// A deployment not heard from for at least `after_days`: once per silence
/// (keyed by when it was last seen, so coming back and falling silent again
/// notifies again).
pub fn silence_notification(
    subject: &Subject,
    last_seen: DateTime<Utc>,
    after_days: i64,
    now: DateTime<Utc>,
) -> Option<NewNotification> {
    if after_days <= 0 || now - last_seen < chrono::Duration::days(after_days) {
        return None;
    }
    Some(NewNotification::about(
        EventKind::DeploymentSilent,
        subject,
        Some(format!(
            "silent:{}:{}",
            subject.install_id,
            last_seen.timestamp()
        )),
        json!({ "lastSeenAt": last_seen, "silentDays": (now - last_seen).num_days() }),
        now,
    ))
}

/// How far below the threshold a health score is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HealthLevel {
    /// Below the threshold.
    Below,
    /// Below half the threshold.
    Critical,
}

impl HealthLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthLevel::Below => "below",
            HealthLevel::Critical => "critical",
        }
    }

    pub fn of(score: u32, threshold: u32) -> Option<HealthLevel> {
        if score * 2 < threshold {
            Some(HealthLevel::Critical)
        } else if score < threshold {
            Some(HealthLevel::Below)
        } else {
            None
        }
    }
}

/// Calendar month `YYYY-MM`: the period of health and upsell notifications.
fn month(now: DateTime<Utc>) -> String {
    now.format("%Y-%m").to_string()
}

/// Health score below the threshold: once per month and level.
pub fn health_notification(
    subject: &Subject,
    score: u32,
    label: &str,
    threshold: u32,
    now: DateTime<Utc>,
) -> Option<NewNotification> {
    let level = HealthLevel::of(score, threshold)?;
    Some(NewNotification::about(
        EventKind::HealthDropped,
        subject,
        Some(format!(
            "health:{}:{}:{}",
            subject.install_id,
            month(now),
            level.as_str()
        )),
        json!({ "score": score, "label": label, "threshold": threshold, "level": level.as_str() }),
        now,
    ))
}

/// A high-priority upsell: once per month and kind.
pub fn upsell_notification(
    subject: &Subject,
    upsell: &crate::culture::Upsell,
    now: DateTime<Utc>,
) -> Option<NewNotification> {
    if upsell.priority != crate::culture::Priority::High {
        return None;
    }
    Some(NewNotification::about(
        EventKind::UpsellFound,
        subject,
        Some(format!(
            "upsell:{}:{}:{}",
            subject.install_id,
            upsell.kind,
            month(now)
        )),
        json!({
            "kind": upsell.kind,
            "priority": "high",
            "message": upsell.message,
            "targetPlan": upsell.target_plan,
            "evidence": upsell.evidence,
        }),
        now,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn subject() -> Subject {
        Subject {
            install_id: "i-1".into(),
            customer_name: "Globex".into(),
            customer_email: "ops@globex.test".into(),
            company: None,
            plan: "pro".into(),
        }
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn usage_levels_are_the_worst_reached() {
        assert_eq!(UsageLevel::reached(79, 100), None);
        assert_eq!(UsageLevel::reached(80, 100), Some(UsageLevel::Percent80));
        assert_eq!(UsageLevel::reached(94, 100), Some(UsageLevel::Percent80));
        assert_eq!(UsageLevel::reached(95, 100), Some(UsageLevel::Percent95));
        assert_eq!(UsageLevel::reached(250, 100), Some(UsageLevel::Percent100));
        assert_eq!(UsageLevel::reached(5, 0), None, "not included");
        assert_eq!(UsageLevel::reached(0, 10), None);
        assert!(UsageLevel::Percent95 > UsageLevel::Percent80);
    }

    #[test]
    fn usage_keys_differ_by_level_and_period_only() {
        let a = usage_key("i-1", Meter::Transcripts, t0(), UsageLevel::Percent80);
        assert_eq!(a, format!("usage:i-1:transcripts:{}:80", t0().timestamp()));
        let same = usage_key("i-1", Meter::Transcripts, t0(), UsageLevel::Percent80);
        assert_eq!(a, same);
        assert_ne!(
            a,
            usage_key("i-1", Meter::Transcripts, t0(), UsageLevel::Percent95)
        );
        assert_ne!(
            a,
            usage_key(
                "i-1",
                Meter::Transcripts,
                t0() + Duration::days(30),
                UsageLevel::Percent80
            )
        );
    }

    #[test]
    fn countdown_picks_the_closest_step() {
        let now = t0();
        assert_eq!(
            countdown_step(now, now + Duration::days(8), &TRIAL_STEPS),
            None
        );
        assert_eq!(
            countdown_step(now, now + Duration::days(7), &TRIAL_STEPS),
            Some(7)
        );
        assert_eq!(
            countdown_step(now, now + Duration::days(3), &TRIAL_STEPS),
            Some(3)
        );
        assert_eq!(
            countdown_step(now, now + Duration::hours(20), &TRIAL_STEPS),
            Some(1)
        );
        assert_eq!(
            countdown_step(now, now - Duration::hours(1), &TRIAL_STEPS),
            None
        );
        assert_eq!(
            countdown_step(now, now + Duration::days(29), &EXPIRY_STEPS),
            Some(30)
        );
    }

    #[test]
    fn countdown_keys_follow_the_end_date() {
        let s = subject();
        let a = trial_notification(&s, t0(), 3, t0());
        let b = trial_notification(&s, t0() + Duration::days(14), 3, t0());
        assert_ne!(a.dedupe_key, b.dedupe_key, "an extended trial warns anew");
        assert_eq!(a.event, EventKind::TrialEnding);
        assert_eq!(a.data["daysLeft"], 3);
        let e = expiry_notification(&s, t0(), 30, t0());
        assert!(e.dedupe_key.unwrap().starts_with("expiry:i-1:"));
    }

    #[test]
    fn silence_needs_the_threshold() {
        let s = subject();
        let seen = t0() - Duration::days(6);
        assert!(silence_notification(&s, seen, 7, t0()).is_none());
        let n = silence_notification(&s, t0() - Duration::days(8), 7, t0()).unwrap();
        assert_eq!(n.data["silentDays"], 8);
        assert!(silence_notification(&s, seen, 0, t0()).is_none(), "off");
    }

    #[test]
    fn health_notifies_per_level_and_month() {
        let s = subject();
        assert!(health_notification(&s, 45, "at risk", 40, t0()).is_none());
        let below = health_notification(&s, 35, "critical", 40, t0()).unwrap();
        let crit = health_notification(&s, 15, "critical", 40, t0()).unwrap();
        assert_ne!(below.dedupe_key, crit.dedupe_key, "worse notifies again");
        let next_month = health_notification(&s, 35, "critical", 40, t0() + Duration::days(31));
        assert_ne!(below.dedupe_key, next_month.unwrap().dedupe_key);
    }

    #[test]
    fn only_high_priority_upsells_notify() {
        let mut u = crate::culture::Upsell {
            kind: "limit_raise".into(),
            priority: crate::culture::Priority::Medium,
            message: "raise it".into(),
            target_plan: None,
            evidence: json!({}),
        };
        assert!(upsell_notification(&subject(), &u, t0()).is_none());
        u.priority = crate::culture::Priority::High;
        let n = upsell_notification(&subject(), &u, t0()).unwrap();
        assert_eq!(
            n.dedupe_key.as_deref(),
            Some("upsell:i-1:limit_raise:2025-06")
        );
    }
}
