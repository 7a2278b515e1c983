//! How many people use the product: the distinct users of the last 7 days,
//! bounded below by a typical day's distinct users and above by the last 28
//! days'. Never scaled from the busiest 5-minute window: a team of ten that
//! takes turns is still ten people.

use chrono::Datelike;

use super::input::ActiveUsers;
use super::math::{quantile, round_to};
use super::profile::TeamSize;
use chrono::NaiveDate;

/// `daily_users` are UTC days; `working_days` (Mon = 0) picks the days a
/// typical day is taken from, so a weekday team's empty weekends do not
/// drag it down.
pub fn estimate(
    active: ActiveUsers,
    daily_users: &[(NaiveDate, i64)],
    today: NaiveDate,
    working_days: &[usize],
) -> TeamSize {
    let since = today - chrono::TimeDelta::days(28);
    let mut typical: Vec<f64> = daily_users
        .iter()
        .filter(|(d, n)| *d >= since && *d <= today && *n > 0)
        .filter(|(d, _)| {
            working_days.is_empty()
                || working_days.contains(&(d.weekday().num_days_from_monday() as usize))
        })
        .map(|(_, n)| *n as f64)
        .collect();
    typical.sort_by(f64::total_cmp);
    let median = quantile(&typical, 0.5);

    let weekly = active.last_7_days.max(0);
    let monthly = active.last_28_days.max(weekly);
    let median_whole = median.map(|m| m.round() as i64);
    let estimate = if weekly > 0 {
        Some(weekly)
    } else if monthly > 0 {
        Some(monthly)
    } else {
        median_whole.filter(|m| *m > 0)
    };
    let (low, high, basis) = match estimate {
        None => (None, None, "no user ids in the telemetry".to_owned()),
        Some(e) => (
            Some(median_whole.unwrap_or(e).clamp(1, e)),
            Some(monthly.max(e)),
            "distinct users in the last 7 days; range from a typical working day to the last 28 days"
                .to_owned(),
        ),
    };
    TeamSize {
        estimate,
        low,
        high,
        weekly_users: weekly,
        monthly_users: monthly,
        median_daily_users: median.map(|m| round_to(m, 1)),
        basis,
    }
}
