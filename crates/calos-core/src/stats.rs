//! Dashboard figures computed from the plan table and license facts, so the
//! revenue shown always agrees with the prices stored (the seed hard-coded
//! prices that disagreed with its own table and counted trials as revenue).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::customer::CustomerId;
use crate::license::{BillingPeriod, LicenseStatus};
use crate::money::div_round;
use crate::plan::{Plan, PlanSlug};

/// What the stats need to know about one license.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseFacts {
    pub customer_id: CustomerId,
    pub plan: PlanSlug,
    pub billing_period: BillingPeriod,
    pub status: LicenseStatus,
    pub started_as_trial: bool,
    pub converted: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub total_customers: u64,
    /// Licenses a deployment may use right now: active and trial.
    pub active_licenses: u64,
    pub paid_licenses: u64,
    pub trials: u64,
    pub suspended: u64,
    pub currency: String,
    /// Monthly recurring revenue in minor units; annual plans count 1/12 per month.
    pub monthly_recurring_revenue_minor: i64,
    pub annual_recurring_revenue_minor: i64,
    /// Percent of finished trials that became paid; `None` when no trial has finished.
    pub trial_conversion_rate: Option<f64>,
    pub customers_per_tier: BTreeMap<String, u64>,
}

/// Computes the dashboard figures.
///
/// * Revenue counts only `active` licenses: trials, suspended, expired and
///   revoked licenses are not billed.
/// * ARR = Σ monthly price × 12 + Σ annual price; MRR = ARR / 12, rounded half up.
/// * Trial conversion = converted ÷ (converted + trials that ended unconverted,
///   i.e. expired or revoked), over every license that started as a trial.
pub fn compute(total_customers: u64, licenses: &[LicenseFacts], plans: &[Plan]) -> Stats {
    let by_slug: BTreeMap<&PlanSlug, &Plan> = plans.iter().map(|p| (&p.slug, p)).collect();
    let mut arr: i128 = 0;
    let (mut active, mut paid, mut trials, mut suspended) = (0, 0, 0, 0);
    let (mut converted, mut lost) = (0u64, 0u64);
    let mut tier_customers: BTreeMap<String, BTreeSet<CustomerId>> = BTreeMap::new();

    for l in licenses {
        match l.status {
            LicenseStatus::Active => {
                active += 1;
                if let Some(plan) = by_slug.get(&l.plan) {
                    if plan.is_paid() {
                        paid += 1;
                    }
                    arr += i128::from(match l.billing_period {
                        BillingPeriod::Monthly => plan.price_monthly_minor * 12,
                        BillingPeriod::Annual => plan.price_annual_minor,
                    });
                }
            }
            LicenseStatus::Trial => {
                active += 1;
                trials += 1;
            }
            LicenseStatus::Suspended => suspended += 1,
            LicenseStatus::Revoked | LicenseStatus::Expired => {}
        }
        if l.started_as_trial {
            if l.converted {
                converted += 1;
            } else if matches!(l.status, LicenseStatus::Expired | LicenseStatus::Revoked) {
                lost += 1;
            }
        }
        if matches!(
            l.status,
            LicenseStatus::Active | LicenseStatus::Trial | LicenseStatus::Suspended
        ) {
            tier_customers
                .entry(l.plan.as_str().to_owned())
                .or_default()
                .insert(l.customer_id);
        }
    }

    let finished = converted + lost;
    let clamp = |v: i128| i64::try_from(v).unwrap_or(i64::MAX);
    Stats {
        total_customers,
        active_licenses: active,
        paid_licenses: paid,
        trials,
        suspended,
        currency: plans
            .first()
            .map_or_else(|| "USD".to_owned(), |p| p.currency.as_str().to_owned()),
        monthly_recurring_revenue_minor: clamp(div_round(arr, 12)),
        annual_recurring_revenue_minor: clamp(arr),
        trial_conversion_rate: (finished > 0)
            .then(|| (converted as f64 * 1000.0 / finished as f64).round() / 10.0),
        customers_per_tier: tier_customers
            .into_iter()
            .map(|(tier, set)| (tier, set.len() as u64))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::default_plans;

    fn fact(id: i64, plan: &str, period: BillingPeriod, status: LicenseStatus) -> LicenseFacts {
        LicenseFacts {
            customer_id: id,
            plan: PlanSlug::parse(plan).unwrap(),
            billing_period: period,
            status,
            started_as_trial: false,
            converted: false,
        }
    }

    #[test]
    fn revenue_uses_the_plan_table_and_annual_counts_a_twelfth() {
        let licenses = [
            fact(1, "pro", BillingPeriod::Monthly, LicenseStatus::Active),
            fact(2, "pro", BillingPeriod::Annual, LicenseStatus::Active),
            fact(
                3,
                "enterprise",
                BillingPeriod::Monthly,
                LicenseStatus::Active,
            ),
            fact(
                4,
                "enterprise",
                BillingPeriod::Annual,
                LicenseStatus::Active,
            ),
        ];
        let s = compute(4, &licenses, &default_plans());
        // 2900 + 31200/12 + 9900 + 106800/12 = 2900 + 2600 + 9900 + 8900
        assert_eq!(s.monthly_recurring_revenue_minor, 24_300);
        assert_eq!(
            s.annual_recurring_revenue_minor,
            2_900 * 12 + 31_200 + 9_900 * 12 + 106_800
        );
        assert_eq!(s.paid_licenses, 4);
    }

    #[test]
    fn trials_suspended_and_free_tiers_are_not_revenue() {
        let licenses = [
            fact(1, "pro", BillingPeriod::Monthly, LicenseStatus::Trial),
            fact(
                2,
                "enterprise",
                BillingPeriod::Monthly,
                LicenseStatus::Suspended,
            ),
            fact(
                3,
                "community",
                BillingPeriod::Monthly,
                LicenseStatus::Active,
            ),
            fact(4, "pro", BillingPeriod::Monthly, LicenseStatus::Revoked),
        ];
        let s = compute(4, &licenses, &default_plans());
        assert_eq!(s.monthly_recurring_revenue_minor, 0);
        assert_eq!(
            (s.active_licenses, s.trials, s.suspended, s.paid_licenses),
            (2, 1, 1, 0)
        );
    }

    #[test]
    fn conversion_is_none_without_finished_trials_and_100_when_all_converted() {
        let mut running = fact(1, "pro", BillingPeriod::Monthly, LicenseStatus::Trial);
        running.started_as_trial = true;
        assert_eq!(
            compute(1, &[running.clone()], &default_plans()).trial_conversion_rate,
            None
        );
        let mut won = fact(2, "pro", BillingPeriod::Monthly, LicenseStatus::Active);
        won.started_as_trial = true;
        won.converted = true;
        let s = compute(2, &[running, won.clone()], &default_plans());
        assert_eq!(
            s.trial_conversion_rate,
            Some(100.0),
            "the seed showed 0% here"
        );
        let mut lost = fact(3, "pro", BillingPeriod::Monthly, LicenseStatus::Expired);
        lost.started_as_trial = true;
        let mut lost2 = lost.clone();
        lost2.customer_id = 4;
        let s = compute(3, &[won, lost, lost2], &default_plans());
        assert_eq!(s.trial_conversion_rate, Some(33.3));
    }

    #[test]
    fn customers_per_tier_counts_distinct_live_customers() {
        let licenses = [
            fact(1, "pro", BillingPeriod::Monthly, LicenseStatus::Active),
            fact(1, "pro", BillingPeriod::Monthly, LicenseStatus::Active),
            fact(2, "pro", BillingPeriod::Monthly, LicenseStatus::Revoked),
            fact(3, "community", BillingPeriod::Monthly, LicenseStatus::Trial),
        ];
        let s = compute(3, &licenses, &default_plans());
        assert_eq!(s.customers_per_tier.get("pro"), Some(&1));
        assert_eq!(s.customers_per_tier.get("community"), Some(&1));
    }
}
