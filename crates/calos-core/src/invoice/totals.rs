//! Line items and totals, in integer minor units.
//!
//! Rounding (the rules README documents):
//! * every line is rounded on its own to whole minor units, half away from
//!   zero (a prorated base price, an overage line computed in micro-units);
//! * the subtotal is the exact sum of the rounded lines;
//! * a discount is a whole amount, never negative and never more than the
//!   subtotal; the taxable amount is subtotal − discount;
//! * each tax rate applies to the taxable amount (not per line), rounded
//!   half away from zero; the total is taxable amount + every tax.

use serde::{Deserialize, Serialize};

use crate::money::div_round;
use crate::InvalidValue;

/// What a line bills.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// A plan's price for a whole period (or part of one, prorated by days).
    Base,
    /// The difference an annual tier change makes to the rest of its period.
    Proration,
    /// Metered usage above the plan's allowance.
    Overage,
    /// Seats used above the plan's `seats` limit.
    ExtraSeats,
    /// The negated lines of a voided invoice, on its credit note.
    Credit,
}

/// One line of an invoice.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub kind: LineKind,
    pub description: String,
    /// Units billed (days for a prorated base line, usage units, seats).
    pub quantity: i64,
    /// What the quantity is counted in (`month`, `days`, `units`, `seats`).
    pub unit: String,
    /// The undiscounted price of one whole unit or period, when there is one
    /// (a base line's full monthly or annual price; an overage line's is in
    /// `detail` since usage prices can be below a minor unit).
    pub unit_price_minor: Option<i64>,
    /// How the amount was worked out, for the reader (`17/31 days`).
    pub detail: Option<String>,
    pub amount_minor: i64,
    /// The plan this line bills, when it bills one.
    pub plan: Option<String>,
}

/// A tax the vendor charges, in basis points of the taxable amount.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaxRate {
    pub name: String,
    pub basis_points: i64,
}

impl TaxRate {
    pub fn validate(&self) -> Result<(), InvalidValue> {
        let name_ok = !self.name.trim().is_empty() && crate::text::short_printable(&self.name, 40);
        if !name_ok {
            return Err(InvalidValue::new(
                "taxRates",
                "each tax needs a name of 1-40 characters",
            ));
        }
        if !(0..=10_000).contains(&self.basis_points) {
            return Err(InvalidValue::new(
                "taxRates",
                "a tax rate must be 0-10000 basis points (0-100%)",
            ));
        }
        Ok(())
    }
}

/// One tax as charged on an invoice.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxLine {
    pub name: String,
    pub basis_points: i64,
    pub amount_minor: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub taxable_minor: i64,
    pub taxes: Vec<TaxLine>,
    pub tax_minor: i64,
    pub total_minor: i64,
}

/// A discount as asked for: whole minor units, never negative.
pub fn parse_discount(raw: i64) -> Result<i64, InvalidValue> {
    if raw < 0 {
        return Err(InvalidValue::new(
            "discountMinor",
            "a discount must not be negative",
        ));
    }
    Ok(raw)
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v > 0 { i64::MAX } else { i64::MIN })
}

/// The totals of `lines` after `discount_minor`, with `rates` applied to the
/// taxable amount. A discount that is negative or above a positive subtotal
/// is refused (credit notes, whose subtotal is negative, take no discount).
pub fn compute_totals(
    lines: &[Line],
    discount_minor: i64,
    rates: &[TaxRate],
) -> Result<Totals, InvalidValue> {
    let discount = parse_discount(discount_minor)?;
    let subtotal: i128 = lines.iter().map(|l| i128::from(l.amount_minor)).sum();
    if i128::from(discount) > subtotal.max(0) {
        return Err(InvalidValue::new(
            "discountMinor",
            format!("a discount may not exceed the subtotal ({subtotal})"),
        ));
    }
    let taxable = subtotal - i128::from(discount);
    let taxes: Vec<TaxLine> = rates
        .iter()
        .map(|r| TaxLine {
            name: r.name.clone(),
            basis_points: r.basis_points,
            amount_minor: clamp(div_round(taxable * i128::from(r.basis_points), 10_000)),
        })
        .collect();
    let tax: i128 = taxes.iter().map(|t| i128::from(t.amount_minor)).sum();
    Ok(Totals {
        subtotal_minor: clamp(subtotal),
        discount_minor: discount,
        taxable_minor: clamp(taxable),
        taxes,
        tax_minor: clamp(tax),
        total_minor: clamp(taxable + tax),
    })
}
