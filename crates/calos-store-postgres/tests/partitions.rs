//! Raw telemetry partitioned by month (migration 20250116000000): partitions
//! made ahead at start, an event of a month without one kept in the default
//! partition and moved out when its month is made, whole old months dropped,
//! and the migration carrying existing events (and their dedup ids) over.

// Test code: a failed unwrap or panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, Months, SubsecRound, Utc};
use futures::FutureExt as _;
use sqlx::{Connection, Executor, PgConnection};

use calos_core::ids::InstallId;
use calos_core::telemetry::{EventType, TelemetryEvent};
use calos_store::conformance::TestStore;
use calos_store::{IngestStore, RawRetentionStore, Store};
use calos_store_postgres::PostgresStore;
use common::{make_store, server_url, with_database};

const INSTALL: &str = "part-install-01";

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn event(id: &str, ts: DateTime<Utc>) -> TelemetryEvent {
    TelemetryEvent {
        install_id: InstallId::parse(INSTALL).unwrap(),
        event_id: id.to_owned(),
        event_type: EventType::PageView,
        feature: None,
        user: Some("u".to_owned()),
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

fn month_name(t: DateTime<Utc>) -> String {
    format!("telemetry_events_p{:04}{:02}", t.year(), t.month())
}

/// A license row straight in SQL (triggers and foreign keys off): the
/// partition checks need an install, not a whole customer.
const LICENSE_SQL: &str = "SET session_replication_role = replica; \
    INSERT INTO licenses (install_id, customer_id, plan_slug, billing_period, status, \
    current_period_start, current_period_end, key_hash, created_at, updated_at) \
    VALUES ('part-install-01', 1, 'pro', 'monthly', 'active', now(), now(), '\\x00', now(), now()); \
    SET session_replication_role = origin;";

async fn partitions(store: &PostgresStore) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'telemetry_events'::regclass ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

async fn home_of(store: &PostgresStore, id: &str) -> String {
    sqlx::query_scalar("SELECT tableoid::regclass::text FROM telemetry_events WHERE event_id = $1")
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn with_store<F, Fut>(check: F)
where
    F: FnOnce(Arc<PostgresStore>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(t) = make_store().await else { return };
    let store = t.store.clone();
    store.pool().execute(LICENSE_SQL).await.unwrap();
    let outcome = std::panic::AssertUnwindSafe(check(store))
        .catch_unwind()
        .await;
    t.cleanup().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn months_ahead_exist_and_a_late_month_moves_out_of_default() {
    with_store(|store| async move {
        let t = now();
        let made = partitions(&store).await;
        for ahead in 0..=2 {
            let month = t.checked_add_months(Months::new(ahead)).unwrap();
            assert!(made.contains(&month_name(month)), "{made:?}");
        }
        assert!(made.contains(&"telemetry_events_default".to_owned()));

        // Five months ahead has no partition: the event is kept anyway.
        let later = t.checked_add_months(Months::new(5)).unwrap();
        assert_eq!(
            store.insert_events(&[event("late", later)]).await.unwrap(),
            1
        );
        assert_eq!(home_of(&store, "late").await, "telemetry_events_default");

        let report = store.maintain_raw_events(t, 6, t).await.unwrap();
        assert_eq!(report.partitions_made, 4, "months +3..+6");
        assert_eq!(report.partitions_dropped, 0);
        assert_eq!(home_of(&store, "late").await, month_name(later));
        let id = InstallId::parse(INSTALL).unwrap();
        let listed = store
            .list_events(
                &id,
                later - Duration::hours(1),
                later + Duration::hours(1),
                10,
            )
            .await
            .unwrap();
        assert_eq!(listed.len(), 1, "still readable after the move");
    })
    .await;
}

#[tokio::test]
async fn whole_months_before_the_cutoff_are_dropped() {
    with_store(|store| async move {
        let t = now();
        let old = t - Duration::days(200);
        let recent = t - Duration::days(1);
        store
            .insert_events(&[event("old", old), event("recent", recent)])
            .await
            .unwrap();
        // Make the old month's partition (moving the event out of default).
        store.maintain_raw_events(old, 0, old).await.unwrap();
        assert_eq!(home_of(&store, "old").await, month_name(old));

        let cutoff = t - Duration::days(90);
        let report = store.maintain_raw_events(t, 2, cutoff).await.unwrap();
        assert_eq!((report.partitions_dropped, report.events_dropped), (1, 1));
        assert!(!partitions(&store).await.contains(&month_name(old)));
        // Its id goes with the prune, which counts it; the recent one stays.
        assert_eq!(store.prune_raw_events(cutoff, 100).await.unwrap().events, 1);
        assert_eq!(
            store
                .insert_events(&[event("recent", recent)])
                .await
                .unwrap(),
            0
        );
        let ids: i64 = sqlx::query_scalar("SELECT count(*) FROM telemetry_event_ids")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(ids, 1);
    })
    .await;
}

/// The migration on a database that already holds events: they end up in
/// their months' partitions, each with its id, so a retry is a duplicate.
#[tokio::test]
async fn the_migration_carries_existing_events_over() {
    let server = server_url();
    let Ok(mut admin) = PgConnection::connect(&server).await else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "PostgreSQL unreachable and CI=true"
        );
        return;
    };
    let db = format!("calos_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute(format!(r#"CREATE DATABASE "{db}""#).as_str())
        .await
        .unwrap();
    let url = with_database(&server, &db);
    let outcome = std::panic::AssertUnwindSafe(migrate_with_events(&url))
        .catch_unwind()
        .await;
    let _ = admin
        .execute(format!(r#"DROP DATABASE IF EXISTS "{db}" WITH (FORCE)"#).as_str())
        .await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn migrate_with_events(url: &str) {
    // The migrations before this one, from a copy of the directory.
    let dir = std::env::temp_dir().join(format!("calos-mig-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "20250116000000" {
            std::fs::copy(&path, dir.join(&name)).unwrap();
        }
    }
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::migrate::Migrator::new(dir.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    pool.execute(LICENSE_SQL).await.unwrap();
    let t = now();
    let old = t - Duration::days(70);
    sqlx::query(
        "INSERT INTO telemetry_events (install_id, event_id, type, ts) VALUES \
         ('part-install-01', 'before-1', 'page_view', $1), ('part-install-01', 'before-2', 'custom', $2)",
    )
    .bind(old)
    .bind(t)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = PostgresStore::connect(url).await.unwrap();
    assert_eq!(home_of(&store, "before-1").await, month_name(old));
    assert_eq!(home_of(&store, "before-2").await, month_name(t));
    let unpartitioned: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('telemetry_events_unpartitioned')::text")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(unpartitioned, None, "the old table is gone");
    // The carried-over ids make retries duplicates, even with another ts.
    assert_eq!(
        store
            .insert_events(&[event("before-1", t), event("after", t)])
            .await
            .unwrap(),
        1
    );
    store.close().await;
}
