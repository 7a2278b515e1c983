//! Each flaw of the seed's analyzer, pinned by a test that it would fail.

use std::collections::{BTreeMap, BTreeSet};

use super::examples::lagoon;
use super::synth::*;
use crate::culture::techstack::analyze as tech;
use crate::culture::Priority;

/// Session length is per session, not the mean gap between any two events
/// of any users (which shrinks as more people work at once).
#[test]
fn session_length_is_measured_per_session_not_as_the_gap_between_anyones_events() {
    let c = Synth {
        team: 10,
        events_per_day: 300.0,
        session_len: (10, 10),
        gap_secs: (180, 180),
        ..Synth::default()
    }
    .build();
    let p = c.analyze();
    // 10 events 3 minutes apart: 27 minutes, give or take a session cut at closing time.
    let median = p.behavior.sessions.median_minutes.unwrap();
    assert!((26.0..=27.5).contains(&median), "{median}");
    // The seed's figure: mean of all gaps under 30 minutes, users mixed.
    let mut ts: Vec<_> = c.events.iter().map(|e| e.ts).collect();
    ts.sort();
    let gaps: Vec<f64> = ts
        .windows(2)
        .map(|w| (w[1] - w[0]).num_seconds() as f64 / 60.0)
        .filter(|g| *g < 30.0)
        .collect();
    let seed = gaps.iter().sum::<f64>() / gaps.len() as f64;
    assert!(seed < 5.0, "the seed would have said {seed:.1} minutes");
}

/// Hours and days are in the customer's zone, never the server's.
#[test]
fn hours_are_in_the_customers_time_zone() {
    for tz in [9, -5, 1] {
        let p = Synth {
            tz_hours: tz,
            ..Synth::default()
        }
        .build()
        .analyze();
        assert_eq!(
            p.behavior.peak_hours,
            (9..17).collect::<Vec<u32>>(),
            "UTC{tz:+}"
        );
        assert_eq!(
            p.behavior.working_days,
            ["Mon", "Tue", "Wed", "Thu", "Fri"],
            "UTC{tz:+}"
        );
        assert_eq!(p.behavior.timezone_offset_minutes, tz * 60);
    }
}

/// A team of ten that takes turns (never more than a couple at once) is
/// ten people, not 1.5 × the busiest five minutes.
#[test]
fn team_size_is_not_one_and_a_half_times_the_busiest_five_minutes() {
    let c = Synth {
        team: 10,
        events_per_day: 24.0,
        session_len: (3, 3),
        ..Synth::default()
    }
    .build();
    let p = c.analyze();
    let mut windows: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
    for e in &c.events {
        if let Some(u) = e.user.as_deref() {
            windows.entry(e.ts.timestamp() / 300).or_default().insert(u);
        }
    }
    let busiest = windows.values().map(BTreeSet::len).max().unwrap();
    let seed = (busiest as f64 * 1.5).ceil() as i64;
    assert!(seed <= 5, "the seed would have said {seed}");
    let estimate = p.team_size.estimate.unwrap();
    assert!((8..=12).contains(&estimate), "{estimate}");
}

/// A Chrome user agent carries "Safari" too; it is one Chrome browser.
#[test]
fn chrome_is_not_also_counted_as_safari() {
    let s = tech(&[(CHROME_MAC.to_owned(), 10)], 10, 0);
    assert_eq!(s.browsers.len(), 1, "{:?}", s.browsers);
    assert_eq!(
        (s.browsers[0].name.as_str(), s.browsers[0].events),
        ("Chrome", 10)
    );
    let s = tech(
        &[
            (CHROME_WIN.to_owned(), 3),
            (EDGE_WIN.to_owned(), 2),
            (SAFARI_MAC.to_owned(), 1),
            (CHROME_ANDROID.to_owned(), 4),
        ],
        10,
        0,
    );
    let names: Vec<(&str, i64)> = s
        .browsers
        .iter()
        .map(|b| (b.name.as_str(), b.events))
        .collect();
    assert_eq!(names, [("Chrome", 7), ("Edge", 2), ("Safari", 1)]);
    assert_eq!(
        s.browsers.iter().map(|b| b.events).sum::<i64>(),
        10,
        "one browser per agent"
    );
}

/// Feature names match exactly: "forum_post" is not POS.
#[test]
fn pos_is_not_matched_inside_forum_post() {
    let p = Synth {
        features: vec![("forum_post", 5), ("dashboard", 5)],
        ..lagoon()
    }
    .build()
    .analyze();
    assert!(
        p.unused_features.contains(&"pos".to_owned()),
        "{:?}",
        p.unused_features
    );
    let forum = p.features.iter().find(|f| f.name == "forum_post").unwrap();
    assert_eq!(forum.entitlement, None);
}

/// Only what telemetry can show counts as unused, so a Pro customer using
/// its plan fully has nothing unused and can score above 85.
#[test]
fn plan_features_in_use_are_not_reported_unused_and_pro_can_score_above_85() {
    let p = lagoon().build().analyze();
    assert!(p.unused_features.is_empty(), "{:?}", p.unused_features);
    assert!(p.health.score.unwrap() > 85);
    // Enterprise: SLA, priority support, air-gapped are never "unused".
    let e = Synth {
        plan: "enterprise",
        ..lagoon()
    }
    .build()
    .analyze();
    for flag in [
        "sla",
        "prioritySupport",
        "airGapped",
        "multiDomain",
        "seats",
        "domains",
    ] {
        assert!(!e.unused_features.iter().any(|f| f == flag), "{flag}");
    }
    assert!(e.unused_features.is_empty(), "{:?}", e.unused_features);
}

/// Events per day divide by the days measured, not by the customer's age.
#[test]
fn events_per_day_are_not_divided_by_the_whole_customer_age() {
    let old = Synth {
        created_days_ago: 400,
        history_days: 90,
        days: EVERY_DAY,
        hours: (0, 24),
        events_per_day: 250.0,
        ..Synth::default()
    }
    .build()
    .analyze();
    assert!(
        (220.0..=280.0).contains(&old.activity.events_per_day),
        "{}",
        old.activity.events_per_day
    );
    let new = Synth {
        created_days_ago: 5,
        history_days: 4,
        days: EVERY_DAY,
        hours: (0, 24),
        events_per_day: 100.0,
        ..Synth::default()
    }
    .build()
    .analyze();
    assert!(
        (80.0..=125.0).contains(&new.activity.events_per_day),
        "{}",
        new.activity.events_per_day
    );
}

/// Upsells come sorted, high priority first.
#[test]
fn upsells_are_sorted_by_priority() {
    let p = Synth {
        plan: "community",
        features: vec![("dashboard", 1)],
        meters_used: vec![
            (crate::plan::Meter::ApiRequests, 85),
            (crate::plan::Meter::Transcripts, 5),
        ],
        domains_seen: 3,
        ..Synth::default()
    }
    .build()
    .analyze();
    let priorities: Vec<Priority> = p.upsells.iter().map(|u| u.priority).collect();
    assert!(priorities.len() >= 4, "{:?}", p.upsells);
    assert!(
        priorities.windows(2).all(|w| w[0] >= w[1]),
        "{priorities:?}"
    );
    assert_eq!(priorities[0], Priority::High);
    assert_eq!(*priorities.last().unwrap(), Priority::Low);
}
