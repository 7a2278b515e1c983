//! What only the SQLite backend promises: the file, WAL, reopening, in-memory
//! URLs and many concurrent writers without `SQLITE_BUSY`.

// Test setup: failing to make a temp file or open it must fail the test loudly.
#![allow(clippy::expect_used)]

use std::sync::Arc;

use chrono::{SubsecRound, Utc};
use sqlx::Connection;

use calos_core::audit::{Actor, AuditEntry};
use calos_core::customer::{DisplayText, Email, NewCustomer, Notes};
use calos_core::ids::InstallId;
use calos_core::license::{BillingPeriod, License, LicenseTerms};
use calos_core::plan::{default_plans, PlanSlug};
use calos_core::telemetry::{EventType, TelemetryEvent};
use calos_store::{CustomerRef, NewLicense, Store};
use calos_store_sqlite::SqliteStore;

fn entry(target: &str) -> AuditEntry {
    AuditEntry {
        at: Utc::now().trunc_subsecs(6),
        actor: Actor::System,
        action: "license.create".to_owned(),
        target_type: "license".to_owned(),
        target_id: target.to_owned(),
        before: None,
        after: None,
        ip: None,
    }
}

fn new_license(n: usize) -> NewLicense {
    let install_id = InstallId::parse(&format!("concurrent-{n:04}")).expect("install id");
    let license = License::create(
        LicenseTerms {
            install_id,
            customer_id: 0,
            plan: PlanSlug::parse("pro").expect("slug"),
            billing_period: BillingPeriod::Monthly,
            trial_days: 0,
            notes: Notes::default(),
            domains: Vec::new(),
        },
        Utc::now().trunc_subsecs(6),
    );
    NewLicense {
        customer: CustomerRef::New(NewCustomer {
            name: DisplayText::parse("name", &format!("Customer {n}")).expect("name"),
            email: Email::parse(&format!("c{n}@example.com")).expect("email"),
            company: None,
        }),
        license,
        key_hash: vec![1; 32],
        owner: None,
    }
}

#[tokio::test]
async fn creates_the_file_in_wal_mode_and_reopens_with_data_intact() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fresh.db");
    let url = format!("sqlite://{}", path.display());
    assert!(!path.exists());

    let store = SqliteStore::connect(&url).await.expect("connect");
    assert!(path.exists(), "connect creates the database file");
    store.ensure_plans(&default_plans()).await.expect("plans");
    store
        .create_license(&new_license(1), &entry("concurrent-0001"))
        .await
        .expect("create");
    store.close().await;

    let mut raw = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("raw connection");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut raw)
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    raw.close().await.expect("close raw");

    // A second start runs the (already applied) migrations again and keeps the data.
    let again = SqliteStore::connect(&url).await.expect("reconnect");
    again.migrate().await.expect("migrate is idempotent");
    assert_eq!(again.count_customers().await.expect("count"), 1);
    assert_eq!(
        again.ensure_plans(&default_plans()).await.expect("plans"),
        0
    );
    again.close().await;
}

#[tokio::test]
async fn an_in_memory_url_is_one_database() {
    let store = SqliteStore::connect("sqlite::memory:")
        .await
        .expect("connect");
    store.ensure_plans(&default_plans()).await.expect("plans");
    assert_eq!(store.list_plans().await.expect("plans").len(), 5);
}

#[tokio::test]
async fn an_unopenable_path_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("missing/dir/x.db").display());
    assert!(SqliteStore::connect(&url).await.is_err());
    assert!(SqliteStore::connect("postgres://nope").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_queue_instead_of_failing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("busy.db").display());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::connect(&url).await.expect("connect"));
    store.ensure_plans(&default_plans()).await.expect("plans");

    let mut tasks = Vec::new();
    for n in 0..24 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let new = new_license(n);
            let install_id = new.license.install_id.clone();
            store
                .create_license(&new, &entry(install_id.as_str()))
                .await
                .map_err(|e| format!("create {n}: {e}"))?;
            let events: Vec<_> = (0..20)
                .map(|i| TelemetryEvent {
                    install_id: install_id.clone(),
                    event_id: format!("e{i}"),
                    event_type: EventType::PageView,
                    feature: None,
                    user: None,
                    session: None,
                    ts: Utc::now().trunc_subsecs(6),
                    user_agent: None,
                    endpoint: None,
                    duration_ms: None,
                    status: None,
                    error: None,
                    props: serde_json::Map::new(),
                })
                .collect();
            store
                .insert_events(&events)
                .await
                .map_err(|e| format!("events {n}: {e}"))
        }));
    }
    for task in tasks {
        let inserted = task.await.expect("task").expect("write succeeded");
        assert_eq!(inserted, 20);
    }
    assert_eq!(store.count_customers().await.expect("count"), 24);
}
