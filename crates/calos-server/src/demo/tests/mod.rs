//! The generated demo data: deterministic, consistent, and with the
//! properties the dashboard and the culture analyzer rely on.

mod insights;
mod load;

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Duration, TimeZone, Utc};

use calos_core::license::{BillingPeriod, LicenseStatus};
use calos_core::plan::UsageType;
use calos_core::telemetry::EventType;

use super::catalog::{IPHONE_SAFARI_17, MAC_CHROME_120, WINDOWS_FIREFOX_121};
use super::generate::{generate, user_hash, DemoCustomer};
use super::DEMO_INSTALL_ID;

/// A Wednesday, mid-morning UTC, with sub-second precision like a real clock.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 18, 10, 42, 7).unwrap() + Duration::microseconds(123_456)
}

fn customers() -> Vec<DemoCustomer> {
    generate(now()).unwrap()
}

/// Moments the demo may be loaded at: any weekday and hour, month ends,
/// leap days, either side of midnight UTC.
fn nows() -> Vec<DateTime<Utc>> {
    let at = |y, mo, d, h, mi| Utc.with_ymd_and_hms(y, mo, d, h, mi, 59).unwrap();
    vec![
        now(),
        at(2026, 3, 1, 0, 0),
        at(2028, 2, 29, 23, 58),
        at(2026, 12, 31, 12, 0),
        at(2027, 7, 4, 16, 30),
        at(2026, 8, 9, 7, 15),
        at(2027, 1, 31, 21, 5),
    ]
}

fn find<'a>(all: &'a [DemoCustomer], key: &str) -> &'a DemoCustomer {
    all.iter().find(|c| c.key == key).unwrap()
}

#[test]
fn the_same_now_gives_the_same_data() {
    let a = generate(now()).unwrap();
    let b = generate(now()).unwrap();
    assert_eq!(a, b);
    // A different "now" moves every time along with it.
    let later = generate(now() + Duration::days(3)).unwrap();
    assert_ne!(a, later);
}

#[test]
fn the_seed_demo_customer_is_exact() {
    for now in nows() {
        let all = generate(now).unwrap();
        let demo = all.last().unwrap();
        assert_eq!(demo.key, "demo");
        let l = demo.current_license();
        assert_eq!(l.install_id.as_str(), DEMO_INSTALL_ID);
        assert_eq!(l.plan.as_str(), "pro");
        assert_eq!(l.status, LicenseStatus::Active);
        assert_eq!(l.billing_period, BillingPeriod::Monthly);
        assert_eq!(l.trial_ends_at, None);
        assert_eq!(l.domains.len(), 1);
        assert_eq!(l.domains[0].as_str(), "demo.calos.sh");
        assert!(l.current_period_start <= now && now < l.current_period_end);
        // The seed's period ran from about 15 days ago to about 15 days ahead.
        // (Month lengths and end-of-month clamping move both ends by a few days.)
        assert!((10..=20).contains(&(now - l.current_period_start).num_days()));
        assert!((10..=20).contains(&(l.current_period_end - now).num_days()));
        assert_eq!(demo.customer.name.as_str(), "Demo Corp");
        assert_eq!(demo.customer.email.as_str(), "demo@calos.sh");

        let brand = demo.branding.as_ref().unwrap();
        assert_eq!(brand.product_name.as_str(), "Demo Corp");
        assert_eq!(brand.primary_color.as_str(), "#667eea");

        assert_eq!(demo.events.len(), 100);
        let since = now - Duration::days(30);
        assert!(demo.events.iter().all(|e| e.ts >= since && e.ts < now));
        let users: BTreeSet<&str> = demo
            .events
            .iter()
            .filter_map(|e| e.user.as_deref())
            .collect();
        let expected: BTreeSet<String> = (1..=6).map(|n| user_hash("demo", n)).collect();
        assert_eq!(users, expected.iter().map(String::as_str).collect());
        assert_eq!(user_hash("demo", 1).len(), 16);
        let agents: BTreeSet<&str> = demo
            .events
            .iter()
            .filter_map(|e| e.user_agent.as_deref())
            .collect();
        assert_eq!(
            agents,
            BTreeSet::from([MAC_CHROME_120, WINDOWS_FIREFOX_121, IPHONE_SAFARI_17])
        );
        assert!(demo
            .events
            .iter()
            .all(|e| e.duration_ms.is_some_and(|d| (100..=1100).contains(&d))));
        let features: BTreeSet<&str> = demo
            .events
            .iter()
            .filter_map(|e| e.feature.as_deref())
            .collect();
        assert_eq!(
            features,
            BTreeSet::from(["dashboard", "pos", "quickbooks", "reports", "transcripts"])
        );
        assert!(demo
            .events
            .iter()
            .all(|e| e.props.get("source") == Some(&"demo".into())));

        assert_eq!(demo.usage.len(), 50);
        assert!(demo.usage.iter().all(|u| u.at >= since && u.at < now));
        assert!(demo.usage.iter().all(|u| (1..=11).contains(&u.quantity)));
        let kinds: BTreeSet<UsageType> = demo.usage.iter().map(|u| u.usage_type).collect();
        assert_eq!(kinds.len(), 6, "all six usage types: {kinds:?}");
    }
}

