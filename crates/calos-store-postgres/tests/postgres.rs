//! What only the PostgreSQL backend has to get right: failing fast when the
//! server is down, batches beyond one statement's bind limit, and concurrent
//! writers racing on a license's version.

// Test code: a failed unwrap or panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};

use calos_core::audit::{Actor, AuditEntry};
use calos_core::customer::{DisplayText, Email, NewCustomer, Notes};
use calos_core::ids::InstallId;
use calos_core::license::{BillingPeriod, License, LicenseTerms};
use calos_core::plan::{default_plans, PlanSlug};
use calos_core::telemetry::{EventType, TelemetryEvent};
use calos_store::conformance::TestStore;
use calos_store::{CustomerRef, LicenseQuery, NewLicense, Store, StoreError};
use calos_store_postgres::PostgresStore;
use common::{make_store, with_database};

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn audit(action: &str, target: &str) -> AuditEntry {
    AuditEntry {
        at: now(),
        actor: Actor::Cli,
        action: action.to_owned(),
        target_type: "license".to_owned(),
        target_id: target.to_owned(),
        before: None,
        after: None,
        ip: None,
    }
}

async fn create_license(store: &dyn Store, install_id: &str, mail: &str) -> License {
    let license = License::create(
        LicenseTerms {
            install_id: InstallId::parse(install_id).unwrap(),
            customer_id: 0,
            plan: PlanSlug::parse("pro").unwrap(),
            billing_period: BillingPeriod::Monthly,
            trial_days: 0,
            notes: Notes::default(),
            domains: Vec::new(),
        },
        now(),
    );
    let new = NewLicense {
        customer: CustomerRef::New(NewCustomer {
            name: DisplayText::parse("name", "Racer").unwrap(),
            email: Email::parse(mail).unwrap(),
            company: None,
        }),
        license,
        key_hash: vec![1; 32],
        owner: None,
    };
    store
        .create_license(&new, &audit("license.create", install_id))
        .await
        .unwrap()
        .1
}

/// Runs `check` on a fresh store (skipped when PostgreSQL is unreachable) and
/// drops the database afterwards even if the check panics.
async fn with_store<F, Fut>(check: F)
where
    F: FnOnce(Arc<PostgresStore>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use futures::FutureExt as _;
    let Some(t) = make_store().await else { return };
    let store = t.store.clone();
    let outcome = std::panic::AssertUnwindSafe(async move {
        store.ensure_plans(&default_plans()).await.unwrap();
        check(store).await;
    })
    .catch_unwind()
    .await;
    t.cleanup().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_and_fails_fast() {
    let started = Instant::now();
    // Port 1 on loopback: nothing listens there, so the connection is refused.
    let result = PostgresStore::connect("postgres://postgres@127.0.0.1:1/test").await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "expected Unavailable, got {result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_malformed_url_is_a_backend_error() {
    let result = PostgresStore::connect("postgres://[not a url").await;
    assert!(
        matches!(result, Err(StoreError::Backend(_))),
        "got {result:?}"
    );
}

#[tokio::test]
async fn with_database_swaps_only_the_database_name() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h:5432/test?sslmode=disable", "x"),
        "postgres://u:p@h:5432/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "x"),
        "postgres://h:5432/x"
    );
}

#[tokio::test]
async fn a_closed_pool_is_unavailable_not_not_found() {
    with_store(|store| async move {
        store.close().await;
        let id = InstallId::parse("nobody-install-01").unwrap();
        let result = store.get_license(&id).await;
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "got {result:?}"
        );
        assert!(matches!(
            store.ping().await,
            Err(StoreError::Unavailable(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn connecting_again_finds_migrations_applied() {
    with_store(|store| async move {
        let url = {
            let opts = store.pool().connect_options();
            let db = opts.get_database().unwrap().to_owned();
            with_database(&common::server_url(), &db)
        };
        let again = PostgresStore::connect(&url).await.unwrap();
        assert_eq!(
            again.list_plans().await.unwrap().len(),
            5,
            "same data, no re-seed"
        );
        again.close().await;
    })
    .await;
}

#[tokio::test]
async fn event_batches_larger_than_one_statement_are_chunked() {
    with_store(|store| async move {
        let l = create_license(store.as_ref(), "bulk-install-0001", "bulk@example.com").await;
        let t = now();
        let events: Vec<TelemetryEvent> = (0..2_500)
            .map(|n| TelemetryEvent {
                install_id: l.install_id.clone(),
                event_id: format!("bulk-{n}"),
                event_type: EventType::ApiCall,
                feature: Some("api".to_owned()),
                user: Some(format!("u{}", n % 7)),
                session: None,
                ts: t - chrono::Duration::seconds(n),
                user_agent: None,
                endpoint: Some("/v1/things".to_owned()),
                duration_ms: Some(12),
                status: Some(200),
                error: None,
                props: serde_json::Map::new(),
            })
            .collect();
        assert_eq!(store.insert_events(&events).await.unwrap(), 2_500);
        // A retry overlapping the tail, plus 10 new events in the last chunk.
        let mut retry = events[1_500..].to_vec();
        for n in 0..10 {
            let mut e = events[0].clone();
            e.event_id = format!("late-{n}");
            retry.push(e);
        }
        assert_eq!(store.insert_events(&retry).await.unwrap(), 10);
        let page = store
            .list_licenses(&LicenseQuery {
                page: 1,
                per_page: 10,
                now: t,
                ..LicenseQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(page.items[0].events_last_30_days, 2_510);
    })
    .await;
}

#[tokio::test]
async fn of_two_concurrent_writers_on_one_version_exactly_one_wins() {
    with_store(|store| async move {
        let l = create_license(store.as_ref(), "race-install-0001", "race@example.com").await;
        let writers = (0..8).map(|n| {
            let store = store.clone();
            let mut next = l.clone();
            next.notes = Notes::parse(&format!("writer {n}")).unwrap();
            tokio::spawn(async move {
                store
                    .update_license(&next, &audit("license.update", "race-install-0001"))
                    .await
            })
        });
        let results = futures::future::join_all(writers).await;
        let (mut won, mut lost) = (0, 0);
        for r in results {
            match r.unwrap() {
                Ok(stored) => {
                    assert_eq!(stored.version, 1);
                    won += 1;
                }
                Err(StoreError::Conflict {
                    field: "version", ..
                }) => lost += 1,
                Err(other) => panic!("unexpected error {other:?}"),
            }
        }
        assert_eq!((won, lost), (1, 7));
        let stored = store.get_license(&l.install_id).await.unwrap().unwrap();
        assert_eq!(stored.version, 1);
        let audits = store
            .list_audit(&calos_store::AuditQuery {
                target_type: Some("license".to_owned()),
                target_id: Some("race-install-0001".to_owned()),
                limit: 100,
            })
            .await
            .unwrap();
        assert_eq!(audits.len(), 2, "the create and the one winning update");
    })
    .await;
}

#[tokio::test]
async fn paging_arguments_are_clamped() {
    with_store(|store| async move {
        create_license(store.as_ref(), "clamp-install-0001", "clamp@example.com").await;
        let page = store
            .list_licenses(&LicenseQuery {
                page: 0,
                per_page: 1_000_000,
                now: now(),
                ..LicenseQuery::default()
            })
            .await
            .unwrap();
        assert_eq!((page.page, page.per_page, page.total), (1, 500, 1));
        assert_eq!(page.items.len(), 1);
    })
    .await;
}
