//! Health-score properties, the not-enough-data profile, churn signals and
//! the JSON interface outside tests rely on.

use chrono::{Datelike, Duration};

use super::examples::{harbor_vine, lagoon};
use super::synth::*;
use crate::culture::{analyze, ActiveUsers, CultureInput, SessionSample, HEALTH_WEIGHTS};
use crate::license::LicenseStatus;
use crate::rollup::RollupRow;

#[test]
fn weights_add_up_to_100() {
    assert_eq!(HEALTH_WEIGHTS.iter().map(|(_, w)| w).sum::<u32>(), 100);
    let p = lagoon().build().analyze();
    let names: Vec<&str> = p
        .health
        .components
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "recency",
            "frequency",
            "breadth",
            "depth",
            "errors",
            "trend",
            "license"
        ]
    );
}

/// Turns successes into errors, step by step, in the rows `pick` chooses;
/// the score must never rise and must end lower.
fn assert_errors_only_lower(base: Synth, pick: impl Fn(&RollupRow) -> bool) {
    let mut c = base.build();
    let first = c.analyze().health.score.unwrap();
    let mut last = first;
    for step in 0..12 {
        for (i, row) in c.rows.iter_mut().enumerate() {
            if (i + step) % 3 == 0 && pick(row) && row.counts.errors < row.counts.events {
                row.counts.errors += 1;
            }
        }
        let now = c.analyze().health.score.unwrap();
        assert!(now <= last, "step {step}: {now} > {last}");
        last = now;
    }
    assert!(last < first, "errors cost points: {first} → {last}");
}

#[test]
fn more_errors_never_raise_the_score() {
    let now = default_now();
    for base in [lagoon(), harbor_vine(), super::examples::brightpath()] {
        assert_errors_only_lower(base.clone(), |_| true);
        // Failures in the fortnight before must not flatter the trend.
        assert_errors_only_lower(base.clone(), |r| {
            r.key.hour >= now - Duration::days(28) && r.key.hour < now - Duration::days(14)
        });
        // Failures on one weekday must not shrink the working week.
        assert_errors_only_lower(base, |r| r.key.hour.weekday() == chrono::Weekday::Mon);
    }
}

#[test]
fn no_telemetry_gives_a_not_enough_data_profile() {
    let c = Synth {
        events_per_day: 0.0,
        days: &[],
        meters_used: vec![(crate::plan::Meter::ApiRequests, 9_600)],
        ..Synth::default()
    }
    .build();
    assert!(c.rows.is_empty());
    let p = c.analyze();
    assert!(!p.enough_data);
    assert_eq!(p.health.score, None);
    assert_eq!(p.health.label, "not enough data");
    assert!(p.health.components.iter().all(|c| c.score.is_none()));
    assert_eq!(p.team_size.estimate, None);
    assert!(
        p.unused_features.is_empty(),
        "nothing is called unused without data"
    );
    assert!(p.upsells.iter().all(|u| u.kind != "adoption"));
    assert!(p.features.is_empty());
    assert!((3..=8).contains(&p.insights.len()), "{:?}", p.insights);
    assert!(p.insights[0].starts_with("Not enough telemetry"));
    // Limits come from metering, not telemetry: still reported and sold.
    let api = p.limits.iter().find(|l| l.name == "api_requests").unwrap();
    assert_eq!(api.percent, Some(96.0));
    assert_eq!(p.upsells[0].kind, "tier_upgrade");
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["enoughData"], false);
    assert!(json["health"]["score"].is_null());
}

#[test]
fn a_handful_of_events_is_not_enough_data() {
    let mut c = lagoon().build();
    c.rows.truncate(5);
    let p = c.analyze();
    assert!(!p.enough_data);
    assert_eq!(p.health.score, None);
}

#[test]
fn empty_input_with_no_plans_or_meters_does_not_panic() {
    let c = lagoon().build();
    let none = Default::default();
    let input = CultureInput {
        plans: &[],
        hours: &[],
        features: &[],
        daily_users: &[],
        active_users: ActiveUsers::default(),
        sessions: SessionSample::default(),
        user_agents: &[],
        meters: &[],
        daily_usage: &[],
        timezone_offset_minutes: Some(100_000),
        ..c.input(&none)
    };
    let p = analyze(&input);
    assert!(!p.enough_data);
    assert_eq!(
        p.behavior.timezone_source, "default",
        "an impossible offset is ignored"
    );
}

#[test]
fn json_has_the_interface_outside_tests_rely_on() {
    let p = harbor_vine().build().analyze();
    let j = serde_json::to_value(&p).unwrap();
    for key in ["score", "label", "components"] {
        assert!(j["health"].get(key).is_some(), "health.{key}");
    }
    for key in ["estimate", "low", "high"] {
        assert!(j["teamSize"][key].is_i64(), "teamSize.{key}");
    }
    assert!(j["behavior"]["peakHours"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h.as_u64().unwrap() < 24));
    assert!(j["behavior"]["workingDays"].is_array());
    assert!(j["behavior"]["timezone"].is_string());
    let f = &j["features"][0];
    assert!(f["name"].is_string() && f["share"].is_f64() && f["trend"].is_string());
    assert_eq!(j["unusedFeatures"], serde_json::json!(["crypto"]));
    let l = &j["limits"][0];
    for key in ["name", "used", "limit", "percent"] {
        assert!(l.get(key).is_some(), "limits[].{key}");
    }
    let u = &j["upsells"][0];
    for key in ["kind", "priority", "message", "evidence"] {
        assert!(u.get(key).is_some(), "upsells[].{key}");
    }
    assert!(["high", "medium", "low"].contains(&u["priority"].as_str().unwrap()));
    assert!(j["insights"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i.is_string()));
    assert_eq!(j["enoughData"], true);
    let back: crate::culture::CultureProfile = serde_json::from_value(j).unwrap();
    assert_eq!(back, p);
}