#[test]
fn there_are_enough_customers_across_every_tier_status_and_period() {
    for now in nows() {
        let all = generate(now).unwrap();
        assert!(all.len() >= 12, "{} customers", all.len());
        let tiers: BTreeSet<&str> = all
            .iter()
            .map(|c| c.current_license().plan.as_str())
            .collect();
        for tier in [
            "development",
            "community",
            "pro",
            "enterprise",
            "self_hosted",
        ] {
            assert!(tiers.contains(tier), "no {tier} customer");
        }
        let statuses: BTreeSet<LicenseStatus> =
            all.iter().map(|c| c.current_license().status).collect();
        assert_eq!(statuses, LicenseStatus::ALL.into_iter().collect());
        let periods: BTreeSet<&str> = all
            .iter()
            .map(|c| c.current_license().billing_period.as_str())
            .collect();
        assert_eq!(periods, BTreeSet::from(["annual", "monthly"]));

        // Trial conversion is a real ratio: some trials converted, some were lost.
        let converted = all
            .iter()
            .filter(|c| c.current_license().converted_at.is_some())
            .count();
        let lost = all
            .iter()
            .filter(|c| {
                let l = c.current_license();
                l.is_unconverted_trial()
                    && matches!(l.status, LicenseStatus::Expired | LicenseStatus::Revoked)
            })
            .count();
        assert!(
            converted >= 2 && lost >= 2,
            "converted {converted}, lost {lost}"
        );

        let total: usize = all.iter().map(|c| c.events.len()).sum();
        assert!((10_000..=25_000).contains(&total), "{total} events");
    }
}

#[test]
fn ids_emails_and_domains_are_unique() {
    for now in nows() {
        let all = generate(now).unwrap();
        let ids: HashSet<&str> = all.iter().map(|c| c.license.install_id.as_str()).collect();
        let emails: HashSet<&str> = all.iter().map(|c| c.customer.email.as_str()).collect();
        let domains: Vec<&str> = all
            .iter()
            .flat_map(|c| c.license.domains.iter().map(|d| d.as_str()))
            .collect();
        assert_eq!(ids.len(), all.len());
        assert_eq!(emails.len(), all.len());
        assert_eq!(domains.iter().collect::<HashSet<_>>().len(), domains.len());
        for c in &all {
            let event_ids: HashSet<&str> = c.events.iter().map(|e| e.event_id.as_str()).collect();
            assert_eq!(event_ids.len(), c.events.len(), "{}", c.key);
            assert!(c
                .events
                .iter()
                .all(|e| e.install_id == c.license.install_id));
            assert!(c.usage.iter().all(|u| u.install_id == c.license.install_id));
        }
    }
}

/// Whether the license was usable at `ts` (its state then was trial or active).
fn usable_at(c: &DemoCustomer, ts: DateTime<Utc>) -> bool {
    let state = c
        .history
        .iter()
        .take_while(|s| s.at <= ts)
        .last()
        .map_or(&c.license, |s| &s.license);
    ts >= c.license.created_at && state.status.is_usable()
}

