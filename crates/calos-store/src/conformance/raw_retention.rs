//! Raw-telemetry maintenance (issue 11): storage is made ahead, dropping
//! whole old storage never loses an event at or after the cutoff, an event
//! at any time is accepted (even one no partition was made for), and an
//! event id is a duplicate whatever ts the retry carries.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use calos_core::telemetry::{EventType, TelemetryEvent};

use super::support::{create, days, hours, install, license, now, seed_plans};
use crate::Store;

const ONE: &str = "retain-install-01";

fn event(id: &str, ts: DateTime<Utc>) -> TelemetryEvent {
    TelemetryEvent {
        install_id: install(ONE),
        event_id: id.to_owned(),
        event_type: EventType::FeatureUsed,
        feature: Some("pos".to_owned()),
        user: Some("u-1".to_owned()),
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

pub async fn raw_maintenance_keeps_what_retention_keeps(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    create(
        &store,
        "One",
        "one@example.com",
        license(ONE, "pro", t - days(400)),
    )
    .await;
    let id = install(ONE);
    // A year and a half back (months with no storage made for them), three
    // months back, an hour back, and far ahead (beyond what is made ahead).
    let times = [
        ("ancient", t - days(540)),
        ("old", t - days(95)),
        ("recent", t - hours(1)),
        ("far-ahead", t + days(400)),
    ];
    let batch: Vec<TelemetryEvent> = times.iter().map(|(n, ts)| event(n, *ts)).collect();
    assert_eq!(store.insert_events(&batch).await.expect("insert"), 4);

    // The same ids again with other times: duplicates, nothing stored.
    let moved: Vec<TelemetryEvent> = times
        .iter()
        .map(|(n, ts)| event(n, *ts + Duration::minutes(7)))
        .collect();
    assert_eq!(
        store.insert_events(&moved).await.expect("retry"),
        0,
        "an event id seen before is a duplicate whatever its ts"
    );

    let cutoff = t - days(90);
    let report = store
        .maintain_raw_events(t, 2, cutoff)
        .await
        .expect("maintain");
    assert_eq!(
        store
            .maintain_raw_events(t, 2, cutoff)
            .await
            .expect("maintain again")
            .partitions_made,
        0,
        "a second pass makes nothing new"
    );
    assert!(report.events_dropped <= 2, "only events before the cutoff");
    let left = store
        .list_events(&id, t - days(600), t + days(600), 100)
        .await
        .expect("events");
    let ids: Vec<&str> = left.iter().map(|e| e.event_id.as_str()).collect();
    assert!(
        ids.contains(&"far-ahead") && ids.contains(&"recent"),
        "events at or after the cutoff survive maintenance: {ids:?}"
    );
    // The prune finishes what maintenance left of the old months.
    store.prune_raw_events(cutoff, 1_000).await.expect("prune");
    let left = store
        .list_events(&id, t - days(600), t + days(600), 100)
        .await
        .expect("events");
    let mut ids: Vec<&str> = left.iter().map(|e| e.event_id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["far-ahead", "recent"]);
    assert!(
        left.iter()
            .all(|e| times.iter().any(|(n, ts)| e.event_id == *n && e.ts == *ts)),
        "the first copy of each event is the one kept"
    );

    // After the prune an old id is forgotten with its event; a recent one is not.
    assert_eq!(
        store
            .insert_events(&[event("recent", t)])
            .await
            .expect("recent again"),
        0
    );
    // New events land whatever month they are in, before and after maintenance.
    assert_eq!(
        store
            .insert_events(&[event("next", t + days(45)), event("now", t)])
            .await
            .expect("after"),
        2
    );
}
