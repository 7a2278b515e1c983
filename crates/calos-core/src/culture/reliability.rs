//! Errors: the rate overall, per feature, and whether it is getting worse.

use std::collections::BTreeMap;

use super::clock::{sum_within, Clock};
use super::compact::{FeatureTotals, HourTotals};
use super::math::{ratio, round_to};
use super::profile::{FeatureErrors, Reliability};

/// A window needs this many events before its rate is worth comparing.
pub const MIN_EVENTS_FOR_RATE: i64 = 200;

pub fn analyze(rows: &[HourTotals], features: &[FeatureTotals], clock: &Clock) -> Reliability {
    let events: i64 = rows.iter().map(|r| r.events).sum();
    let errors: i64 = rows.iter().map(|r| r.errors).sum();
    let window_rate = |from, to| {
        let n = sum_within(clock, rows, from, to, |r| r.events);
        let e = sum_within(clock, rows, from, to, |r| r.errors);
        (n >= MIN_EVENTS_FOR_RATE).then(|| e as f64 / n as f64)
    };
    let last = window_rate(7, 0);
    let previous = window_rate(14, 7);
    let trend = match (last, previous) {
        (Some(l), Some(p)) if l >= p * 1.5 && l - p >= 0.01 => "rising",
        (Some(l), Some(p)) if l <= p / 1.5 && p - l >= 0.01 => "falling",
        (Some(_), Some(_)) => "steady",
        _ => "unknown",
    };

    let mut by: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for f in features.iter().filter(|f| !f.feature.is_empty()) {
        let t = by.entry(f.feature.as_str()).or_default();
        t.0 += f.events;
        t.1 += f.errors;
    }
    let mut by_feature: Vec<FeatureErrors> = by
        .into_iter()
        .filter(|(_, (_, e))| *e > 0)
        .map(|(name, (n, e))| FeatureErrors {
            name: name.to_owned(),
            events: n,
            errors: e,
            error_rate: round_to(ratio(e, n).unwrap_or(0.0), 4),
        })
        .collect();
    by_feature.sort_by(|a, b| {
        b.error_rate
            .total_cmp(&a.error_rate)
            .then(b.errors.cmp(&a.errors))
            .then(a.name.cmp(&b.name))
    });
    by_feature.truncate(10);

    Reliability {
        events,
        errors,
        error_rate: round_to(ratio(errors, events).unwrap_or(0.0), 4),
        last_7_days_rate: last.map(|r| round_to(r, 4)),
        previous_7_days_rate: previous.map(|r| round_to(r, 4)),
        trend: trend.to_owned(),
        by_feature,
    }
}

/// The error rate the health score judges: the worse of the whole window and
/// the last 7 days (when those have enough events). Adding errors can only
/// raise it.
pub fn judged_rate(rows: &[HourTotals], clock: &Clock) -> Option<f64> {
    let events: i64 = rows.iter().map(|r| r.events).sum();
    let errors: i64 = rows.iter().map(|r| r.errors).sum();
    let overall = ratio(errors, events)?;
    let n = sum_within(clock, rows, 7, 0, |r| r.events);
    let e = sum_within(clock, rows, 7, 0, |r| r.errors);
    let recent = (n >= MIN_EVENTS_FOR_RATE).then(|| e as f64 / n as f64);
    Some(recent.map_or(overall, |r| r.max(overall)))
}
