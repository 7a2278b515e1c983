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
//!
//! The stores keep these forms at ingest rather than folding rollups per
//! request: hour totals as they are, and features per UTC day
//! ([`FeatureDay`]). The windows of [`FeatureWindows`] do not start at
//! midnight, so [`feature_totals`] sums whole days from the day totals and
//! takes the few days a window cuts ([`FeatureWindows::boundary_days`])
//! from that day's rollups folded against the windows.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

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

impl FeatureWindows {
    /// The UTC days some window covers only in part, sorted: for those the
    /// per-day totals do not say which hours fall inside the window.
    pub fn boundary_days(&self) -> Vec<NaiveDate> {
        let spans = [self.whole, self.last_7, self.previous_7];
        let mut days: Vec<NaiveDate> = spans
            .iter()
            .flat_map(|s| [s.0.date_naive(), s.1.date_naive()])
            .filter(|d| spans.iter().any(|s| cover(*s, *d) == Cover::Part))
            .collect();
        days.sort();
        days.dedup();
        days
    }
}

/// How much of a UTC day's hours a span holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cover {
    All,
    Part,
    None,
}

fn cover(span: (DateTime<Utc>, DateTime<Utc>), day: NaiveDate) -> Cover {
    let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
    let end = start + TimeDelta::days(1);
    if span.0 <= start && end <= span.1 {
        Cover::All
    } else if span.1 <= start || end <= span.0 {
        Cover::None
    } else {
        Cover::Part
    }
}

fn within(span: (DateTime<Utc>, DateTime<Utc>), ts: DateTime<Utc>) -> bool {
    ts >= span.0 && ts < span.1
}

/// Events that were not errors out of `events` with `errors` (never negative).
pub fn good_events(events: i64, errors: i64) -> i64 {
    (events - errors.max(0)).max(0)
}

/// Events of a rollup row that were not errors (never negative).
pub fn good_of(row: &RollupRow) -> i64 {
    good_events(row.counts.events, row.counts.errors)
}

/// Totals of one feature (never `""`) on one UTC day: the sums over that
/// day's rollup rows of the feature.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeatureDay {
    pub day: NaiveDate,
    pub feature: String,
    pub events: i64,
    /// Sum of [`good_of`] over the rows.
    pub good: i64,
    pub errors: i64,
}

