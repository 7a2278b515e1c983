//! Telemetry ingest: rollups equal a recomputation from raw events (with
//! duplicates and concurrent batches), usage is metered once per event in
//! its period, and retention prunes raw events but keeps rollups.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use calos_core::plan::{default_plans, Limit, Meter, UsageType};
use calos_core::rollup;
use calos_core::telemetry::{EventType, TelemetryEvent, UsageRecord};

use super::support::{create, days, hours, install, license, now, seed_plans};
use crate::{IngestBatch, IngestEvent, MeteringTerms, PeriodUsage, Store};

const ONE: &str = "ingest-install-01";

fn terms(t: DateTime<Utc>) -> MeteringTerms {
    let community = default_plans()
        .into_iter()
        .find(|p| p.slug.as_str() == "community")
        .expect("community plan");
    MeteringTerms {
        period_start: t - days(10),
        period_end: t + days(20),
        limits: community.limits,
        prices: community.usage_prices,
        closed_before: Some(t - days(10)),
    }
}

fn event(n: u32, ts: DateTime<Utc>) -> TelemetryEvent {
    let kinds = [
        EventType::PageView,
        EventType::FeatureUsed,
        EventType::ApiCall,
        EventType::Error,
    ];
    let features = [None, Some("pos"), Some("reports")];
    TelemetryEvent {
        install_id: install(ONE),
        event_id: format!("ev-{n}"),
        event_type: kinds[n as usize % kinds.len()],
        feature: features[n as usize % features.len()].map(str::to_owned),
        user: (!n.is_multiple_of(5)).then(|| format!("user-{}", n % 7)),
        session: (!n.is_multiple_of(3)).then(|| format!("session-{}", n % 11)),
        ts,
        user_agent: Some("Mozilla/5.0".to_owned()),
        endpoint: Some("/api/x".to_owned()),
        duration_ms: (!n.is_multiple_of(4)).then_some(n * 10),
        status: Some(if n.is_multiple_of(9) { 500 } else { 200 }),
        error: None,
        props: serde_json::Map::new(),
    }
}

fn plain(events: impl IntoIterator<Item = TelemetryEvent>, t: DateTime<Utc>) -> IngestBatch {
    IngestBatch {
        install_id: install(ONE),
        events: events
            .into_iter()
            .map(|event| IngestEvent { event, usage: None })
            .collect(),
        terms: terms(t),
    }
}

/// Events `from..to`, spread over a few hours before `t`.
fn span(from: u32, to: u32, t: DateTime<Utc>) -> Vec<TelemetryEvent> {
    (from..to)
        .map(|n| event(n, t - Duration::minutes(i64::from(n % 240))))
        .collect()
}

async fn assert_rollups_match_raw(store: &Arc<dyn Store>, t: DateTime<Utc>) {
    let id = install(ONE);
    let (from, to) = (t - days(3), t + days(1));
    let raw = store
        .list_events(&id, from, to, 100_000)
        .await
        .expect("list events");
    let (expected, daily) = rollup::fold(&raw);
    let stored = store.rollups(&id, from, to).await.expect("rollups");
    assert_eq!(
        stored, expected,
        "rollups equal a recomputation from raw events"
    );
    let day = |d: DateTime<Utc>| d.date_naive();
    let users = store
        .daily_users(&id, day(from), day(to) + days(1))
        .await
        .expect("daily users");
    let got: BTreeMap<NaiveDate, i64> = users.iter().map(|d| (d.day, d.users)).collect();
    let want: BTreeMap<NaiveDate, i64> = daily.into_iter().map(|((_, d), n)| (d, n)).collect();
    assert_eq!(got, want, "daily distinct users");
    let distinct: std::collections::BTreeSet<_> =
        raw.iter().filter_map(|e| e.user.clone()).collect();
    assert_eq!(
        store
            .distinct_users(&id, day(from), day(to) + days(1))
            .await
            .expect("distinct users"),
        distinct.len() as i64
    );
}

