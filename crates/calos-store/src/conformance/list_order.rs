//! The customer list's sort orders and usage figures.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use calos_core::license::LicenseStatus;
use calos_core::plan::UsageType;
use calos_core::telemetry::{EventType, TelemetryEvent, UsageRecord};

use super::list::{add, ids, query, Spec};
use super::support::{
    audit, days, hours, install, license, new_customer, new_license, now, seed_plans,
};
use crate::{CustomerRef, LicenseQuery, LicenseSort, Store};

fn event(install_id: &str, id: &str, ts: DateTime<Utc>) -> TelemetryEvent {
    TelemetryEvent {
        install_id: install(install_id),
        event_id: id.to_owned(),
        event_type: EventType::FeatureUsed,
        feature: Some("pos".to_owned()),
        user: None,
        session: None,
        ts,
        user_agent: None,
        endpoint: None,
        duration_ms: None,
        status: None,
        error: None,
        props: serde_json::Map::new(),
    }
}

/// (install, name, created days ago, last seen hours ago, plan, status, events in the last 30 days)
type SortRow = (
    &'static str,
    &'static str,
    i64,
    Option<i64>,
    &'static str,
    LicenseStatus,
    usize,
);

/// Every `LicenseSort`, with the tie-breaks and NULL placement the module docs name.
pub async fn list_licenses_every_sort_order(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let rows: [SortRow; 4] = [
        (
            "sort-aaaa-0001",
            "charlie",
            1,
            None,
            "enterprise",
            LicenseStatus::Active,
            1,
        ),
        (
            "sort-bbbb-0002",
            "Alpha",
            3,
            Some(2),
            "community",
            LicenseStatus::Expired,
            3,
        ),
        (
            "sort-cccc-0003",
            "bravo",
            2,
            Some(5),
            "pro",
            LicenseStatus::Trial,
            0,
        ),
        (
            "sort-dddd-0004",
            "Delta",
            4,
            None,
            "development",
            LicenseStatus::Suspended,
            2,
        ),
    ];
    for (i, (id, name, created_days_ago, seen_hours_ago, plan, status, events)) in
        rows.into_iter().enumerate()
    {
        let mail = format!("sort{i}@example.com");
        let created = add(
            &store,
            Spec {
                install: id,
                name,
                email: &mail,
                company: None,
                plan,
                status,
                created: t - days(created_days_ago),
                domains: &[],
            },
        )
        .await;
        if let Some(h) = seen_hours_ago {
            let mut seen = created.clone();
            seen.last_seen_at = Some(t - hours(h));
            store
                .update_license(&seen, &audit("license.seen", "license", id))
                .await
                .expect("update last seen");
        }
        let batch: Vec<_> = (0..events)
            .map(|n| event(id, &format!("ev-{n}"), t - hours(n as i64 + 1)))
            .collect();
        store.insert_events(&batch).await.expect("insert events");
        // Old events do not count towards "last 30 days".
        store
            .insert_events(&[event(id, "old", t - days(45))])
            .await
            .expect("insert old event");
    }
    let (a, b, c, d) = (
        "sort-aaaa-0001",
        "sort-bbbb-0002",
        "sort-cccc-0003",
        "sort-dddd-0004",
    );
    let cases = [
        (LicenseSort::CreatedDesc, [a, c, b, d]),
        (LicenseSort::CreatedAsc, [d, b, c, a]),
        (LicenseSort::NameAsc, [b, c, a, d]),
        (LicenseSort::NameDesc, [d, a, c, b]),
        (LicenseSort::LastSeenDesc, [b, c, a, d]),
        (LicenseSort::LastSeenAsc, [c, b, a, d]),
        (LicenseSort::TierAsc, [b, d, c, a]),
        (LicenseSort::StatusAsc, [c, a, d, b]),
        (LicenseSort::EventsDesc, [b, d, a, c]),
    ];
    for (sort, expected) in cases {
        let got = ids(&store, &LicenseQuery { sort, ..query(t) }).await;
        assert_eq!(got, expected, "{sort:?}");
    }
    assert_eq!(LicenseQuery::default().sort, LicenseSort::CreatedDesc);
}

fn usage(install_id: &str, usage_type: UsageType, quantity: i64, at: DateTime<Utc>) -> UsageRecord {
    UsageRecord {
        install_id: install(install_id),
        usage_type,
        quantity,
        amount_minor: None,
        at,
    }
}

/// API requests count only `api_request` usage inside the license's current
/// period `[start, end)`; events count `ts >= now - 30 days`.
pub async fn list_licenses_usage_windows(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let mut metered = license("usage-install-0001", "pro", t - days(40));
    metered.current_period_start = t - days(10);
    metered.current_period_end = t + days(20);
    let new = new_license(
        CustomerRef::New(new_customer("Metered", "m@example.com", None)),
        metered,
    );
    store
        .create_license(
            &new,
            &audit("license.create", "license", "usage-install-0001"),
        )
        .await
        .expect("create");
    let other = license("usage-install-0002", "pro", t - days(1));
    let new = new_license(
        CustomerRef::New(new_customer("Other", "o@example.com", None)),
        other,
    );
    store
        .create_license(
            &new,
            &audit("license.create", "license", "usage-install-0002"),
        )
        .await
        .expect("create");
    let quiet = license("usage-install-0003", "pro", t - days(2));
    let new = new_license(
        CustomerRef::New(new_customer("Quiet", "q@example.com", None)),
        quiet,
    );
    store
        .create_license(
            &new,
            &audit("license.create", "license", "usage-install-0003"),
        )
        .await
        .expect("create");

    let m = "usage-install-0001";
    store
        .insert_usage(&[
            usage(m, UsageType::ApiRequest, 5, t - days(1)),
            usage(m, UsageType::ApiRequest, 7, t - days(10)),
            usage(m, UsageType::ApiRequest, 100, t - days(10) - hours(1)),
            usage(m, UsageType::ApiRequest, 1_000, t + days(20)),
            usage(m, UsageType::Transcript, 50, t - days(1)),
            usage("usage-install-0002", UsageType::ApiRequest, 9, t - hours(1)),
        ])
        .await
        .expect("insert usage");
    store
        .insert_events(&[
            event(m, "e1", t - hours(1)),
            event(m, "e2", t - days(29)),
            event(m, "e3", t - days(30)),
            event(m, "e4", t - days(30) - hours(1)),
            event(m, "e5", t - days(31)),
            event("usage-install-0002", "e1", t - hours(1)),
        ])
        .await
        .expect("insert events");

    let page = store.list_licenses(&query(t)).await.expect("list");
    let figures: Vec<_> = page
        .items
        .iter()
        .map(|i| {
            (
                i.license.install_id.as_str(),
                i.api_requests_this_period,
                i.events_last_30_days,
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            ("usage-install-0002", 9, 1),
            ("usage-install-0003", 0, 0),
            ("usage-install-0001", 12, 3),
        ]
    );
}