#[test]
fn every_license_is_consistent_with_its_history_and_its_activity() {
    for now in nows() {
        for c in generate(now).unwrap() {
            let l = c.current_license();
            let key = c.key;
            assert!(l.created_at < now, "{key}");
            match l.status {
                LicenseStatus::Active => {
                    assert!(
                        l.current_period_start <= now && now < l.current_period_end,
                        "{key}"
                    );
                    assert!(l.ends_at.is_none_or(|end| end > now), "{key}");
                    if l.trial_ends_at.is_some() {
                        assert!(
                            l.converted_at.is_some(),
                            "{key}: an active former trial converted"
                        );
                    }
                }
                LicenseStatus::Trial => {
                    assert!(l.trial_ends_at.unwrap() > now, "{key}");
                    assert_eq!(l.converted_at, None, "{key}");
                }
                LicenseStatus::Expired => {
                    let end = l.ends_at.or(l.trial_ends_at).unwrap();
                    assert!(end <= now, "{key}");
                }
                LicenseStatus::Suspended | LicenseStatus::Revoked => {
                    assert!(l.status_reason.is_some(), "{key}: says why");
                }
            }
            // History steps are in time order and every version of the license agrees on its identity.
            let mut at = c.license.created_at;
            for step in &c.history {
                assert!(step.at >= at && step.at <= now, "{key}: {}", step.action);
                assert_eq!(step.license.install_id, c.license.install_id);
                at = step.at;
            }
            // Use happens only while the license is usable, never in the future.
            assert!(
                c.events.iter().all(|e| usable_at(&c, e.ts) && e.ts < now),
                "{key}: events while not usable"
            );
            assert!(
                c.usage.iter().all(|u| usable_at(&c, u.at) && u.at < now),
                "{key}"
            );
            assert_eq!(l.last_seen_at, c.events.last().map(|e| e.ts), "{key}");
        }
    }
}

#[test]
fn histories_come_from_the_state_machine() {
    for now in nows() {
        let all = generate(now).unwrap();
        let actions =
            |key: &str| -> Vec<&str> { find(&all, key).history.iter().map(|s| s.action).collect() };
        assert_eq!(
            actions("ironbridge"),
            [
                "license.activate",
                "license.renew_period",
                "license.change_tier"
            ]
        );
        assert_eq!(
            actions("summit"),
            ["license.extend_trial", "license.expire"]
        );
        assert_eq!(actions("quill"), ["license.expire"]);
        assert!(actions("atlas").ends_with(&[
            "license.renew",
            "license.renew_period",
            "license.expire"
        ]));
        assert!(actions("vortex").ends_with(&["license.revoke"]));

        let atlas = find(&all, "atlas").current_license();
        assert_eq!(atlas.status_reason.as_deref(), Some("contract ended"));
        let quill = find(&all, "quill").current_license();
        assert_eq!(quill.status_reason.as_deref(), Some("trial ended"));
        let ironbridge = find(&all, "ironbridge").current_license();
        assert_eq!(ironbridge.plan.as_str(), "enterprise");
        assert_eq!(ironbridge.billing_period, BillingPeriod::Annual);
        assert!(ironbridge.converted_at.is_some());
    }
}

#[test]
fn events_look_like_real_telemetry() {
    for now in nows() {
        let all = generate(now).unwrap();
        let events = all.iter().flat_map(|c| c.events.iter());
        let mut kinds = BTreeSet::new();
        let mut agents = BTreeSet::new();
        for e in events {
            kinds.insert(e.event_type);
            if let Some(a) = &e.user_agent {
                agents.insert(a.as_str());
            }
            match e.event_type {
                EventType::Error => {
                    assert!(e.status.is_some_and(|s| s >= 400), "{e:?}");
                    assert!(e.error.is_some());
                }
                EventType::ApiCall => {
                    assert!(e
                        .endpoint
                        .as_deref()
                        .is_some_and(|p| p.starts_with("/api/")));
                    assert!(e.status.is_some_and(|s| s < 400));
                }
                _ => assert!(e.error.is_none()),
            }
            if e.session.is_some() {
                assert!(e.user.is_some(), "sessions belong to a user");
            }
        }
        for kind in [
            EventType::PageView,
            EventType::FeatureUsed,
            EventType::ApiCall,
            EventType::SessionStart,
            EventType::SessionEnd,
            EventType::Error,
        ] {
            assert!(kinds.contains(&kind), "no {kind:?} events");
        }
        for client in [
            "curl/8.5.0",
            "python-requests/2.31.0",
            "calos-client-rust/0.1.0",
        ] {
            assert!(agents.contains(client), "no {client} calls");
        }
        // Sessions hold several events each.
        let lagoon = find(&all, "lagoon");
        let sessions: HashSet<&str> = lagoon
            .events
            .iter()
            .filter_map(|e| e.session.as_deref())
            .collect();
        assert!(
            lagoon.events.len() >= 3 * sessions.len(),
            "{} events in {} sessions",
            lagoon.events.len(),
            sessions.len()
        );
    }
}