/// Rollups and daily distinct users equal a recomputation from the raw
/// events after batches with repeats inside them, retried batches, and
/// overlapping batches written concurrently.
pub async fn ingest_rollups_equal_recomputation(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    create(
        &store,
        "One",
        "one@example.com",
        license(ONE, "pro", t - days(60)),
    )
    .await;

    let mut first = span(0, 60, t);
    first.extend(span(10, 20, t)); // repeats inside one batch
    let out = store.ingest(&plain(first, t)).await.expect("first batch");
    assert_eq!((out.inserted, out.duplicates), (60, 10));

    let retry = store
        .ingest(&plain(span(0, 60, t), t))
        .await
        .expect("retry");
    assert_eq!(
        (retry.inserted, retry.duplicates),
        (0, 60),
        "a retried batch adds nothing"
    );
    assert_rollups_match_raw(&store, t).await;

    // Overlapping batches at the same time: every id counts once.
    let batches: Vec<IngestBatch> = (0..6u32)
        .map(|k| plain(span(40 + k * 20, 100 + k * 20, t), t))
        .collect();
    let results = futures::future::join_all(batches.iter().map(|b| store.ingest(b))).await;
    let inserted: u64 = results
        .into_iter()
        .map(|r| r.expect("concurrent batch").inserted)
        .sum();
    assert_eq!(inserted, 200 - 60, "ids 60..200 are new exactly once");
    assert_rollups_match_raw(&store, t).await;

    // The legacy raw insert folds too.
    assert_eq!(
        store
            .insert_events(&span(200, 230, t))
            .await
            .expect("insert"),
        30
    );
    assert_rollups_match_raw(&store, t).await;
    let total: i64 = store
        .rollups(&install(ONE), t - days(3), t + days(1))
        .await
        .expect("rollups")
        .iter()
        .map(|r| r.counts.events)
        .sum();
    assert_eq!(total, 230);

    // Nothing is written for an install that does not exist.
    let mut stranger = plain(span(0, 3, t), t);
    stranger.install_id = install("ingest-install-99");
    for e in &mut stranger.events {
        e.event.install_id = install("ingest-install-99");
    }
    assert!(store.ingest(&stranger).await.is_err());
    assert!(store
        .rollups(&install("ingest-install-99"), t - days(3), t + days(1))
        .await
        .expect("rollups")
        .is_empty());
}

fn usage_event(
    n: u32,
    usage_type: UsageType,
    quantity: i64,
    amount: Option<i64>,
    ts: DateTime<Utc>,
) -> IngestEvent {
    let mut event = event(n, ts);
    event.event_type = EventType::Usage;
    event.event_id = format!("use-{n}");
    IngestEvent {
        usage: Some(UsageRecord {
            install_id: install(ONE),
            usage_type,
            quantity,
            amount_minor: amount,
            at: ts,
        }),
        event,
    }
}

