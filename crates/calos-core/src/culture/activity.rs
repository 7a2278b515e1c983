//! How much the customer uses the product and how that changes. Events per
//! day divide by the days actually measured (at most 28, fewer for a new
//! customer) — not a 90-day count by the customer's whole age.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::clock::{good, sum_within, Clock};
use super::compact::HourTotals;
use super::math::{round_to, trend_word};
use super::profile::Activity;

/// The window events per day and active days are measured over.
pub const RATE_DAYS: i64 = 28;

/// What other parts need beyond the serialised [`Activity`].
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Local dates with non-error activity in the last 28 days.
    pub active_dates: BTreeSet<NaiveDate>,
    /// First and last hour with any non-error activity.
    pub first_good: Option<DateTime<Utc>>,
    pub last_good: Option<DateTime<Utc>>,
    /// Distinct local dates with any event in the whole window.
    pub days_with_events: usize,
    /// Every event (errors included) of the 14 days before the last 14.
    pub previous_14_all: i64,
}

pub fn analyze(rows: &[HourTotals], clock: &Clock) -> (Activity, Facts) {
    let events: i64 = rows.iter().map(|r| r.events).sum();
    let errors: i64 = rows.iter().map(|r| r.errors).sum();
    let first = rows.iter().filter(|r| r.events > 0).map(|r| r.hour).min();
    let last = rows.iter().filter(|r| r.events > 0).map(|r| r.hour).max();
    let with_good = || rows.iter().filter(|r| good(r) > 0);
    // The last 28 local dates, today included.
    let since = clock.local_date(clock.now) - TimeDelta::days(RATE_DAYS - 1);
    let facts = Facts {
        active_dates: with_good()
            .map(|r| clock.local_date(r.hour))
            .filter(|d| *d >= since)
            .collect(),
        first_good: with_good().map(|r| r.hour).min(),
        last_good: with_good().map(|r| r.hour).max(),
        days_with_events: rows
            .iter()
            .filter(|r| r.events > 0)
            .map(|r| clock.local_date(r.hour))
            .collect::<BTreeSet<_>>()
            .len(),
        previous_14_all: sum_within(clock, rows, 28, 14, |r| r.events),
    };

    let recent_events = sum_within(clock, rows, RATE_DAYS, 0, |r| r.events);
    // A customer whose first event was 3 days ago has 3 days of rate, not 28.
    let days_measured = first
        .map(|f| clock.days_since(f).clamp(1.0, RATE_DAYS as f64))
        .unwrap_or(RATE_DAYS as f64);
    let last_14 = sum_within(clock, rows, 14, 0, good);
    let previous_14 = sum_within(clock, rows, 28, 14, good);
    let activity = Activity {
        events,
        errors,
        events_per_day: round_to(recent_events as f64 / days_measured, 1),
        days_measured: round_to(days_measured, 1),
        active_days_last_28: u32::try_from(facts.active_dates.len()).unwrap_or(u32::MAX),
        first_activity: first,
        last_activity: last.map(|h| (h + TimeDelta::hours(1)).min(clock.now)),
        last_14_days: last_14,
        previous_14_days: previous_14,
        trend: trend_word(last_14, previous_14, "stopped").to_owned(),
    };
    (activity, facts)
}
