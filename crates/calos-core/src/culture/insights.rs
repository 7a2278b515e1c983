//! Three to eight plain sentences an account manager can read before a call.

use super::features::spoken;
use super::profile::{CultureProfile, Priority};

pub const MIN_INSIGHTS: usize = 3;
pub const MAX_INSIGHTS: usize = 8;

pub fn write(p: &CultureProfile, plan_name: &str) -> Vec<String> {
    let mut out = Vec::new();
    match p.health.score {
        Some(score) => out.push(format!("Health is {} ({score}/100).", p.health.label)),
        None => out.push(format!(
            "Not enough telemetry to judge this customer yet: {} events in the last 90 days.",
            p.activity.events
        )),
    }
    if let Some(u) = p.upsells.first().filter(|u| u.priority >= Priority::Medium) {
        out.push(u.message.clone());
    }
    for s in &p.churn_risk.signals {
        out.push(s.message.clone());
    }
    if p.enough_data {
        let b = &p.behavior;
        if let Some(hours) = &b.working_hours {
            out.push(format!(
                "Peak usage {} {hours} ({}).",
                days_phrase(&b.working_days),
                b.timezone
            ));
        }
        if let (Some(e), Some(lo), Some(hi)) =
            (p.team_size.estimate, p.team_size.low, p.team_size.high)
        {
            let range = if lo == hi {
                String::new()
            } else {
                format!(" (between {lo} and {hi})")
            };
            let people = if e == 1 { "person uses" } else { "people use" };
            out.push(format!("About {e} {people} it{range}."));
        }
        if let Some(top) = p.features.first() {
            let top_said = spoken(&top.name);
            let pct = top.share * 100.0;
            match p.unused_features.first() {
                Some(unused) if top.share >= 0.3 => out.push(format!(
                    "Uses {top_said} heavily ({pct:.0}% of activity) but never {}.",
                    spoken(unused)
                )),
                _ => out.push(format!(
                    "Most used feature: {top_said} ({pct:.0}% of activity)."
                )),
            }
        }
        let r = &p.reliability;
        let rate = r.error_rate * 100.0;
        if r.error_rate < 0.01 {
            out.push(format!("Errors are low: {rate:.1}% of events."));
        } else {
            let worst = r
                .by_feature
                .first()
                .map(|f| {
                    format!(
                        ", worst in {} ({:.0}%)",
                        spoken(&f.name),
                        f.error_rate * 100.0
                    )
                })
                .unwrap_or_default();
            out.push(format!("Errors are at {rate:.1}% of events{worst}."));
        }
        if let (Some(median), Some(p90)) = (b.sessions.median_minutes, b.sessions.p90_minutes) {
            out.push(format!(
                "A typical session lasts {median:.0} minutes; 90% end within {p90:.0}."
            ));
        }
    }
    for l in &p.limits {
        if let Some(date) = l.projected_date {
            out.push(format!(
                "At the current pace the {} allowance runs out on {date}.",
                crate::plan::Meter::parse(&l.name)
                    .map_or_else(|_| l.name.replace('_', " "), super::upsells::spoken_meter)
            ));
        }
    }
    if out.len() < MIN_INSIGHTS {
        out.push(format!(
            "The license is {} on the {plan_name} plan.",
            p.license_status
        ));
    }
    if out.len() < MIN_INSIGHTS {
        out.push(if p.enough_data {
            "No upsell or churn signal stands out.".to_owned()
        } else {
            "Check that the deployment is running and sending telemetry.".to_owned()
        });
    }
    out.truncate(MAX_INSIGHTS);
    out
}

/// `"Mon–Fri"`, `"every day"`, `"Sat, Sun"`.
fn days_phrase(days: &[String]) -> String {
    let all = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    if days.len() == 7 {
        return "every day".to_owned();
    }
    let idx: Vec<usize> = days
        .iter()
        .filter_map(|d| all.iter().position(|a| a == d))
        .collect();
    let contiguous = idx.windows(2).all(|w| w[1] == w[0] + 1);
    match (idx.first(), idx.last()) {
        (Some(&a), Some(&b)) if contiguous && b >= a + 2 => format!("{}–{}", all[a], all[b]),
        _ => days.join(", "),
    }
}
