//! The health score: seven components, each 0–100, weighted to a 0–100
//! total. A component that cannot be measured is left out and the others'
//! weights are scaled up, so nothing is made up. At the same activity, more
//! of it failing never raises the score: activity measures count successful
//! events, the error component falls as the error rate rises, and the time
//! zone and working days are drawn from all events.

use chrono::{Datelike, TimeDelta};

use super::activity::{Facts, RATE_DAYS};
use super::clock::Clock;
use super::features::Adoption;
use super::math::{linear_score, round_to};
use super::profile::{Activity, Behavior, Health, HealthComponent};
use crate::license::{License, LicenseStatus};

/// (component, weight). The weights add up to 100.
pub const WEIGHTS: [(&str, u32); 7] = [
    ("recency", 15),
    ("frequency", 15),
    ("breadth", 15),
    ("depth", 15),
    ("errors", 15),
    ("trend", 15),
    ("license", 10),
];

/// A session this long or longer counts as fully engaged.
const FULL_DEPTH_MINUTES: f64 = 30.0;
/// Without sessions: events per user per active day that count as fully engaged.
const FULL_DEPTH_EVENTS_PER_USER_DAY: f64 = 20.0;

pub fn label(score: u32) -> &'static str {
    match score {
        80.. => "excellent",
        60..=79 => "good",
        40..=59 => "at risk",
        _ => "critical",
    }
}

/// What the score is computed from.
pub struct Measures<'a> {
    pub clock: &'a Clock,
    pub license: &'a License,
    pub activity: &'a Activity,
    pub facts: &'a Facts,
    pub behavior: &'a Behavior,
    pub adoption: &'a Adoption,
    /// From [`super::reliability::judged_rate`].
    pub error_rate: Option<f64>,
    /// Non-error events and the sum of daily distinct users, last 28 days.
    pub good_events_28: i64,
    pub user_days_28: i64,
    pub enough_data: bool,
}

pub fn score(m: &Measures<'_>) -> Health {
    let parts = [
        recency(m),
        frequency(m),
        breadth(m),
        depth(m),
        errors(m),
        trend(m),
        license(m),
    ];
    let components: Vec<HealthComponent> = WEIGHTS
        .iter()
        .zip(parts)
        .map(|((name, weight), (score, detail))| HealthComponent {
            name: (*name).to_owned(),
            weight: *weight,
            score: score.filter(|_| m.enough_data).map(|s| round_to(s, 1)),
            detail,
        })
        .collect();
    if !m.enough_data {
        return Health {
            score: None,
            label: "not enough data".to_owned(),
            components,
        };
    }
    let (sum, weights) = components
        .iter()
        .filter_map(|c| {
            c.score
                .map(|s| (s * f64::from(c.weight), f64::from(c.weight)))
        })
        .fold((0.0, 0.0), |(a, b), (s, w)| (a + s, b + w));
    let total = if weights > 0.0 { sum / weights } else { 0.0 };
    let total = total.round().clamp(0.0, 100.0) as u32;
    Health {
        score: Some(total),
        label: label(total).to_owned(),
        components,
    }
}

type Part = (Option<f64>, String);

fn recency(m: &Measures<'_>) -> Part {
    match m.facts.last_good {
        None => (Some(0.0), "no activity in 90 days".to_owned()),
        Some(last) => {
            let days = m.clock.days_since(last);
            (
                Some(linear_score(days, 30.0, 3.0)),
                format!("last active {days:.1} days ago (full marks within 3 days, none after 30)"),
            )
        }
    }
}

/// Active days among the customer's working days of the last 28 (or since
/// its first activity, if later).
fn frequency(m: &Measures<'_>) -> Part {
    let working: Vec<u32> = m
        .behavior
        .working_days
        .iter()
        .filter_map(|d| super::behavior::WEEKDAYS.iter().position(|w| w == d))
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    let today = m.clock.local_date(m.clock.now);
    let mut start = today - TimeDelta::days(RATE_DAYS - 1);
    if let Some(first) = m.facts.first_good {
        start = start.max(m.clock.local_date(first));
    }
    let expected = start
        .iter_days()
        .take_while(|d| *d <= today)
        .filter(|d| working.is_empty() || working.contains(&d.weekday().num_days_from_monday()))
        .count()
        .max(1);
    let active = m.facts.active_dates.range(start..).count();
    (
        Some((active as f64 / expected as f64).min(1.0) * 100.0),
        format!("active on {active} of {expected} working days in the last 28"),
    )
}

fn breadth(m: &Measures<'_>) -> Part {
    let n = m.adoption.entitled.len();
    match m.adoption.breadth() {
        None => (
            None,
            "the plan has no features telemetry can show".to_owned(),
        ),
        Some(b) => (
            Some(b * 100.0),
            format!(
                "uses {} of the {n} plan features telemetry can show",
                n - m.adoption.unused.len()
            ),
        ),
    }
}

fn depth(m: &Measures<'_>) -> Part {
    if let Some(median) = m.behavior.sessions.median_minutes {
        return (
            Some(linear_score(median, 0.0, FULL_DEPTH_MINUTES)),
            format!("median session {median:.1} minutes (full marks from {FULL_DEPTH_MINUTES:.0})"),
        );
    }
    if m.user_days_28 > 0 {
        let per = m.good_events_28 as f64 / m.user_days_28 as f64;
        return (
            Some(linear_score(per, 0.0, FULL_DEPTH_EVENTS_PER_USER_DAY)),
            format!("{per:.1} events per user per active day (no session data)"),
        );
    }
    (None, "no sessions or users to measure".to_owned())
}

fn errors(m: &Measures<'_>) -> Part {
    match m.error_rate {
        None => (None, "no events".to_owned()),
        Some(rate) => (
            Some(linear_score(rate, 0.10, 0.005)),
            format!(
                "error rate {:.2}% (full marks up to 0.5%, none from 10%)",
                rate * 100.0
            ),
        ),
    }
}

/// Successful events of the last 14 days against all events of the 14
/// before: a failure now counts against the customer, a failure then does
/// not flatter the comparison.
fn trend(m: &Measures<'_>) -> Part {
    let (last, before) = (m.activity.last_14_days, m.facts.previous_14_all);
    let score = match (last, before) {
        (0, 0) => 0.0,
        (_, 0) => 100.0,
        _ => linear_score(last as f64 / before as f64, 0.4, 0.9),
    };
    (
        Some(score),
        format!("{last} events in the last 14 days against {before} in the 14 before"),
    )
}

fn license(m: &Measures<'_>) -> Part {
    let l = m.license;
    let soon = |t: Option<chrono::DateTime<chrono::Utc>>, days| {
        t.is_some_and(|t| t >= m.clock.now && t <= m.clock.now + TimeDelta::days(days))
    };
    let (score, detail) = match l.status {
        LicenseStatus::Active if soon(l.ends_at, 30) => {
            (60.0, "active, contract ends within 30 days")
        }
        LicenseStatus::Active => (100.0, "active"),
        LicenseStatus::Trial if soon(l.trial_ends_at, 7) => (50.0, "trial ending within 7 days"),
        LicenseStatus::Trial => (80.0, "trial"),
        LicenseStatus::Suspended => (20.0, "suspended"),
        LicenseStatus::Expired | LicenseStatus::Revoked => (0.0, "not in force"),
    };
    (Some(score), detail.to_owned())
}
