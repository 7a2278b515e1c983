//! Time as the customer sees it: the analysis instant, the customer's UTC
//! offset, and the windows ("last 7 days") every part measures in. Nothing
//! here reads the server's local time zone.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};

use super::compact::HourTotals;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: DateTime<Utc>,
    pub offset_minutes: i32,
}

impl Clock {
    /// Wall-clock time at the customer for a UTC instant.
    pub fn local(&self, ts: DateTime<Utc>) -> NaiveDateTime {
        ts.naive_utc() + TimeDelta::minutes(i64::from(self.offset_minutes))
    }

    pub fn local_date(&self, ts: DateTime<Utc>) -> NaiveDate {
        self.local(ts).date()
    }

    /// `[now - from_days, now - to_days)`. Build it once per pass: date
    /// arithmetic per row is what would make the analysis slow.
    pub fn window(&self, from_days: i64, to_days: i64) -> Window {
        Window {
            start: self.now - TimeDelta::days(from_days),
            end: self.now - TimeDelta::days(to_days),
        }
    }

    /// Fractional days from `ts` to now (0 for the future).
    pub fn days_since(&self, ts: DateTime<Utc>) -> f64 {
        ((self.now - ts).num_seconds().max(0)) as f64 / 86_400.0
    }
}

/// A half-open span of time.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn contains(&self, ts: DateTime<Utc>) -> bool {
        ts >= self.start && ts < self.end
    }
}

/// Events of an hour that were not errors: what "activity" counts, so that
/// more errors can only ever lower activity measures, never raise them.
pub fn good(row: &HourTotals) -> i64 {
    row.good
}

/// Sum of `f` over rows in `[now - from_days, now - to_days)`.
pub fn sum_within(
    clock: &Clock,
    rows: &[HourTotals],
    from_days: i64,
    to_days: i64,
    f: impl Fn(&HourTotals) -> i64,
) -> i64 {
    let window = clock.window(from_days, to_days);
    rows.iter().filter(|r| window.contains(r.hour)).map(f).sum()
}

/// `"UTC+01:00"`, `"UTC-05:30"`, `"UTC"`.
pub fn offset_label(offset_minutes: i32) -> String {
    if offset_minutes == 0 {
        return "UTC".to_owned();
    }
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let m = offset_minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Timelike};

    #[test]
    fn local_time_uses_the_customer_offset_not_the_server_zone() {
        let clock = Clock {
            now: Utc.with_ymd_and_hms(2025, 3, 3, 12, 0, 0).unwrap(),
            offset_minutes: 60,
        };
        let t = Utc.with_ymd_and_hms(2025, 3, 3, 23, 30, 0).unwrap();
        assert_eq!(clock.local(t).hour(), 0);
        assert_eq!(
            clock.local_date(t),
            NaiveDate::from_ymd_opt(2025, 3, 4).unwrap()
        );
    }

    #[test]
    fn offset_labels() {
        assert_eq!(offset_label(0), "UTC");
        assert_eq!(offset_label(60), "UTC+01:00");
        assert_eq!(offset_label(-330), "UTC-05:30");
    }
}
