//! Plan limits: exact percent used, and the date the allowance runs out at
//! the current pace and growth, when that falls inside the billing period.

use chrono::{NaiveDate, TimeDelta};

use super::clock::Clock;
use super::input::CultureInput;
use super::math::round_to;
use super::profile::LimitUse;
use crate::plan::{Limit, Meter};

/// Seats and domains are counts of things, not usage that accrues per period.
pub fn per_period(meter: Meter) -> bool {
    !matches!(meter, Meter::Seats | Meter::Domains)
}

pub fn analyze(input: &CultureInput<'_>, clock: &Clock) -> Vec<LimitUse> {
    let today = clock.now.date_naive();
    let period_end = input.license.current_period_end;
    input
        .meters
        .iter()
        .filter_map(|u| {
            let Limit::Max(limit) = u.limit else {
                return None;
            };
            // A meter the plan excludes only matters once it is used.
            if limit == 0 && u.used <= 0 {
                return None;
            }
            let used = u.used.max(0);
            let percent = (limit > 0).then(|| used as f64 * 100.0 / limit as f64);
            let accrues = per_period(u.meter);
            let rates = accrues.then(|| daily_rates(input, u.meter, today));
            let reached = used as u128 >= u128::from(limit);
            let projected_date = match rates {
                Some((rate, growth)) if !reached && limit > 0 => {
                    let days_left = (period_end.date_naive() - today).num_days();
                    let remaining = limit as f64 - used as f64;
                    project(rate, growth, remaining, days_left).map(|d| today + TimeDelta::days(d))
                }
                _ => None,
            };
            Some(LimitUse {
                name: u.meter.as_str().to_owned(),
                used,
                limit,
                percent,
                per_period: accrues,
                period_end: accrues.then_some(period_end),
                daily_rate: rates.map(|(r, _)| round_to(r, 2)),
                projected_date,
                reached,
            })
        })
        .collect()
}

/// Mean daily use over the last 7 full days, and its change per day
/// (the difference to the 7 days before, spread over a week).
fn daily_rates(input: &CultureInput<'_>, meter: Meter, today: NaiveDate) -> (f64, f64) {
    let sum = |from: i64, to: i64| -> i64 {
        input
            .daily_usage
            .iter()
            .filter(|d| d.meter == meter)
            .filter(|d| {
                d.day >= today - TimeDelta::days(from) && d.day < today - TimeDelta::days(to)
            })
            .map(|d| d.quantity.max(0))
            .sum()
    };
    let recent = sum(7, 0) as f64 / 7.0;
    let before = sum(14, 7) as f64 / 7.0;
    (recent, (recent - before) / 7.0)
}

/// Days from today until `remaining` units are used at `rate` per day
/// growing by `growth` per day; `None` if not within `days_left`.
fn project(rate: f64, growth: f64, remaining: f64, days_left: i64) -> Option<i64> {
    let mut total = 0.0;
    for day in 1..=days_left.clamp(0, 400) {
        total += (rate + growth * day as f64).max(0.0);
        if total >= remaining {
            return Some(day);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_counts_growth_and_stops_at_the_period_end() {
        assert_eq!(project(10.0, 0.0, 35.0, 30), Some(4));
        assert_eq!(project(10.0, 0.0, 350.0, 30), None, "after the period ends");
        assert_eq!(
            project(10.0, 10.0, 60.0, 30),
            Some(3),
            "10+20+30 after 3 days"
        );
        assert_eq!(project(0.0, 0.0, 1.0, 30), None, "no use, no date");
        // Used-per-day is never negative even when shrinking fast.
        assert_eq!(project(5.0, -5.0, 1.0, 30), None);
    }
}
