//! The compact forms the analyzer reads instead of hourly rollup rows. A
//! customer busy around the clock with many features has one rollup row per
//! (hour, type, feature) — ~69k over 90 days — but every measure the
//! analyzer takes needs either the hour (histograms, recency, windows) or
//! the feature (shares, trends, per-feature errors), never both. So the
//! store hands over:
//! * [`HourTotals`]: one row per hour, the feature and type folded away
//!   (at most 24 × 91 rows);
//! * [`FeatureTotals`]: one row per feature, already summed over the
//!   analysis windows of [`FeatureWindows`] (a few dozen rows).
//!
//! [`compact`] computes both from rollup rows; it is the reference the
//! stores are checked against, and what the analyzer tests feed it.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::input::WINDOW_DAYS;
use crate::rollup::RollupRow;
use crate::telemetry::EventType;

/// Totals of one UTC hour over every type and feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HourTotals {
    pub hour: DateTime<Utc>,
    pub events: i64,
    pub errors: i64,
    /// Sum over the hour's rollup rows of [`good_of`] (events that were
    /// not errors, never negative per row).
    pub good: i64,
    /// Events of the hour's rollup rows that had at least one user: what
    /// people did, as opposed to scripts.
    pub people_events: i64,
    /// `api_call` events, and those of them that were not errors.
    pub api_events: i64,
    pub api_good: i64,
}

/// Totals of one feature (never `""`) over the analysis windows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeatureTotals {
    pub feature: String,
    /// Over [`FeatureWindows::whole`].
    pub events: i64,
    pub good: i64,
    pub errors: i64,
    /// Events in [`FeatureWindows::last_7`] and [`FeatureWindows::previous_7`].
    pub last_7_days: i64,
    pub previous_7_days: i64,
}

/// The half-open spans `[start, end)` (compared with a rollup row's hour)
/// that [`FeatureTotals`] are summed over at the analysis instant `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureWindows {
    /// The analysis window: [`WINDOW_DAYS`] back, one day ahead (clock skew).
    pub whole: (DateTime<Utc>, DateTime<Utc>),
    pub last_7: (DateTime<Utc>, DateTime<Utc>),
    pub previous_7: (DateTime<Utc>, DateTime<Utc>),
}

impl FeatureWindows {
    pub fn at(now: DateTime<Utc>) -> Self {
        let back = |days| now - TimeDelta::days(days);
        Self {
            whole: (back(WINDOW_DAYS), back(-1)),
            last_7: (back(7), now),
            previous_7: (back(14), back(7)),
        }
    }
}

fn within(span: (DateTime<Utc>, DateTime<Utc>), ts: DateTime<Utc>) -> bool {
    ts >= span.0 && ts < span.1
}

/// Events of a rollup row that were not errors (never negative).
pub fn good_of(row: &RollupRow) -> i64 {
    (row.counts.events - row.counts.errors.max(0)).max(0)
}

/// Both compact forms of `rows` at `now`: hours by hour, features by name.
pub fn compact(rows: &[RollupRow], now: DateTime<Utc>) -> (Vec<HourTotals>, Vec<FeatureTotals>) {
    let w = FeatureWindows::at(now);
    let mut hours: BTreeMap<DateTime<Utc>, HourTotals> = BTreeMap::new();
    let mut features: BTreeMap<&str, FeatureTotals> = BTreeMap::new();
    for r in rows {
        let (n, good) = (r.counts.events, good_of(r));
        let h = hours.entry(r.key.hour).or_insert(HourTotals {
            hour: r.key.hour,
            ..HourTotals::default()
        });
        h.events += n;
        h.errors += r.counts.errors;
        h.good += good;
        if r.counts.users > 0 {
            h.people_events += n;
        }
        if r.key.event_type == EventType::ApiCall {
            h.api_events += n;
            h.api_good += good;
        }
        if r.key.feature.is_empty() || !within(w.whole, r.key.hour) {
            continue;
        }
        let f = features
            .entry(r.key.feature.as_str())
            .or_insert_with(|| FeatureTotals {
                feature: r.key.feature.clone(),
                ..FeatureTotals::default()
            });
        f.events += n;
        f.good += good;
        f.errors += r.counts.errors;
        if within(w.last_7, r.key.hour) {
            f.last_7_days += n;
        } else if within(w.previous_7, r.key.hour) {
            f.previous_7_days += n;
        }
    }
    (
        hours.into_values().collect(),
        features.into_values().collect(),
    )
}
