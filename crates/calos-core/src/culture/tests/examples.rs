//! The seed's three example insights, built as synthetic twins of the demo
//! customers (crates/calos-server/src/demo/profiles/insight.rs).

use super::synth::*;
use crate::culture::Priority;
use crate::plan::Meter;

/// Lagoon Architects: 8 people, Mon–Fri 09:00–17:00 in Lagos (UTC+1), almost
/// no errors, steady use, every Pro feature in play.
pub fn lagoon() -> Synth {
    Synth {
        plan: "pro",
        tz_hours: 1,
        hours: (9, 17),
        days: MON_FRI,
        events_per_day: 80.0,
        growth: 0.05,
        team: 8,
        session_len: (4, 14),
        features: vec![
            ("transcripts", 22),
            ("reports", 18),
            ("dashboard", 14),
            ("quickbooks", 10),
            ("pos", 6),
            ("locations", 4),
            ("crypto", 3),
            ("settings", 2),
        ],
        error_rate: 0.002,
        mix: (3, 5, 2),
        branding: true,
        meters_used: vec![(Meter::Transcripts, 120), (Meter::ApiRequests, 900)],
        ..Synth::default()
    }
}

/// Harbor & Vine: Pro, POS most of the day, never crypto.
pub fn harbor_vine() -> Synth {
    Synth {
        plan: "pro",
        tz_hours: -5,
        hours: (10, 23),
        days: EVERY_DAY,
        events_per_day: 45.0,
        growth: 0.15,
        team: 12,
        session_len: (2, 8),
        features: vec![
            ("pos", 70),
            ("inventory", 8),
            ("dashboard", 8),
            ("reports", 6),
            ("quickbooks", 4),
            ("locations", 2),
        ],
        error_rate: 0.01,
        mix: (2, 6, 1),
        agents: vec![SAFARI_IPAD, SAFARI_IPAD, CHROME_WIN, SAFARI_IPHONE],
        script_per_day: 1.5,
        branding: true,
        meters_used: vec![(Meter::PosTransactions, 900), (Meter::Transcripts, 4)],
        ..Synth::default()
    }
}

/// Brightpath Tutoring: Community, 95 of 100 API requests this period, about
/// 200 events a day.
pub fn brightpath() -> Synth {
    Synth {
        plan: "community",
        tz_hours: -6,
        hours: (7, 23),
        days: EVERY_DAY,
        history_days: 30,
        created_days_ago: 50,
        events_per_day: 205.0,
        growth: 0.1,
        team: 14,
        session_len: (3, 12),
        features: vec![
            ("scheduling", 30),
            ("students", 25),
            ("dashboard", 20),
            ("messaging", 15),
            ("reports", 8),
            ("transcripts", 2),
        ],
        error_rate: 0.012,
        mix: (5, 4, 0),
        agents: vec![
            CHROME_WIN,
            CHROME_MAC,
            CHROME_ANDROID,
            SAFARI_IPHONE,
            SAFARI_IPAD,
        ],
        script_per_day: 3.2,
        script_agent: PYTHON_REQUESTS,
        meters_used: vec![(Meter::ApiRequests, 95), (Meter::Transcripts, 2)],
        daily_usage: vec![(Meter::ApiRequests, 3)],
        ..Synth::default()
    }
}

#[test]
fn pos_heavy_never_crypto_gets_crypto_integration_training() {
    let p = harbor_vine().build().analyze();
    assert!(p.enough_data);
    assert_eq!(p.unused_features, ["crypto"]);
    assert_eq!(p.features[0].name, "pos");
    assert!(p.features[0].share > 0.6, "{}", p.features[0].share);
    let adoption: Vec<_> = p.upsells.iter().filter(|u| u.kind == "adoption").collect();
    assert_eq!(adoption.len(), 1, "{:?}", p.upsells);
    assert_eq!(adoption[0].priority, Priority::Low);
    assert!(
        adoption[0].message.contains("crypto integration training"),
        "{}",
        adoption[0].message
    );
    assert_eq!(adoption[0].evidence["feature"], "crypto");
    assert!(p
        .insights
        .iter()
        .any(|i| i.contains("POS heavily") && i.contains("crypto")));
}

#[test]
fn weekday_office_team_of_eight_with_few_errors_is_excellent_about_92() {
    let p = lagoon().build().analyze();
    let score = p.health.score.unwrap();
    assert!((88..=96).contains(&score), "score {score}: {:#?}", p.health);
    assert_eq!(p.health.label, "excellent");
    assert_eq!(p.behavior.peak_hours, (9..17).collect::<Vec<u32>>());
    assert_eq!(p.behavior.working_days, ["Mon", "Tue", "Wed", "Thu", "Fri"]);
    assert_eq!(p.team_size.estimate, Some(8));
    assert!(p.reliability.error_rate < 0.005);
    assert!(p.unused_features.is_empty(), "{:?}", p.unused_features);
    assert!(
        p.insights.iter().any(|i| i.contains("Mon–Fri 09:00–17:00")),
        "{:?}",
        p.insights
    );
    assert!(p.insights.iter().any(|i| i.contains("About 8 people")));
}

#[test]
fn free_tier_at_95_percent_of_api_limit_with_200_events_a_day_is_a_strong_pro_upgrade() {
    let p = brightpath().build().analyze();
    let api = p.limits.iter().find(|l| l.name == "api_requests").unwrap();
    assert_eq!((api.used, api.limit, api.percent), (95, 100, Some(95.0)));
    assert!(
        p.activity.events_per_day > 200.0,
        "{}",
        p.activity.events_per_day
    );
    let top = &p.upsells[0];
    assert_eq!(top.kind, "tier_upgrade");
    assert_eq!(top.priority, Priority::High);
    assert_eq!(top.target_plan.as_deref(), Some("Pro"));
    assert!(
        top.message.starts_with("Strong Pro upgrade"),
        "{}",
        top.message
    );
    assert!(top.message.contains("95%"), "{}", top.message);
    let json = serde_json::to_value(top).unwrap();
    assert_eq!(json["priority"], "high");
    assert_eq!(
        p.upsells
            .iter()
            .filter(|u| u.kind == "tier_upgrade")
            .count(),
        1,
        "limit and heavy-use reasons merge into one proposal"
    );
}

#[test]
fn python_script_and_sdk_show_in_the_tech_stack() {
    let p = brightpath().build().analyze();
    assert_eq!(p.tech_stack.api_clients[0].name, "python-requests");
    assert_eq!(p.tech_stack.sdk_languages[0].name, "Python");
    let h = harbor_vine().build().analyze();
    assert_eq!(h.tech_stack.sdk_languages[0].name, "Rust");
    assert_eq!(h.tech_stack.browsers[0].name, "Safari", "iPads run Safari");
}