#[test]
fn insights_are_three_to_eight_sentences() {
    for s in [lagoon(), harbor_vine(), super::examples::brightpath()] {
        let p = s.build().analyze();
        assert!((3..=8).contains(&p.insights.len()), "{:?}", p.insights);
        assert!(
            p.insights.iter().all(|i| i.ends_with('.')),
            "{:?}",
            p.insights
        );
    }
}

#[test]
fn falling_activity_is_a_churn_signal_and_lowers_the_score() {
    let steady = lagoon().build().analyze();
    let fading = Synth {
        growth: -0.9,
        ..lagoon()
    }
    .build()
    .analyze();
    assert!(
        fading
            .churn_risk
            .signals
            .iter()
            .any(|s| s.kind == "falling_activity"),
        "{:?}",
        fading.churn_risk
    );
    assert_ne!(fading.churn_risk.level, "low");
    assert!(fading.health.score < steady.health.score);
    assert_eq!(steady.churn_risk.level, "low");
}

#[test]
fn gone_quiet_is_high_churn_risk() {
    let mut c = lagoon().build();
    let cutoff = c.spec.now - Duration::days(20);
    c.rows.retain(|r| r.key.hour < cutoff);
    let p = c.analyze();
    assert!(p.churn_risk.signals.iter().any(|s| s.kind == "gone_quiet"));
    assert_eq!(p.churn_risk.level, "high");
    let recency = p
        .health
        .components
        .iter()
        .find(|c| c.name == "recency")
        .unwrap();
    assert!(recency.score.unwrap() < 50.0);
}

#[test]
fn rising_errors_are_a_churn_signal() {
    let mut c = lagoon().build();
    let week_ago = c.spec.now - Duration::days(7);
    for row in c.rows.iter_mut().filter(|r| r.key.hour >= week_ago) {
        row.counts.errors = (row.counts.events + 3) / 4;
    }
    let p = c.analyze();
    assert_eq!(p.reliability.trend, "rising");
    assert!(p
        .churn_risk
        .signals
        .iter()
        .any(|s| s.kind == "rising_errors"));
}

#[test]
fn trial_ending_with_low_use_is_a_churn_signal() {
    let mut c = Synth {
        status: LicenseStatus::Trial,
        history_days: 14,
        events_per_day: 30.0,
        days: &[1],
        ..Synth::default()
    }
    .build();
    c.license.trial_ends_at = Some(c.spec.now + Duration::days(3));
    let p = c.analyze();
    assert!(
        p.churn_risk
            .signals
            .iter()
            .any(|s| s.kind == "trial_ending_low_use"),
        "{:?}",
        p.churn_risk
    );
    let license = p
        .health
        .components
        .iter()
        .find(|c| c.name == "license")
        .unwrap();
    assert_eq!(license.score, Some(50.0));
}

#[test]
fn more_than_one_domain_without_multi_domain_is_a_high_enterprise_upsell() {
    let p = Synth {
        domains_seen: 2,
        ..lagoon()
    }
    .build()
    .analyze();
    let u = p.upsells.iter().find(|u| u.kind == "multi_domain").unwrap();
    assert_eq!(u.priority, crate::culture::Priority::High);
    assert_eq!(u.target_plan.as_deref(), Some("Enterprise"));
    let e = Synth {
        plan: "enterprise",
        domains_seen: 4,
        ..lagoon()
    }
    .build()
    .analyze();
    assert!(e.upsells.iter().all(|u| u.kind != "multi_domain"));
}

#[test]
fn heavy_free_use_alone_is_a_high_pro_upgrade() {
    let p = Synth {
        plan: "community",
        events_per_day: 320.0,
        days: EVERY_DAY,
        features: vec![
            ("dashboard", 1),
            ("pos", 1),
            ("locations", 1),
            ("transcripts", 1),
        ],
        ..Synth::default()
    }
    .build()
    .analyze();
    let u = &p.upsells[0];
    assert_eq!(
        (u.kind.as_str(), u.priority),
        ("tier_upgrade", crate::culture::Priority::High)
    );
    assert!(u.message.contains("events a day"), "{}", u.message);
    let quiet = Synth {
        plan: "community",
        events_per_day: 150.0,
        days: EVERY_DAY,
        ..Synth::default()
    }
    .build()
    .analyze();
    assert!(
        quiet.upsells.iter().all(|u| u.kind != "tier_upgrade"),
        "{:?}",
        quiet.upsells
    );
}
