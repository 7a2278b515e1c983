//! Usage against plan limits, per billing period. One key type — [`Meter`] —
//! names both a plan's limits and the usage counted against them, so a limit
//! can never be looked up under a name usage is not recorded under (the
//! seed's `transcripts` vs `transcript` bug). Usage inside the allowance is
//! free, the rest billable at the plan's usage price; an unlimited meter is
//! never billable. Money is integer micro-units (see [`crate::money`]).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::money::{div_round, MICROS_PER_MINOR};
use crate::plan::{Limit, Meter, Plan, PricingModel, UsageType};

/// At or above this percent of an allowance a limit warning is due.
pub const WARNING_PERCENT: f64 = 80.0;

/// How much of one usage record the allowance still covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Split {
    pub free: i64,
    pub billable: i64,
}

/// Splits `quantity` new units of a meter that had `used_before` units this
/// period. An unlimited meter is always free; a limit of 0 (meter not
/// included) makes every unit billable.
pub fn split(limit: Limit, used_before: i64, quantity: i64) -> Split {
    let quantity = quantity.max(0);
    match limit {
        Limit::Unlimited => Split {
            free: quantity,
            billable: 0,
        },
        Limit::Max(max) => {
            let max = i64::try_from(max).unwrap_or(i64::MAX);
            let left = max.saturating_sub(used_before.max(0)).max(0);
            let free = quantity.min(left);
            Split {
                free,
                billable: quantity - free,
            }
        }
    }
}

/// The overage cost in micro-units of `billable` of a record's `quantity`
/// units. Percentage prices apply to the billable share of the record's
/// amount (pro rata, rounded half away from zero, in minor units).
pub fn overage_micros(
    model: Option<&PricingModel>,
    billable: i64,
    quantity: i64,
    amount_minor: Option<i64>,
) -> i64 {
    if billable <= 0 {
        return 0;
    }
    let billable_amount_minor = match amount_minor {
        Some(amount) if quantity > 0 => div_round(
            i128::from(amount) * i128::from(billable),
            i128::from(quantity),
        ),
        _ => 0,
    };
    // amount_minor × MICROS_PER_MINOR × bp / 10_000
    let pct = |bp: i64| {
        div_round(
            billable_amount_minor * i128::from(MICROS_PER_MINOR) * i128::from(bp),
            10_000,
        )
    };
    let micros: i128 = match model {
        None => 0,
        Some(PricingModel::PerUnit { unit_micros }) => {
            i128::from(billable) * i128::from(*unit_micros)
        }
        Some(PricingModel::Percentage { basis_points }) => pct(*basis_points),
        Some(PricingModel::PercentagePlusFixed {
            basis_points,
            fixed_micros,
        }) => pct(*basis_points) + i128::from(billable) * i128::from(*fixed_micros),
    };
    i64::try_from(micros).unwrap_or(i64::MAX)
}

/// One usage record as metered at ingest: what invoices need later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metered {
    pub split: Split,
    pub cost_micros: i64,
}

/// Meters records of one period in order, starting from `used_before` per
/// meter (the period's total before these records). Returns each record's
/// split and cost, in input order.
pub fn meter_records(
    plan_limits: &BTreeMap<Meter, Limit>,
    prices: &BTreeMap<UsageType, PricingModel>,
    used_before: &BTreeMap<Meter, i64>,
    records: &[(UsageType, i64, Option<i64>)],
) -> Vec<Metered> {
    let mut used = used_before.clone();
    records
        .iter()
        .map(|&(usage_type, quantity, amount_minor)| {
            let meter = usage_type.meter();
            let limit = plan_limits.get(&meter).copied().unwrap_or(Limit::Unlimited);
            let so_far = used.entry(meter).or_insert(0);
            let split = split(limit, *so_far, quantity);
            *so_far = so_far.saturating_add(quantity.max(0));
            Metered {
                split,
                cost_micros: overage_micros(
                    prices.get(&usage_type),
                    split.billable,
                    quantity,
                    amount_minor,
                ),
            }
        })
        .collect()
}

/// Sums usage per type into the meters they draw on (both POS channels into
/// `pos_transactions`).
pub fn per_meter(totals: impl IntoIterator<Item = (UsageType, i64)>) -> BTreeMap<Meter, i64> {
    let mut out = BTreeMap::new();
    for (usage_type, quantity) in totals {
        *out.entry(usage_type.meter()).or_insert(0) += quantity;
    }
    out
}

/// One meter's state in a period, as the usage endpoint shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterStatus {
    pub meter: Meter,
    /// Every unit used this period, free and billable.
    pub used: i64,
    /// `null` when unlimited.
    pub limit: Option<u64>,
    /// Percent of the allowance used; `null` when there is no finite allowance.
    pub percent: Option<f64>,
    pub free: i64,
    pub billable: i64,
    /// At or above [`WARNING_PERCENT`] of a finite allowance.
    pub warning: bool,
    pub over_limit: bool,
}

/// The state of every meter of `plan` given the period's `used` units.
pub fn status(plan: &Plan, used: &BTreeMap<Meter, i64>) -> Vec<MeterStatus> {
    Meter::ALL
        .into_iter()
        .map(|meter| {
            let limit = plan.limit(meter);
            let n = used.get(&meter).copied().unwrap_or(0).max(0);
            let s = split(limit, 0, n);
            let percent = limit.percent_used(u64::try_from(n).unwrap_or(0));
            MeterStatus {
                meter,
                used: n,
                limit: limit.into(),
                percent,
                free: s.free,
                billable: s.billable,
                warning: percent.is_some_and(|p| p >= WARNING_PERCENT),
                over_limit: matches!(limit, Limit::Max(max) if u64::try_from(n).unwrap_or(0) > max),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
