//! Overage and extra-seat lines: usage above the plan's allowance at the
//! plan's usage prices. Which units are billable was decided at ingest (each
//! usage record is split into free and billable units against the allowance
//! of the billing period it fell in, see [`crate::metering`]); an invoice
//! bills the billable units dated in its month, priced here with the same
//! function ingest uses ([`crate::metering::overage_micros`]) and rounded to
//! minor units once per line, half away from zero.

use serde::{Deserialize, Serialize};

use crate::metering::overage_micros;
use crate::money::micros_to_minor_rounded;
use crate::plan::{Limit, Meter, Plan, PricingModel, UsageType};

use super::totals::{Line, LineKind};

/// Billable usage of one type in a month.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillableUsage {
    pub usage_type: UsageType,
    pub billable_quantity: i64,
    /// The money amount (POS, crypto) of the billable units, in minor units:
    /// what percentage prices apply to.
    pub billable_amount_minor: i64,
}

fn usage_label(t: UsageType) -> &'static str {
    match t {
        UsageType::Transcript => "Transcripts",
        UsageType::PosInPerson => "POS transactions (in person)",
        UsageType::PosOnline => "POS transactions (online)",
        UsageType::Crypto => "Crypto charges",
        UsageType::Location => "Locations",
        UsageType::ApiRequest => "API requests",
    }
}

/// A micro-unit price as a decimal of the major unit, at least two places
/// (`0.05`, `0.001`, `10.00`).
pub fn format_micros(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    let major = abs / 1_000_000;
    let mut frac = format!("{:06}", abs % 1_000_000);
    while frac.len() > 2 && frac.ends_with('0') {
        frac.pop();
    }
    format!("{sign}{major}.{frac}")
}

/// Basis points as a percentage (`260` → `2.6%`).
pub fn format_basis_points(bp: i64) -> String {
    let whole = bp / 100;
    let frac = (bp % 100).abs();
    if frac == 0 {
        format!("{whole}%")
    } else if frac % 10 == 0 {
        format!("{whole}.{}%", frac / 10)
    } else {
        format!("{whole}.{frac:02}%")
    }
}

/// Minor units as a decimal (`123456` → `1234.56`).
pub fn format_minor(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn price_detail(model: &PricingModel, u: &BillableUsage) -> String {
    let q = u.billable_quantity;
    match *model {
        PricingModel::PerUnit { unit_micros } => format!("{q} × {}", format_micros(unit_micros)),
        PricingModel::Percentage { basis_points } => format!(
            "{} of {}",
            format_basis_points(basis_points),
            format_minor(u.billable_amount_minor)
        ),
        PricingModel::PercentagePlusFixed {
            basis_points,
            fixed_micros,
        } => format!(
            "{} of {} + {q} × {}",
            format_basis_points(basis_points),
            format_minor(u.billable_amount_minor),
            format_micros(fixed_micros)
        ),
    }
}

/// One line per usage type with billable units and a price.
pub fn overage_lines(plan: &Plan, usage: &[BillableUsage]) -> Vec<Line> {
    let mut sorted: Vec<&BillableUsage> =
        usage.iter().filter(|u| u.billable_quantity > 0).collect();
    sorted.sort_by_key(|u| u.usage_type);
    sorted
        .into_iter()
        .filter_map(|u| {
            let model = plan.usage_prices.get(&u.usage_type)?;
            let micros = overage_micros(
                Some(model),
                u.billable_quantity,
                u.billable_quantity,
                Some(u.billable_amount_minor),
            );
            let amount = micros_to_minor_rounded(i128::from(micros));
            (amount != 0).then(|| Line {
                kind: LineKind::Overage,
                description: format!("{} above the plan allowance", usage_label(u.usage_type)),
                quantity: u.billable_quantity,
                unit: "units".to_owned(),
                unit_price_minor: None,
                detail: Some(price_detail(model, u)),
                amount_minor: amount,
                plan: Some(plan.slug.as_str().to_owned()),
            })
        })
        .collect()
}

/// Seats used above the plan's `seats` limit at `seat_price_minor` each;
/// `None` when within the limit, unlimited, or seats are not priced.
pub fn extra_seats_line(plan: &Plan, seats_used: i64, seat_price_minor: i64) -> Option<Line> {
    let Limit::Max(limit) = plan.limit(Meter::Seats) else {
        return None;
    };
    let extra = seats_used.saturating_sub(i64::try_from(limit).unwrap_or(i64::MAX));
    if extra <= 0 || seat_price_minor <= 0 {
        return None;
    }
    Some(Line {
        kind: LineKind::ExtraSeats,
        description: format!("Extra seats above the {limit} included"),
        quantity: extra,
        unit: "seats".to_owned(),
        unit_price_minor: Some(seat_price_minor),
        detail: Some(format!("{seats_used} used, {limit} included")),
        amount_minor: extra.saturating_mul(seat_price_minor),
        plan: Some(plan.slug.as_str().to_owned()),
    })
}
