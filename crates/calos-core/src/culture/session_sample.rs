//! The recent sessions as the analyzer reads them: not the (up to
//! [`MAX_SESSIONS`]) sessions themselves but the few order statistics its
//! session figures interpolate between — how many sessions are measured and,
//! for each quantile reported, the values at the two ranks around it.
//!
//! Why: handing over thousands of session rows per profile was the largest
//! remaining cost of a read (issue 5, speed). A store selects the newest
//! sessions in SQL as before but hands over only each one's length and
//! event count, packed into one value per install (a list or an array), and
//! builds the sample with [`SessionSample::from_lengths`] — the same
//! function [`SessionSample::from_spans`], the reference, ends in — so the
//! figures are exactly those of the full list; the store conformance suite
//! compares the two on both backends.

use chrono::TimeDelta;

use super::input::{SessionSpan, MAX_SESSIONS};

/// A session longer than a day is a client that never closed it: not measured.
pub const MAX_SESSION_SECONDS: i64 = 24 * 60 * 60;
/// Fewer events than this and a session has no length to measure.
pub const MIN_SESSION_EVENTS: i64 = 2;
/// The quantile of the median figures.
pub const MEDIAN: f64 = 0.5;
/// The quantile of the 90th-percentile figure.
pub const P90: f64 = 0.9;

/// The values at the two ranks (ascending, 0-based) a quantile interpolates
/// between; equal when the quantile falls on a rank.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bracket {
    pub low: i64,
    pub high: i64,
}

/// What the analyzer's session figures need from the most recent sessions:
/// the measured ones (at least [`MIN_SESSION_EVENTS`] events, ending no
/// earlier than they start, at most [`MAX_SESSION_SECONDS`] long), counted,
/// and the brackets of their length in whole seconds (at [`MEDIAN`] and
/// [`P90`]) and of their event count (at [`MEDIAN`]). All brackets are 0
/// when `count` is 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionSample {
    pub count: usize,
    pub median_seconds: Bracket,
    pub p90_seconds: Bracket,
    pub median_events: Bracket,
}

/// Where the `q`-quantile of `count` ascending values falls: the rank below,
/// the rank above and the weight of the one above. `None` for no values.
pub fn quantile_position(count: usize, q: f64) -> Option<(usize, usize, f64)> {
    let last = count.checked_sub(1)?;
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let low = pos.floor();
    Some((low as usize, pos.ceil() as usize, pos - low))
}

/// The whole seconds a session of this length (last event minus first)
/// and event count lasted, when it is measured.
pub fn measured_seconds(length: TimeDelta, events: i64) -> Option<i64> {
    let secs = length.num_seconds();
    (events >= MIN_SESSION_EVENTS && length >= TimeDelta::zero() && secs <= MAX_SESSION_SECONDS)
        .then_some(secs)
}

impl SessionSample {
    /// The reference: the sample of `spans`, the most recent sessions (when
    /// there are more than [`MAX_SESSIONS`], the latest started are kept).
    pub fn from_spans(spans: &[SessionSpan]) -> Self {
        let mut recent: Vec<&SessionSpan> = spans.iter().collect();
        if recent.len() > MAX_SESSIONS {
            recent.sort_by_key(|s| std::cmp::Reverse(s.start));
            recent.truncate(MAX_SESSIONS);
        }
        Self::from_lengths(recent.into_iter().map(|s| (s.end - s.start, s.events)))
    }

    /// The sample of the sessions selected, each as its length (last event
    /// minus first) and event count, in any order.
    pub fn from_lengths(sessions: impl IntoIterator<Item = (TimeDelta, i64)>) -> Self {
        let mut seconds = Vec::new();
        let mut events = Vec::new();
        for (length, n) in sessions {
            if let Some(secs) = measured_seconds(length, n) {
                seconds.push(secs);
                events.push(n);
            }
        }
        seconds.sort_unstable();
        events.sort_unstable();
        let bracket = |sorted: &[i64], q: f64| {
            quantile_position(sorted.len(), q)
                .and_then(|(lo, hi, _)| {
                    Some(Bracket {
                        low: *sorted.get(lo)?,
                        high: *sorted.get(hi)?,
                    })
                })
                .unwrap_or_default()
        };
        SessionSample {
            count: seconds.len(),
            median_seconds: bracket(&seconds, MEDIAN),
            p90_seconds: bracket(&seconds, P90),
            median_events: bracket(&events, MEDIAN),
        }
    }

