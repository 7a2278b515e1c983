//! The three customers behind the seed's example insights.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, FixedOffset, Timelike, Weekday};

use calos_core::license::LicenseStatus;
use calos_core::plan::{default_plans, Limit, Meter, UsageType};
use calos_core::telemetry::EventType;

use super::{find, nows};
use crate::demo::generate;
use crate::demo::profiles::{BRIGHTPATH_API_CALLS_THIS_PERIOD, LAGOS_UTC_OFFSET_HOURS};

#[test]
fn harbor_vine_uses_pos_heavily_and_never_crypto() {
    for now in nows() {
        let all = generate(now).unwrap();
        let c = find(&all, "harbor-vine");
        let l = c.current_license();
        assert_eq!(l.plan.as_str(), "pro");
        assert_eq!(l.status, LicenseStatus::Active);

        let pos = c
            .events
            .iter()
            .filter(|e| e.feature.as_deref() == Some("pos"))
            .count();
        assert!(pos >= 1_000, "{pos} pos events");
        let with_feature = c.events.iter().filter(|e| e.feature.is_some()).count();
        assert!(
            pos * 10 > with_feature * 6,
            "pos is most of the activity: {pos} of {with_feature}"
        );
        let pos_units: i64 = c
            .usage
            .iter()
            .filter(|u| matches!(u.usage_type, UsageType::PosInPerson | UsageType::PosOnline))
            .map(|u| u.quantity)
            .sum();
        assert!(pos_units >= 2_000, "{pos_units} POS transactions");

        assert!(!c
            .events
            .iter()
            .any(|e| e.feature.as_deref() == Some("crypto")));
        assert!(!c
            .events
            .iter()
            .any(|e| e.endpoint.as_deref().is_some_and(|p| p.contains("crypto"))));
        assert!(!c.usage.iter().any(|u| u.usage_type == UsageType::Crypto));
    }
}

#[test]
fn lagoon_is_eight_people_working_weekdays_nine_to_five_with_few_errors() {
    for now in nows() {
        let all = generate(now).unwrap();
        let c = find(&all, "lagoon");
        let users: BTreeSet<&str> = c.events.iter().filter_map(|e| e.user.as_deref()).collect();
        assert_eq!(users.len(), 8);
        assert!(
            c.events.iter().all(|e| e.user.is_some()),
            "every event has one of the 8 users"
        );

        let tz = FixedOffset::east_opt(LAGOS_UTC_OFFSET_HOURS * 3600).unwrap();
        for e in &c.events {
            let local = e.ts.with_timezone(&tz);
            assert!(
                !matches!(local.weekday(), Weekday::Sat | Weekday::Sun),
                "{local}"
            );
            assert!((9..17).contains(&local.hour()), "{local}");
        }

        let errors = c
            .events
            .iter()
            .filter(|e| e.event_type == EventType::Error || e.status.is_some_and(|s| s >= 400))
            .count();
        assert!(
            errors * 200 < c.events.len(),
            "{errors} errors of {}",
            c.events.len()
        );

        // Steady: every working day of the last 60 has activity.
        let days: BTreeSet<_> = c
            .events
            .iter()
            .map(|e| e.ts.with_timezone(&tz).date_naive())
            .collect();
        assert!(days.len() >= 40, "{} active days", days.len());
        assert!(c.events.first().unwrap().ts < now - Duration::days(55));
        let features: BTreeSet<&str> = c
            .events
            .iter()
            .filter_map(|e| e.feature.as_deref())
            .collect();
        assert!(features.len() >= 5, "{features:?}");
    }
}

#[test]
fn brightpath_is_at_95_percent_of_its_api_limit_with_200_events_a_day() {
    for now in nows() {
        let all = generate(now).unwrap();
        let c = find(&all, "brightpath");
        let l = c.current_license();
        assert_eq!(l.plan.as_str(), "community");
        assert_eq!(l.status, LicenseStatus::Active);
        let (from, to) = (l.current_period_start, l.current_period_end);
        assert!(from <= now && now < to);

        // Each api_call event meters one API request at ingest; there are
        // no separate API units that would count the calls twice.
        assert!(!c
            .usage
            .iter()
            .any(|u| u.usage_type == UsageType::ApiRequest));
        let calls = c
            .events
            .iter()
            .filter(|e| e.event_type == EventType::ApiCall && e.ts >= from && e.ts < to)
            .count();
        assert_eq!(calls, BRIGHTPATH_API_CALLS_THIS_PERIOD as usize);

        let community = default_plans()
            .into_iter()
            .find(|p| p.slug.as_str() == "community")
            .unwrap();
        assert_eq!(community.limit(Meter::ApiRequests), Limit::Max(100));
        let percent = community
            .limit(Meter::ApiRequests)
            .percent_used(95)
            .unwrap();
        assert!((percent - 95.0).abs() < f64::EPSILON);
        // Nothing else is at or over its limit, so the API limit is the one story.
        let transcripts: i64 = c
            .usage
            .iter()
            .filter(|u| u.usage_type == UsageType::Transcript && u.at >= from)
            .map(|u| u.quantity)
            .sum();
        assert!(transcripts < 4, "{transcripts} transcripts");

        let since = now - Duration::days(30);
        let recent = c.events.iter().filter(|e| e.ts >= since).count();
        let per_day = recent as f64 / 30.0;
        assert!(
            (195.0..=230.0).contains(&per_day),
            "{per_day:.1} events a day"
        );
        assert!(c.events.iter().all(|e| e.ts >= since));
    }
}
