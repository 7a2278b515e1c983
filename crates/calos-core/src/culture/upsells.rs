//! Upsell opportunities, sorted high priority first. The seed's rules, kept:
//! a limit at 80% or more (high from 95%, or when it is projected to run
//! out before the period ends); entitled features unused (low);
//! a free tier above 200 events a day (high); more than one domain without
//! multi-domain (high). Limit and heavy-use reasons that point to the same
//! plan become one upgrade proposal with all their numbers.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::features::{spoken, Adoption};
use super::math::round_to;
use super::profile::{LimitUse, Priority, Upsell};
use crate::plan::{Limit, Meter, Plan};

/// At or above this percent of a limit an upsell is raised.
pub const LIMIT_UPSELL_PERCENT: f64 = 80.0;
/// At or above this percent it is high priority.
pub const LIMIT_HIGH_PERCENT: f64 = 95.0;
/// A free tier above this many events a day is a strong upgrade candidate.
pub const HEAVY_FREE_EVENTS_PER_DAY: f64 = 200.0;

pub struct Facts<'a> {
    pub plan: &'a Plan,
    pub plans: &'a [Plan],
    pub limits: &'a [LimitUse],
    pub adoption: &'a Adoption,
    pub events_per_day: f64,
    pub domains_seen: u64,
    /// Telemetry-based rules (adoption, heavy use) need enough data.
    pub enough_data: bool,
}

struct Reason {
    priority: Priority,
    clause: String,
    evidence: Value,
}