/// [`FeatureTotals`] at `now` (by feature) from per-day totals and, for each
/// of [`FeatureWindows::boundary_days`], that day's rollup rows folded with
/// [`compact`] (only rows within [`FeatureWindows::whole`]). Equal to
/// `compact(rows, now).1` for the rows both were made from; days that are
/// not boundary days are ignored in `boundary`.
pub fn feature_totals(
    now: DateTime<Utc>,
    days: &[FeatureDay],
    boundary: &[(NaiveDate, FeatureTotals)],
) -> Vec<FeatureTotals> {
    fn entry<'m>(
        features: &'m mut BTreeMap<String, FeatureTotals>,
        feature: &str,
    ) -> &'m mut FeatureTotals {
        features
            .entry(feature.to_owned())
            .or_insert_with(|| FeatureTotals {
                feature: feature.to_owned(),
                ..FeatureTotals::default()
            })
    }
    let w = FeatureWindows::at(now);
    let mut features: BTreeMap<String, FeatureTotals> = BTreeMap::new();
    // (A window never holds a day another one cuts: last_7 and previous_7
    // lie inside whole, so a day wholly in them is wholly in whole.)
    for d in days {
        if cover(w.whole, d.day) != Cover::All {
            continue;
        }
        let f = entry(&mut features, &d.feature);
        f.events += d.events;
        f.good += d.good;
        f.errors += d.errors;
        if cover(w.last_7, d.day) == Cover::All {
            f.last_7_days += d.events;
        } else if cover(w.previous_7, d.day) == Cover::All {
            f.previous_7_days += d.events;
        }
    }
    let cut = |span, day| cover(span, day) == Cover::Part;
    for (day, b) in boundary {
        let day = *day;
        if ![w.whole, w.last_7, w.previous_7]
            .into_iter()
            .any(|s| cut(s, day))
        {
            continue;
        }
        let f = entry(&mut features, &b.feature);
        if cut(w.whole, day) {
            f.events += b.events;
            f.good += b.good;
            f.errors += b.errors;
        }
        if cut(w.last_7, day) {
            f.last_7_days += b.last_7_days;
        }
        if cut(w.previous_7, day) {
            f.previous_7_days += b.previous_7_days;
        }
    }
    features.into_values().collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::{day_of, RollupCounts, RollupKey};

    /// Rows every 5 hours over 100 days (some in the future), three
    /// features and none, some all errors.
    fn rows(now: DateTime<Utc>) -> Vec<RollupRow> {
        let base = crate::rollup::hour_of(now);
        (-30i64..480)
            .map(|n| RollupRow {
                key: RollupKey {
                    install_id: "i".to_owned(),
                    hour: base - TimeDelta::hours(n * 5),
                    event_type: [EventType::FeatureUsed, EventType::ApiCall]
                        [n.unsigned_abs() as usize % 2],
                    feature: ["pos", "crypto", "", "reports"][n.unsigned_abs() as usize % 4]
                        .to_owned(),
                },
                counts: RollupCounts {
                    events: 1 + n.abs() % 7,
                    users: n.abs() % 2,
                    errors: if n % 11 == 0 {
                        1 + n.abs() % 7
                    } else {
                        n.abs() % 2
                    },
                    ..RollupCounts::default()
                },
            })
            .collect()
    }

    fn days_of(rows: &[RollupRow]) -> Vec<FeatureDay> {
        let mut days: BTreeMap<(NaiveDate, &str), FeatureDay> = BTreeMap::new();
        for r in rows.iter().filter(|r| !r.key.feature.is_empty()) {
            let d = days
                .entry((day_of(r.key.hour), &r.key.feature))
                .or_insert_with(|| FeatureDay {
                    day: day_of(r.key.hour),
                    feature: r.key.feature.clone(),
                    ..FeatureDay::default()
                });
            d.events += r.counts.events;
            d.good += good_of(r);
            d.errors += r.counts.errors;
        }
        days.into_values().collect()
    }

    #[test]
    fn day_totals_and_boundary_days_give_the_reference_fold() {
        let midnight = NaiveDate::from_ymd_opt(2025, 3, 10)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .unwrap_or_default();
        for offset in [0, 1, 59, 60 * 7 + 13, 60 * 23 + 59] {
            let now = midnight + TimeDelta::minutes(offset) + TimeDelta::microseconds(offset * 3);
            let rows = rows(now);
            let w = FeatureWindows::at(now);
            let boundary: Vec<(NaiveDate, FeatureTotals)> = w
                .boundary_days()
                .into_iter()
                .flat_map(|day| {
                    let of_day: Vec<RollupRow> = rows
                        .iter()
                        .filter(|r| day_of(r.key.hour) == day)
                        .cloned()
                        .collect();
                    compact(&of_day, now).1.into_iter().map(move |f| (day, f))
                })
                .collect();
            let want = compact(&rows, now).1;
            assert!(want
                .iter()
                .all(|f| f.last_7_days > 0 && f.previous_7_days > 0));
            assert_eq!(
                feature_totals(now, &days_of(&rows), &boundary),
                want,
                "now {now}"
            );
        }
    }

    #[test]
    fn boundary_days_are_the_days_a_window_cuts() {
        let at = |h, m| {
            NaiveDate::from_ymd_opt(2025, 3, 10)
                .and_then(|d| d.and_hms_opt(h, m, 0))
                .map(|t| t.and_utc())
                .unwrap_or_default()
        };
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        // At midnight no window cuts a day: every window starts and ends at one.
        assert!(FeatureWindows::at(at(0, 0)).boundary_days().is_empty());
        // 90 days back, 14 and 7 days back, today and tomorrow (whole's end).
        assert_eq!(
            FeatureWindows::at(at(9, 30)).boundary_days(),
            [
                date(2024, 12, 10),
                date(2025, 2, 24),
                date(2025, 3, 3),
                date(2025, 3, 10),
                date(2025, 3, 11)
            ]
        );
    }
}
