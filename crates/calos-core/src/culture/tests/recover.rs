//! The analyzer recovers what the synthetic generator put in.

use super::examples::lagoon;
use super::synth::*;
use crate::culture::Priority;
use crate::plan::Meter;

#[test]
fn team_size_is_recovered_within_20_percent() {
    for team in [3usize, 8, 15, 25] {
        let p = Synth {
            team,
            events_per_day: 10.0 * team as f64,
            seed: team as u64,
            ..Synth::default()
        }
        .build()
        .analyze();
        let t = &p.team_size;
        let estimate = t.estimate.unwrap() as f64;
        let err = (estimate - team as f64).abs() / team as f64;
        assert!(err <= 0.2, "team {team}: {t:?}");
        assert!(
            t.low.unwrap() <= t.estimate.unwrap() && t.estimate <= t.high,
            "{t:?}"
        );
    }
}

#[test]
fn peak_hours_and_days_of_a_utc_plus_one_office() {
    let p = Synth {
        tz_hours: 1,
        ..Synth::default()
    }
    .build()
    .analyze();
    let b = &p.behavior;
    assert_eq!(b.timezone, "UTC+01:00");
    assert_eq!(b.timezone_source, "customer");
    assert_eq!(b.peak_hours, (9..17).collect::<Vec<u32>>());
    assert_eq!(b.working_hours.as_deref(), Some("09:00–17:00"));
    assert_eq!(b.working_days, ["Mon", "Tue", "Wed", "Thu", "Fri"]);
    assert_eq!(b.weekend_share, 0.0);
    assert_eq!(b.hourly.len(), 24);
    assert_eq!(b.weekdays.len(), 7);
    assert!(
        b.hourly[..9].iter().chain(&b.hourly[17..]).all(|n| *n == 0),
        "{:?}",
        b.hourly
    );
}

#[test]
fn time_zone_is_inferred_from_the_daily_rhythm_when_not_set() {
    for tz in [1, -5, 9] {
        let p = Synth {
            tz_hours: tz,
            tz_set: false,
            ..Synth::default()
        }
        .build()
        .analyze();
        assert_eq!(p.behavior.timezone_source, "inferred");
        assert_eq!(p.behavior.timezone_offset_minutes, tz * 60, "UTC{tz:+}");
        assert_eq!(p.behavior.peak_hours, (9..17).collect::<Vec<u32>>());
    }
}

#[test]
fn round_the_clock_scripts_give_no_rhythm_and_fall_back_to_utc() {
    let p = Synth {
        tz_set: false,
        events_per_day: 0.0,
        days: &[],
        script_per_day: 100.0,
        ..Synth::default()
    }
    .build()
    .analyze();
    assert_eq!(p.behavior.timezone_source, "default");
    assert_eq!(p.behavior.timezone, "UTC");
    assert_eq!(p.team_size.estimate, None, "no user ids, no team");
}

#[test]
fn unused_feature_is_detected() {
    let mut s = lagoon();
    s.features.retain(|(f, _)| *f != "crypto");
    let p = s.build().analyze();
    assert_eq!(p.unused_features, ["crypto"]);
    let with = lagoon().build().analyze();
    assert!(with.health.score > p.health.score, "breadth counts");
}

#[test]
fn rarely_used_feature_is_listed_but_not_unused() {
    let mut s = lagoon();
    s.features.push(("dashboard", 400));
    let p = s.build().analyze();
    assert!(
        p.rarely_used_features.contains(&"crypto".to_owned()),
        "{:?}",
        p.rarely_used_features
    );
    assert!(!p.unused_features.contains(&"crypto".to_owned()));
}

#[test]
fn limit_percent_is_exact() {
    let p = Synth {
        meters_used: vec![(Meter::ApiRequests, 8_123), (Meter::Locations, 2)],
        ..lagoon()
    }
    .build()
    .analyze();
    let api = p.limits.iter().find(|l| l.name == "api_requests").unwrap();
    assert_eq!(
        (api.used, api.limit, api.percent),
        (8_123, 10_000, Some(81.23))
    );
    let loc = p.limits.iter().find(|l| l.name == "locations").unwrap();
    assert_eq!(loc.percent, Some(40.0));
    assert!(
        p.limits.iter().all(|l| l.name != "transcripts"),
        "unlimited meters have no percent"
    );
}

fn limit_upsells(used: i64, daily: i64) -> Vec<crate::culture::Upsell> {
    Synth {
        plan: "community",
        features: vec![
            ("dashboard", 1),
            ("pos", 1),
            ("locations", 1),
            ("transcripts", 1),
        ],
        meters_used: vec![(Meter::ApiRequests, used)],
        daily_usage: vec![(Meter::ApiRequests, daily)],
        ..Synth::default()
    }
    .build()
    .analyze()
    .upsells
    .into_iter()
    .filter(|u| u.evidence.to_string().contains("api_requests"))
    .collect()
}

#[test]
fn limit_upsell_is_raised_exactly_from_80_percent() {
    assert!(limit_upsells(79, 0).is_empty(), "79% raises nothing");
    let at80 = limit_upsells(80, 0);
    assert_eq!(at80.len(), 1);
    assert_eq!(at80[0].priority, Priority::Medium);
    assert_eq!(at80[0].kind, "tier_upgrade");
    assert_eq!(at80[0].target_plan.as_deref(), Some("Pro"));
    assert_eq!(limit_upsells(94, 0)[0].priority, Priority::Medium);
    assert_eq!(limit_upsells(95, 0)[0].priority, Priority::High);
    assert_eq!(
        limit_upsells(130, 0)[0].priority,
        Priority::High,
        "over the limit"
    );
}

#[test]
fn limit_running_out_before_the_period_ends_is_high_priority_from_80_percent() {
    let up = limit_upsells(80, 5);
    assert_eq!(up[0].priority, Priority::High, "{up:?}");
    assert!(limit_upsells(79, 5).is_empty());
}

#[test]
fn projected_date_follows_the_daily_rate() {
    let p = Synth {
        plan: "community",
        meters_used: vec![(Meter::ApiRequests, 40)],
        daily_usage: vec![(Meter::ApiRequests, 10)],
        ..Synth::default()
    }
    .build()
    .analyze();
    let api = p.limits.iter().find(|l| l.name == "api_requests").unwrap();
    assert_eq!(api.daily_rate, Some(10.0));
    // 60 left at 10 a day: 6 days from the analysis date.
    let today = default_now().date_naive();
    assert_eq!(api.projected_date, Some(today + chrono::Duration::days(6)));
    assert!(p.insights.iter().any(|i| i.contains("runs out on")));
}

#[test]
fn error_rate_is_recovered_overall_and_per_feature() {
    let p = Synth {
        error_rate: 0.05,
        events_per_day: 200.0,
        ..Synth::default()
    }
    .build()
    .analyze();
    let r = &p.reliability;
    assert!((0.04..=0.06).contains(&r.error_rate), "{}", r.error_rate);
    assert_eq!(r.by_feature.len(), 2);
    assert_eq!(r.trend, "steady");
}