pub fn find(f: &Facts<'_>) -> Vec<Upsell> {
    let mut upgrades: BTreeMap<String, Vec<Reason>> = BTreeMap::new();
    let mut out = Vec::new();

    for l in f.limits {
        let Some(percent) = l.percent.or((l.limit == 0).then_some(f64::INFINITY)) else {
            continue;
        };
        if percent < LIMIT_UPSELL_PERCENT {
            continue;
        }
        // Running out before the period ends is as urgent as 95% used.
        let priority = if percent >= LIMIT_HIGH_PERCENT || l.projected_date.is_some() {
            Priority::High
        } else {
            Priority::Medium
        };
        let meter = Meter::parse(&l.name).ok();
        let what = meter.map_or_else(|| l.name.replace('_', " "), spoken_meter);
        let evidence = json!({
            "meter": l.name, "used": l.used, "limit": l.limit,
            "percent": l.percent.map(|p| round_to(p, 2)), "projectedDate": l.projected_date,
        });
        let clause = match l.percent {
            Some(p) => format!(
                "{p:.0}% of the {what} allowance used ({} of {})",
                l.used, l.limit
            ),
            None => format!("{} {what} used, which the plan does not include", l.used),
        };
        match meter.and_then(|m| upgrade_for(f.plan, f.plans, |p| lifts(p.limit(m), l.limit))) {
            Some(target) => upgrades
                .entry(target.name.clone())
                .or_default()
                .push(Reason {
                    priority,
                    clause,
                    evidence,
                }),
            None => out.push(Upsell {
                kind: "limit_raise".to_owned(),
                priority,
                message: format!("Offer a higher {what} allowance: {clause}."),
                target_plan: None,
                evidence,
            }),
        }
    }

    let free_with_limits = !f.plan.is_paid()
        && f.plan
            .limits
            .values()
            .any(|l| matches!(l, Limit::Max(n) if *n > 0));
    if f.enough_data && free_with_limits && f.events_per_day > HEAVY_FREE_EVENTS_PER_DAY {
        if let Some(target) = upgrade_for(f.plan, f.plans, |_| true) {
            upgrades
                .entry(target.name.clone())
                .or_default()
                .push(Reason {
                    priority: Priority::High,
                    clause: format!(
                        "about {:.0} events a day on the free {} plan",
                        f.events_per_day, f.plan.name
                    ),
                    evidence: json!({ "eventsPerDay": f.events_per_day, "plan": f.plan.slug }),
                });
        }
    }

    for (target, reasons) in upgrades {
        let priority = reasons
            .iter()
            .map(|r| r.priority)
            .max()
            .unwrap_or(Priority::Medium);
        let clauses: Vec<&str> = reasons.iter().map(|r| r.clause.as_str()).collect();
        let lead = if priority == Priority::High {
            format!("Strong {target} upgrade candidate")
        } else {
            format!("Propose {target}")
        };
        out.push(Upsell {
            kind: "tier_upgrade".to_owned(),
            priority,
            message: format!("{lead}: {}.", clauses.join(" and ")),
            target_plan: Some(target),
            evidence: Value::Array(reasons.into_iter().map(|r| r.evidence).collect()),
        });
    }

    let has_multi = f.plan.features.get("multiDomain").copied().unwrap_or(false);
    if f.domains_seen > 1 && !has_multi {
        let target = upgrade_for(f.plan, f.plans, |p| {
            p.features.get("multiDomain").copied().unwrap_or(false)
        });
        let name = target.map_or("a multi-domain license".to_owned(), |p| p.name.clone());
        out.push(Upsell {
            kind: "multi_domain".to_owned(),
            priority: Priority::High,
            message: format!(
                "Running on {} domains without multi-domain licensing: propose {name}.",
                f.domains_seen
            ),
            target_plan: target.map(|p| p.name.clone()),
            evidence: json!({ "domainsSeen": f.domains_seen, "plan": f.plan.slug }),
        });
    }

    if f.enough_data {
        let top = f.adoption.features.first();
        for feature in &f.adoption.unused {
            let said = spoken(feature);
            let lead = match top {
                Some(t) if t.share >= 0.3 => format!(
                    "They use {} heavily ({:.0}% of activity) but have never touched {said}",
                    spoken(&t.name),
                    t.share * 100.0
                ),
                _ => format!(
                    "Their {} plan includes {said} but nobody has used it",
                    f.plan.name
                ),
            };
            out.push(Upsell {
                kind: "adoption".to_owned(),
                priority: Priority::Low,
                message: format!("{lead}: offer {said} integration training."),
                target_plan: None,
                evidence: json!({
                    "feature": feature, "daysWithoutUse": super::input::WINDOW_DAYS,
                    "topFeature": top.map(|t| &t.name), "topFeatureShare": top.map(|t| t.share),
                }),
            });
        }
    }

    out.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(kind_rank(&a.kind).cmp(&kind_rank(&b.kind)))
            .then(a.message.cmp(&b.message))
    });
    out
}

/// A meter's unit as a salesperson says it ("the API request allowance").
pub fn spoken_meter(meter: Meter) -> String {
    match meter {
        Meter::Transcripts => "transcript",
        Meter::PosTransactions => "POS transaction",
        Meter::CryptoCharges => "crypto charge",
        Meter::Locations => "location",
        Meter::ApiRequests => "API request",
        Meter::Seats => "seat",
        Meter::Domains => "domain",
    }
    .to_owned()
}

fn kind_rank(kind: &str) -> u8 {
    match kind {
        "tier_upgrade" => 0,
        "multi_domain" => 1,
        "limit_raise" => 2,
        _ => 3,
    }
}

/// Whether `offered` allows more than the current finite `limit`.
fn lifts(offered: Limit, limit: u64) -> bool {
    match offered {
        Limit::Unlimited => true,
        Limit::Max(n) => n > limit,
    }
}

/// The cheapest plan priced above the current one that `fits`.
fn upgrade_for<'p>(
    current: &Plan,
    plans: &'p [Plan],
    fits: impl Fn(&Plan) -> bool,
) -> Option<&'p Plan> {
    plans
        .iter()
        .filter(|p| p.slug != current.slug && p.price_monthly_minor > current.price_monthly_minor)
        .filter(|p| fits(p))
        .min_by_key(|p| p.price_monthly_minor)
}
