//! A license's states over time, read from its history (each audit record of
//! a license change carries the license as it was afterwards), so an invoice
//! can tell which plan and status held on each day of a month.

use chrono::{DateTime, Months, NaiveDate, Utc};

use crate::license::{BillingPeriod, License, LicenseStatus};
use crate::plan::PlanSlug;

use super::month::midnight;

/// The license as it was from `from` until the next state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseState {
    pub from: DateTime<Utc>,
    pub plan: PlanSlug,
    pub billing_period: BillingPeriod,
    pub status: LicenseStatus,
    pub period_start: DateTime<Utc>,
}

impl LicenseState {
    pub fn of(license: &License, from: DateTime<Utc>) -> Self {
        Self {
            from,
            plan: license.plan.clone(),
            billing_period: license.billing_period,
            status: license.status,
            period_start: license.current_period_start,
        }
    }
}

/// The states of a license, oldest first, from its history (`(when, license
/// after the change)`, any order) and the license as stored now. Without
/// history the license is taken as it is now since its creation.
pub fn timeline(current: &License, history: &[(DateTime<Utc>, License)]) -> Vec<LicenseState> {
    let mut states: Vec<LicenseState> = history
        .iter()
        .map(|(at, license)| LicenseState::of(license, *at))
        .collect();
    states.sort_by_key(|s| s.from);
    let now_state = LicenseState::of(current, current.updated_at);
    match states.last() {
        Some(last) if last.from > current.updated_at => {}
        Some(last)
            if last.plan == now_state.plan
                && last.status == now_state.status
                && last.billing_period == now_state.billing_period
                && last.period_start == now_state.period_start => {}
        _ => states.push(now_state),
    }
    if let Some(first) = states.first_mut() {
        first.from = first.from.min(current.created_at);
    }
    states
}

/// The state in effect at the end of `day` (a change during a day counts
/// for that whole day), or `None` before the license existed.
pub fn state_at_end_of(states: &[LicenseState], day: NaiveDate) -> Option<&LicenseState> {
    let next_midnight = midnight(day.succ_opt()?);
    states.iter().rev().find(|s| s.from < next_midnight)
}

/// The annual period (start day, next start day) of a period that started
/// at `period_start` which contains `day`, or `None` when `day` is before it.
pub fn annual_period_containing(
    period_start: DateTime<Utc>,
    day: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let start = period_start.date_naive();
    if day < start {
        return None;
    }
    let mut years = 0u32;
    loop {
        let from = start.checked_add_months(Months::new(12 * years))?;
        let to = start.checked_add_months(Months::new(12 * (years + 1)))?;
        if day < to {
            return Some((from, to));
        }
        years += 1;
        if years > 1200 {
            return None;
        }
    }
}
