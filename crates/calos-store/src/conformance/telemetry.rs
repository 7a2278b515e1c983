//! Telemetry events and metered usage.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use calos_core::plan::UsageType;
use calos_core::telemetry::{EventType, TelemetryEvent, UsageRecord};

use super::support::{create, days, hours, install, license, now, seed_plans};
use crate::{EventCount, Store, UsageTotal};

fn event(
    install_id: &str,
    id: &str,
    event_type: EventType,
    feature: Option<&str>,
    ts: DateTime<Utc>,
) -> TelemetryEvent {
    TelemetryEvent {
        install_id: install(install_id),
        event_id: id.to_owned(),
        event_type,
        feature: feature.map(str::to_owned),
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

fn count(event_type: EventType, feature: Option<&str>, count: i64) -> EventCount {
    EventCount {
        event_type,
        feature: feature.map(str::to_owned),
        count,
    }
}

/// Events are deduplicated on (install, event id) within and across batches;
/// `event_counts` groups by (type, feature) since a time, most first.
pub async fn events_deduplicate_and_count(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    create(
        &store,
        "One",
        "one@example.com",
        license("events-install-01", "pro", t - days(60)),
    )
    .await;
    create(
        &store,
        "Two",
        "two@example.com",
        license("events-install-02", "pro", t - days(60)),
    )
    .await;
    let one = "events-install-01";
    let pos = |id: &str, ts| event(one, id, EventType::FeatureUsed, Some("pos"), ts);

    assert_eq!(store.insert_events(&[]).await.expect("empty batch"), 0);
    let batch = [
        pos("e1", t - hours(1)),
        pos("e2", t - hours(2)),
        pos("e1", t - hours(1)),
    ];
    assert_eq!(
        store.insert_events(&batch).await.expect("first batch"),
        2,
        "repeat within a batch"
    );
    let retry = [pos("e2", t - hours(2)), pos("e3", t - hours(3))];
    assert_eq!(
        store.insert_events(&retry).await.expect("retry"),
        1,
        "repeat across batches"
    );
    let same_id_other_install = event(
        "events-install-02",
        "e1",
        EventType::PageView,
        None,
        t - hours(1),
    );
    assert_eq!(
        store
            .insert_events(&[same_id_other_install])
            .await
            .expect("other"),
        1
    );

    let mut full = event(
        one,
        "full-1",
        EventType::Error,
        Some("crypto"),
        t - hours(4),
    );
    full.user = Some("u-5f2c".to_owned());
    full.session = Some("s-1".to_owned());
    full.user_agent = Some("Mozilla/5.0 <script>alert('x')</script>".to_owned());
    full.endpoint = Some("/api/charges?id=1' OR '1'='1".to_owned());
    full.duration_ms = Some(u32::MAX);
    full.status = Some(503);
    full.error = Some("Zoë's café: 株式会社 timeout".to_owned());
    full.props = json!({ "nested": { "k": [1, "two", null] }, "emoji": "🎉" })
        .as_object()
        .cloned()
        .expect("object");
    let more = [
        full,
        event(one, "pv-1", EventType::PageView, None, t - hours(5)),
        event(one, "pv-2", EventType::PageView, None, t - hours(6)),
        pos("old", t - days(40)),
    ];
    assert_eq!(store.insert_events(&more).await.expect("more"), 4);

    assert_eq!(
        store
            .event_counts(&install(one), t - days(1), 10)
            .await
            .expect("counts"),
        vec![
            count(EventType::FeatureUsed, Some("pos"), 3),
            count(EventType::PageView, None, 2),
            count(EventType::Error, Some("crypto"), 1),
        ]
    );
    assert_eq!(
        store
            .event_counts(&install(one), t - days(1), 1)
            .await
            .expect("counts"),
        vec![count(EventType::FeatureUsed, Some("pos"), 3)]
    );
    assert_eq!(
        store
            .event_counts(&install(one), t - days(50), 1)
            .await
            .expect("counts"),
        vec![count(EventType::FeatureUsed, Some("pos"), 4)],
        "since reaches the old event"
    );
    assert!(store
        .event_counts(&install("events-install-99"), t - days(1), 10)
        .await
        .expect("counts unknown")
        .is_empty());

    let stranger = event("events-install-99", "x1", EventType::PageView, None, t);
    assert!(
        store.insert_events(&[stranger]).await.is_err(),
        "events need an existing license"
    );
}

fn usage(
    install_id: &str,
    usage_type: UsageType,
    quantity: i64,
    amount: Option<i64>,
    at: DateTime<Utc>,
) -> UsageRecord {
    UsageRecord {
        install_id: install(install_id),
        usage_type,
        quantity,
        amount_minor: amount,
        at,
    }
}

/// `usage_totals` sums quantity and amount per type within `[from, to)`.
pub async fn usage_totals_sum_within_window(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    create(
        &store,
        "One",
        "one@example.com",
        license("usage-install-01", "pro", t - days(60)),
    )
    .await;
    create(
        &store,
        "Two",
        "two@example.com",
        license("usage-install-02", "pro", t - days(60)),
    )
    .await;
    let one = "usage-install-01";

    assert_eq!(store.insert_usage(&[]).await.expect("empty"), 0);
    let records = [
        usage(one, UsageType::ApiRequest, 10, None, t - hours(2)),
        usage(one, UsageType::ApiRequest, 5, None, t - hours(1)),
        usage(one, UsageType::PosInPerson, 1, Some(1_500), t - hours(1)),
        usage(one, UsageType::PosInPerson, 2, Some(2_500), t - hours(1)),
        usage(one, UsageType::Crypto, 1, None, t - hours(1)),
        usage(one, UsageType::ApiRequest, 100, None, t - days(1)),
        usage(one, UsageType::ApiRequest, 1_000, None, t),
        usage(
            "usage-install-02",
            UsageType::Transcript,
            3,
            None,
            t - hours(1),
        ),
    ];
    assert_eq!(store.insert_usage(&records).await.expect("insert"), 8);
    // Usage is not deduplicated: the same record twice is two uses.
    assert_eq!(
        store
            .insert_usage(&records[4..5])
            .await
            .expect("insert again"),
        1
    );

    let mut totals = store
        .usage_totals(&install(one), t - hours(2), t)
        .await
        .expect("totals");
    totals.sort_by_key(|u| u.usage_type);
    let total = |usage_type, quantity, amount_minor| UsageTotal {
        usage_type,
        quantity,
        amount_minor,
    };
    assert_eq!(
        totals,
        vec![
            total(UsageType::PosInPerson, 3, 4_000),
            total(UsageType::Crypto, 2, 0),
            total(UsageType::ApiRequest, 15, 0),
        ]
    );
    let mut wider = store
        .usage_totals(&install(one), t - days(2), t + hours(1))
        .await
        .expect("totals");
    wider.sort_by_key(|u| u.usage_type);
    assert_eq!(wider.last(), Some(&total(UsageType::ApiRequest, 1_115, 0)));
    assert!(store
        .usage_totals(&install(one), t + hours(1), t + hours(2))
        .await
        .expect("empty window")
        .is_empty());
    assert!(store
        .usage_totals(&install("usage-install-99"), t - days(2), t)
        .await
        .expect("unknown install")
        .is_empty());
}
