//! Puts a month's invoice together: base and proration lines from the
//! license's timeline, overage and extra seats priced by the plan billed
//! last in the month, then totals with the vendor's tax rates.

use std::collections::BTreeMap;

use crate::license::LicenseStatus;
use crate::money::Currency;
use crate::plan::{Plan, PlanSlug};

use super::base::base_lines;
use super::month::InvoiceMonth;
use super::timeline::{state_at_end_of, LicenseState};
use super::totals::Line;
use super::usage::{extra_seats_line, overage_lines, BillableUsage};

/// Everything one license's invoice for one month depends on.
#[derive(Debug, Clone)]
pub struct BillingInput<'a> {
    pub month: InvoiceMonth,
    pub states: &'a [LicenseState],
    pub plans: &'a BTreeMap<PlanSlug, Plan>,
    pub usage: &'a [BillableUsage],
    /// Distinct users in the month.
    pub seats_used: i64,
    pub extra_seat_price_minor: i64,
}

/// Why a license gets no invoice for a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotBillable {
    #[error("no day of the month on a paid plan with an active license (trials, free tiers, suspended, expired and revoked days are not billed)")]
    NoPaidDays,
    #[error("nothing due this month (an annual plan is billed in the month its year starts, and there was no overage)")]
    NothingDue,
}

/// The lines of the month and the currency they are in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthLines {
    pub lines: Vec<Line>,
    pub currency: Currency,
    /// The plan whose usage prices applied.
    pub plan: PlanSlug,
}

/// The plan billed on the month's last day with an active paid state.
fn last_paid_plan<'a>(input: &BillingInput<'a>) -> Option<&'a Plan> {
    let days: Vec<_> = input.month.each_day().collect();
    days.into_iter().rev().find_map(|day| {
        let state = state_at_end_of(input.states, day)?;
        (state.status == LicenseStatus::Active)
            .then(|| input.plans.get(&state.plan))
            .flatten()
            .filter(|p| p.is_paid())
    })
}

pub fn month_lines(input: &BillingInput<'_>) -> Result<MonthLines, NotBillable> {
    let mut lines = base_lines(input.month, input.states, input.plans);
    let Some(plan) = last_paid_plan(input) else {
        return Err(NotBillable::NoPaidDays);
    };
    lines.extend(overage_lines(plan, input.usage));
    lines.extend(extra_seats_line(
        plan,
        input.seats_used,
        input.extra_seat_price_minor,
    ));
    if lines.is_empty() {
        return Err(NotBillable::NothingDue);
    }
    Ok(MonthLines {
        lines,
        currency: plan.currency.clone(),
        plan: plan.slug.clone(),
    })
}