/// Usage is metered once per event (retries add nothing), both POS
/// channels draw on one allowance, free and billable units are both
/// counted, and the split carries across batches.
pub async fn ingest_meters_usage_in_its_period(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    create(
        &store,
        "One",
        "one@example.com",
        license(ONE, "community", t - days(60)),
    )
    .await;
    let batch = |events: Vec<IngestEvent>| IngestBatch {
        install_id: install(ONE),
        events,
        terms: terms(t),
    };
    // Community: 100 POS, 5 transcripts.
    let first = batch(vec![
        usage_event(1, UsageType::PosInPerson, 60, Some(60_000), t - hours(3)),
        usage_event(2, UsageType::Transcript, 4, None, t - hours(3)),
    ]);
    store.ingest(&first).await.expect("first");
    store.ingest(&first).await.expect("retry");
    let second = batch(vec![
        usage_event(3, UsageType::PosOnline, 60, Some(60_000), t - hours(2)),
        usage_event(4, UsageType::Transcript, 3, None, t - hours(1)),
    ]);
    store.ingest(&second).await.expect("second");
    // From before the period (it closed): stored, not metered against it.
    let late = batch(vec![usage_event(
        5,
        UsageType::Transcript,
        9,
        None,
        t - days(20),
    )]);
    store.ingest(&late).await.expect("late");

    let got = store
        .period_usage(&install(ONE), t - days(10))
        .await
        .expect("period usage");
    let row = |usage_type, quantity, free, billable, amount, cost| PeriodUsage {
        usage_type,
        quantity,
        free_quantity: free,
        billable_quantity: billable,
        amount_minor: amount,
        cost_micros: cost,
    };
    assert_eq!(
        got,
        vec![
            // 2 of 7 transcripts over the 5 allowed, $0.05 each.
            row(UsageType::Transcript, 7, 5, 2, 0, 100_000),
            row(UsageType::PosInPerson, 60, 60, 0, 60_000, 0),
            // 20 of 60 online over the shared 100: 2.9% of $200 + 20 × $0.30.
            row(UsageType::PosOnline, 60, 40, 20, 60_000, 11_800_000),
        ]
    );
    assert!(store
        .period_usage(&install(ONE), t - days(40))
        .await
        .expect("another period")
        .is_empty());
    // Metered usage shows in the per-type window sums too.
    let totals = store
        .usage_totals(&install(ONE), t - days(1), t)
        .await
        .expect("totals");
    let pos: i64 = totals
        .iter()
        .filter(|u| u.usage_type.meter() == Meter::PosTransactions)
        .map(|u| u.quantity)
        .sum();
    assert_eq!(pos, 120);
    let by_day = store
        .usage_by_day(&install(ONE), t - days(1), t + hours(1))
        .await
        .expect("by day");
    assert_eq!(by_day.iter().map(|d| d.quantity).sum::<i64>(), 127);
    assert!(by_day
        .windows(2)
        .all(|w| (w[0].day, w[0].usage_type) < (w[1].day, w[1].usage_type)));
    assert_eq!(
        terms(t).limits.get(&Meter::Transcripts),
        Some(&Limit::Max(5))
    );
}

/// Pruning removes raw events before the cutoff and their memberships,
/// keeps rollups and daily users, and never touches newer events.
pub async fn prune_keeps_rollups(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    create(
        &store,
        "One",
        "one@example.com",
        license(ONE, "pro", t - days(60)),
    )
    .await;
    let old: Vec<TelemetryEvent> = (0..20)
        .map(|n| event(n, t - days(30) - hours(i64::from(n))))
        .collect();
    let new: Vec<TelemetryEvent> = (20..30).map(|n| event(n, t - hours(1))).collect();
    store.ingest(&plain(old, t)).await.expect("old");
    store.ingest(&plain(new, t)).await.expect("new");
    let id = install(ONE);
    let before = store
        .rollups(&id, t - days(60), t + days(1))
        .await
        .expect("rollups");
    let users_before = store
        .daily_users(&id, (t - days(60)).date_naive(), (t + days(1)).date_naive())
        .await
        .expect("daily");

    let first = store
        .prune_raw_events(t - days(7), 15)
        .await
        .expect("prune");
    assert_eq!(first.events, 15, "at most the limit per call");
    assert!(first.memberships > 0);
    let second = store
        .prune_raw_events(t - days(7), 15)
        .await
        .expect("prune");
    assert_eq!(second.events, 5);
    assert_eq!(
        store
            .prune_raw_events(t - days(7), 15)
            .await
            .expect("prune")
            .events,
        0
    );

    let left = store
        .list_events(&id, t - days(60), t + days(1), 1_000)
        .await
        .expect("events");
    assert_eq!(left.len(), 10);
    assert!(left.iter().all(|e| e.ts >= t - days(7)));
    assert_eq!(
        store
            .rollups(&id, t - days(60), t + days(1))
            .await
            .expect("rollups"),
        before
    );
    assert_eq!(
        store
            .daily_users(&id, (t - days(60)).date_naive(), (t + days(1)).date_naive())
            .await
            .expect("daily"),
        users_before
    );
}
