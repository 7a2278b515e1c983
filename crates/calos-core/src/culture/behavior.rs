//! When people work: the customer's time zone (set, or inferred from the
//! daily rhythm), 24-hour and weekday histograms in that zone, peak hours,
//! working days, and session lengths measured per session — never as the gap
//! between any two events of any users.

use chrono::{Datelike, Timelike};

use super::clock::{offset_label, Clock};
use super::compact::HourTotals;
use super::input::CultureInput;
use super::math::round_to;
use super::profile::{Behavior, SessionStats};
use super::session_sample::{SessionSample, MEDIAN, P90};

pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The local hour a working day is centred on: offices open about 9–17.
const WORKDAY_CENTRE_HOUR: f64 = 13.0;
/// Below this concentration (0 = spread evenly round the clock, 1 = one
/// hour) the activity has no daily rhythm to infer a zone from.
const MIN_RHYTHM: f64 = 0.2;
/// Offsets a customer may set: UTC-12:00 to UTC+14:00.
const OFFSET_RANGE: std::ops::RangeInclusive<i32> = -720..=840;

/// Activity made by people, per hour: the events of rollup buckets with at
/// least one user ([`HourTotals::people_events`]). Scripts run round the
/// clock and would flatten the day's shape. A customer with no user ids at
/// all is judged on everything. Failed events count too: an error is still
/// someone at work, and it keeps the zone and working days (which the score
/// builds on) independent of how much of the work failed.
pub fn people_rows(rows: &[HourTotals]) -> Vec<(chrono::DateTime<chrono::Utc>, i64)> {
    let any_people = rows.iter().any(|r| r.people_events > 0);
    rows.iter()
        .map(|r| {
            let n = if any_people {
                r.people_events
            } else {
                r.events
            };
            (r.hour, n)
        })
        .filter(|(_, n)| *n > 0 || !any_people)
        .collect()
}

/// The customer's offset and where it came from.
pub fn resolve_timezone(input: &CultureInput<'_>) -> (i32, &'static str) {
    if let Some(set) = input
        .timezone_offset_minutes
        .filter(|m| OFFSET_RANGE.contains(m))
    {
        return (set, "customer");
    }
    match infer_offset_minutes(&people_rows(input.hours)) {
        Some(m) => (m, "inferred"),
        None => (0, "default"),
    }
}

/// Centres the circular mean of the UTC hour-of-day of activity on 13:00
/// local, to the whole hour. `None` without a clear daily rhythm.
pub fn infer_offset_minutes(rows: &[(chrono::DateTime<chrono::Utc>, i64)]) -> Option<i32> {
    let (mut x, mut y, mut total) = (0.0, 0.0, 0.0);
    for (hour, n) in rows {
        let w = *n as f64;
        let angle = (f64::from(hour.hour()) + 0.5) / 24.0 * std::f64::consts::TAU;
        x += w * angle.cos();
        y += w * angle.sin();
        total += w;
    }
    if total <= 0.0 || (x.hypot(y) / total) < MIN_RHYTHM {
        return None;
    }
    let centre = y.atan2(x).rem_euclid(std::f64::consts::TAU) / std::f64::consts::TAU * 24.0;
    let mut hours = (WORKDAY_CENTRE_HOUR - centre).round() as i32;
    if hours > 14 {
        hours -= 24;
    } else if hours < -12 {
        hours += 24;
    }
    Some(hours * 60)
}

pub fn analyze(input: &CultureInput<'_>, clock: &Clock, source: &'static str) -> Behavior {
    let mut hourly = vec![0i64; 24];
    let mut weekdays = vec![0i64; 7];
    for (hour, n) in people_rows(input.hours) {
        let local = clock.local(hour);
        hourly[local.hour() as usize] += n;
        weekdays[local.weekday().num_days_from_monday() as usize] += n;
    }
    let peak_hours = peak_hours(&hourly);
    let working_hours = block_label(&peak_hours);
    let max_day = weekdays.iter().copied().max().unwrap_or(0);
    let working_days = WEEKDAYS
        .iter()
        .zip(&weekdays)
        .filter(|(_, n)| max_day > 0 && **n * 3 >= max_day)
        .map(|(d, _)| (*d).to_owned())
        .collect();
    let total: i64 = weekdays.iter().sum();
    let weekend_share = if total > 0 {
        round_to((weekdays[5] + weekdays[6]) as f64 / total as f64, 4)
    } else {
        0.0
    };
    Behavior {
        timezone: offset_label(clock.offset_minutes),
        timezone_offset_minutes: clock.offset_minutes,
        timezone_source: source.to_owned(),
        hourly,
        weekdays,
        peak_hours,
        working_hours,
        working_days,
        weekend_share,
        sessions: session_stats(&input.sessions),
    }
}

/// Hours with at least half the busiest hour's activity.
pub fn peak_hours(hourly: &[i64]) -> Vec<u32> {
    let max = hourly.iter().copied().max().unwrap_or(0);
    if max <= 0 {
        return Vec::new();
    }
    (0u32..)
        .zip(hourly)
        .filter(|(_, n)| **n * 2 >= max)
        .map(|(h, _)| h)
        .collect()
}

/// `"09:00–17:00"` when `hours` form one block (wrapping past midnight is
/// fine); `None` for several blocks, none, or all day.
fn block_label(hours: &[u32]) -> Option<String> {
    let mut on = [false; 24];
    for h in hours {
        if let Some(slot) = on.get_mut(*h as usize) {
            *slot = true;
        }
    }
    let starts: Vec<usize> = (0..24).filter(|&h| on[h] && !on[(h + 23) % 24]).collect();
    let [start] = starts[..] else {
        return None;
    };
    let end = (1..=24).map(|k| (start + k) % 24).find(|&h| !on[h])?;
    Some(format!("{start:02}:00–{end:02}:00"))
}

/// Median and 90th percentile of session length, and median events, over
/// the most recent sessions with two or more events (see [`SessionSample`]).
pub fn session_stats(sample: &SessionSample) -> SessionStats {
    let minutes = |secs: i64| secs as f64 / 60.0;
    SessionStats {
        count: sample.count,
        median_minutes: sample
            .interpolate(sample.median_seconds, MEDIAN, minutes)
            .map(|m| round_to(m, 1)),
        p90_minutes: sample
            .interpolate(sample.p90_seconds, P90, minutes)
            .map(|m| round_to(m, 1)),
        median_events: sample.interpolate(sample.median_events, MEDIAN, |e| e as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_labels() {
        assert_eq!(
            block_label(&[9, 10, 11, 12, 13, 14, 15, 16]).as_deref(),
            Some("09:00–17:00")
        );
        assert_eq!(block_label(&[22, 23, 0, 1]).as_deref(), Some("22:00–02:00"));
        assert_eq!(block_label(&[9, 10, 14]), None, "two blocks");
        assert_eq!(block_label(&[]), None);
        assert_eq!(block_label(&(0..24).collect::<Vec<_>>()), None);
    }

    #[test]
    fn peak_hours_are_at_least_half_the_busiest() {
        let mut h = vec![0; 24];
        h[9] = 10;
        h[10] = 5;
        h[11] = 4;
        assert_eq!(peak_hours(&h), [9, 10]);
        assert!(peak_hours(&[0; 24]).is_empty());
    }
}
