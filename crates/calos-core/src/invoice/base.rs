//! Base price lines: what the plan costs for the days of a month the license
//! was active on it.
//!
//! * Monthly licenses: each run of days on one paid plan bills the plan's
//!   monthly price × days ÷ days in the month (a whole month bills the price
//!   exactly). Days in trial, suspended, expired or revoked are not billed.
//! * Annual licenses: the annual price is billed once per year, on the day
//!   an annual period starts (creation, activation, renewal after expiry, a
//!   switch to annual billing, and each anniversary). A tier change within
//!   an annual period bills (or credits) the price difference for the rest
//!   of the period: (new − old annual price) × days left ÷ days in period.
//!
//! A day is billed by the state in effect at its end (UTC); each line is
//! rounded half away from zero.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::license::{BillingPeriod, LicenseStatus};
use crate::money::div_round;
use crate::plan::{Plan, PlanSlug};

use super::month::InvoiceMonth;
use super::timeline::{annual_period_containing, state_at_end_of, LicenseState};
use super::totals::{Line, LineKind};

fn billable_plan<'a>(
    state: Option<&LicenseState>,
    plans: &'a BTreeMap<PlanSlug, Plan>,
    period: BillingPeriod,
) -> Option<&'a Plan> {
    let state = state?;
    if state.status != LicenseStatus::Active || state.billing_period != period {
        return None;
    }
    plans.get(&state.plan).filter(|p| p.price_for(period) > 0)
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn short(day: NaiveDate) -> String {
    day.format("%-d %b %Y").to_string()
}

/// The base-price and proration lines of `month`.
pub fn base_lines(
    month: InvoiceMonth,
    states: &[LicenseState],
    plans: &BTreeMap<PlanSlug, Plan>,
) -> Vec<Line> {
    let mut lines = Vec::new();
    monthly_lines(month, states, plans, &mut lines);
    annual_lines(month, states, plans, &mut lines);
    lines
}

fn monthly_lines(
    month: InvoiceMonth,
    states: &[LicenseState],
    plans: &BTreeMap<PlanSlug, Plan>,
    out: &mut Vec<Line>,
) {
    let days_in_month = month.days();
    // Runs of consecutive days on one plan: (plan, first day, last day, days).
    let mut runs: Vec<(&Plan, NaiveDate, NaiveDate, i64)> = Vec::new();
    let mut previous_billed = false;
    for day in month.each_day() {
        let plan = billable_plan(state_at_end_of(states, day), plans, BillingPeriod::Monthly);
        if let Some(p) = plan {
            match runs.last_mut() {
                Some(run) if previous_billed && run.0.slug == p.slug => {
                    run.2 = day;
                    run.3 += 1;
                }
                _ => runs.push((p, day, day, 1)),
            }
        }
        previous_billed = plan.is_some();
    }
    for (plan, first, last, days) in runs {
        let price = plan.price_monthly_minor;
        let whole = days == days_in_month;
        out.push(Line {
            kind: LineKind::Base,
            description: format!("{} plan, monthly", plan.name),
            quantity: if whole { 1 } else { days },
            unit: if whole { "month" } else { "days" }.to_owned(),
            unit_price_minor: Some(price),
            detail: (!whole).then(|| {
                format!(
                    "{days}/{days_in_month} days, {} – {}",
                    short(first),
                    short(last)
                )
            }),
            amount_minor: if whole {
                price
            } else {
                clamp(div_round(
                    i128::from(price) * i128::from(days),
                    i128::from(days_in_month),
                ))
            },
            plan: Some(plan.slug.as_str().to_owned()),
        });
    }
}

fn annual_lines(
    month: InvoiceMonth,
    states: &[LicenseState],
    plans: &BTreeMap<PlanSlug, Plan>,
    out: &mut Vec<Line>,
) {
    for day in month.each_day() {
        let state = state_at_end_of(states, day);
        let Some(plan) = billable_plan(state, plans, BillingPeriod::Annual) else {
            continue;
        };
        let Some(state) = state else { continue };
        let Some((from, to)) = annual_period_containing(state.period_start, day) else {
            continue;
        };
        if day == from {
            out.push(Line {
                kind: LineKind::Base,
                description: format!("{} plan, annual", plan.name),
                quantity: 1,
                unit: "year".to_owned(),
                unit_price_minor: Some(plan.price_annual_minor),
                detail: Some(format!(
                    "{} – {}",
                    short(from),
                    short(to.pred_opt().unwrap_or(to))
                )),
                amount_minor: plan.price_annual_minor,
                plan: Some(plan.slug.as_str().to_owned()),
            });
            continue;
        }
        // A tier change today within the same annual period.
        let before = day
            .pred_opt()
            .and_then(|d| state_at_end_of(states, d))
            .filter(|b| b.period_start == state.period_start && b.plan != state.plan);
        let Some(old) = before.and_then(|b| billable_plan(Some(b), plans, BillingPeriod::Annual))
        else {
            continue;
        };
        let left = (to - day).num_days();
        let period_days = (to - from).num_days();
        let difference = plan.price_annual_minor - old.price_annual_minor;
        out.push(Line {
            kind: LineKind::Proration,
            description: format!(
                "{} → {} plan, rest of the annual period",
                old.name, plan.name
            ),
            quantity: left,
            unit: "days".to_owned(),
            unit_price_minor: Some(difference),
            detail: Some(format!(
                "{left}/{period_days} days of the price difference, {} – {}",
                short(day),
                short(to.pred_opt().unwrap_or(to))
            )),
            amount_minor: clamp(div_round(
                i128::from(difference) * i128::from(left),
                i128::from(period_days.max(1)),
            )),
            plan: Some(plan.slug.as_str().to_owned()),
        });
    }
}