    /// The `q`-quantile interpolated in `bracket`, with each value mapped by
    /// `value` first (as the figures are taken of the mapped values).
    pub fn interpolate(&self, bracket: Bracket, q: f64, value: impl Fn(i64) -> f64) -> Option<f64> {
        let (_, _, weight) = quantile_position(self.count, q)?;
        let (a, b) = (value(bracket.low), value(bracket.high));
        Some(a + (b - a) * weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::culture::math::quantile;
    use chrono::{TimeZone, Utc};

    fn span(start_min: i64, secs: i64, events: i64) -> SessionSpan {
        let start = Utc
            .with_ymd_and_hms(2025, 3, 1, 9, 0, 0)
            .single()
            .expect("time")
            + TimeDelta::minutes(start_min);
        SessionSpan {
            start,
            end: start + TimeDelta::seconds(secs) + TimeDelta::microseconds(999_999),
            user: None,
            events,
        }
    }

    #[test]
    fn brackets_interpolate_to_the_quantiles_of_the_whole_list() {
        for n in [1usize, 2, 3, 10, 11, 37, 100, 101] {
            let spans: Vec<SessionSpan> = (0..n as i64)
                .map(|k| span(k, (k * 7919) % 3_600 + 30, (k * 31) % 17 + 2))
                .collect();
            let sample = SessionSample::from_spans(&spans);
            assert_eq!(sample.count, n);
            let mut minutes: Vec<f64> = spans
                .iter()
                .map(|s| (s.end - s.start).num_seconds() as f64 / 60.0)
                .collect();
            minutes.sort_by(f64::total_cmp);
            let mut events: Vec<f64> = spans.iter().map(|s| s.events as f64).collect();
            events.sort_by(f64::total_cmp);
            let min = |s: i64| s as f64 / 60.0;
            assert_eq!(
                sample.interpolate(sample.median_seconds, MEDIAN, min),
                quantile(&minutes, MEDIAN),
                "{n}"
            );
            assert_eq!(
                sample.interpolate(sample.p90_seconds, P90, min),
                quantile(&minutes, P90),
                "{n}"
            );
            assert_eq!(
                sample.interpolate(sample.median_events, MEDIAN, |e| e as f64),
                quantile(&events, MEDIAN),
                "{n}"
            );
        }
    }

    #[test]
    fn only_measurable_sessions_count() {
        let spans = [
            span(0, 600, 1),                     // one event: no length
            span(1, MAX_SESSION_SECONDS, 2),     // exactly a day: measured
            span(2, MAX_SESSION_SECONDS + 1, 5), // longer: a client left open
            span(3, 120, 3),
        ];
        let sample = SessionSample::from_spans(&spans);
        assert_eq!(sample.count, 2);
        assert_eq!(
            sample.median_seconds,
            Bracket {
                low: 120,
                high: MAX_SESSION_SECONDS
            }
        );
        let none = SessionSample::from_spans(&[]);
        assert_eq!(none, SessionSample::default());
        assert_eq!(
            none.interpolate(none.median_seconds, MEDIAN, |s| s as f64),
            None
        );
    }

    #[test]
    fn positions_of_the_quantiles() {
        assert_eq!(quantile_position(0, MEDIAN), None);
        assert_eq!(quantile_position(1, P90), Some((0, 0, 0.0)));
        assert_eq!(quantile_position(4, MEDIAN), Some((1, 2, 0.5)));
        let (lo, hi, _) = quantile_position(11, P90).expect("position");
        assert_eq!((lo, hi), (9, 9));
    }
}
