//! The calendar of one customer's activity: whole days in its own time zone,
//! each with a weight (growth or decline, quieter weekends), and random
//! spreading of N things over those days by weight.

use anyhow::anyhow;
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveTime, TimeZone, Utc, Weekday};
use rand::distributions::{Distribution, WeightedIndex};
use rand::Rng;

use super::spec::Activity;

/// One local day of activity, clipped to the activity window.
#[derive(Debug, Clone, Copy)]
pub struct Day {
    /// Working hours: when in-app events and usage happen.
    pub open: DateTime<Utc>,
    pub close: DateTime<Utc>,
    /// The whole day: when scripts may call.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// How much of a full day's working hours lies in the window (0 to 1).
    pub share: f64,
    /// Relative activity: trend × weekend factor × share.
    pub weight: f64,
}

pub fn offset(activity: &Activity) -> anyhow::Result<FixedOffset> {
    FixedOffset::east_opt(activity.tz_offset_hours * 3600).ok_or_else(|| {
        anyhow!(
            "time zone offset {}h is out of range",
            activity.tz_offset_hours
        )
    })
}

/// The local days that meet the activity window
/// `[now - from_days_ago days, now - until_days_ago days)`, oldest first,
/// each clipped to it, so every instant they hand out lies inside it.
pub fn days(activity: &Activity, now: DateTime<Utc>) -> anyhow::Result<Vec<Day>> {
    let tz = offset(activity)?;
    let floor = now - Duration::days(activity.from_days_ago);
    let ceil = now - Duration::days(activity.until_days_ago);
    let first = floor.with_timezone(&tz).date_naive();
    let last = ceil.with_timezone(&tz).date_naive();
    let full_hours = Duration::hours(i64::from(activity.hours.1.saturating_sub(activity.hours.0)));
    let span = (last - first).num_days().max(1) as f64;

    let mut out = Vec::new();
    let mut date = first;
    while date <= last {
        let start = tz
            .from_local_datetime(&date.and_time(NaiveTime::MIN))
            .single()
            .ok_or_else(|| anyhow!("local midnight of {date} is ambiguous"))?
            .with_timezone(&Utc);
        let open = (start + Duration::hours(i64::from(activity.hours.0))).max(floor);
        let close = (start + Duration::hours(i64::from(activity.hours.1))).min(ceil);
        // A day whose working hours barely meet the window gets nothing, so
        // every session fits inside working hours.
        let share = if close - open < Duration::minutes(10) || full_hours <= Duration::zero() {
            0.0
        } else {
            (close - open).num_seconds() as f64 / full_hours.num_seconds() as f64
        };
        let progress = (date - first).num_days() as f64 / span;
        let mut weight = (1.0 + activity.growth * progress).max(0.05) * share;
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            weight *= activity.weekend_factor;
        }
        out.push(Day {
            open,
            close,
            from: start.max(floor),
            to: (start + Duration::days(1)).min(ceil),
            share,
            weight,
        });
        date = date
            .succ_opt()
            .ok_or_else(|| anyhow!("date {date} is out of range"))?;
    }
    Ok(out)
}

/// How many things `per_day` means over these days: days that get nothing
/// (weekends of a weekday-only team) do not count, partial days count in part.
pub fn total_for(days: &[Day], per_day: f64) -> u32 {
    let active: f64 = days
        .iter()
        .filter(|d| d.weight > 0.0)
        .map(|d| d.share)
        .sum();
    // Rounded and bounded: demo rates are small, so this never truncates.
    (per_day * active).round().clamp(0.0, f64::from(u32::MAX)) as u32
}

/// Spreads `total` things over `days` by weight: how many land on each day.
pub fn spread(days: &[Day], total: u32, rng: &mut impl Rng) -> anyhow::Result<Vec<u32>> {
    let mut counts = vec![0u32; days.len()];
    if total == 0 || days.is_empty() {
        return Ok(counts);
    }
    let pick = WeightedIndex::new(days.iter().map(|d| d.weight))?;
    for _ in 0..total {
        counts[pick.sample(rng)] += 1;
    }
    Ok(counts)
}

/// A uniformly random instant in `[from, to)`, to the second.
pub fn instant_between(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    rng: &mut impl Rng,
) -> DateTime<Utc> {
    let span = (to - from).num_seconds();
    if span <= 0 {
        return from;
    }
    from + Duration::seconds(rng.gen_range(0..span))
}
