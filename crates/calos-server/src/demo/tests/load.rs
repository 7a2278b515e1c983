//! Loading into a real SQLite store: everything generated is stored, the
//! history is real, and a second load changes nothing.

use chrono::Duration;
use sha2::{Digest, Sha256};

use calos_core::ids::{InstallId, LicenseKey};
use calos_core::license::LicenseStatus;
use calos_core::plan::{default_plans, Meter, UsageType};
use calos_core::rollup;
use calos_core::telemetry::EventType;
use calos_store::{AuditQuery, IngestStore, Store};
use calos_store_sqlite::SqliteStore;

use super::{customers, find, now};
use crate::demo::{load, DemoSummary, DEMO_INSTALL_ID};

fn hash_key(key: &LicenseKey) -> Vec<u8> {
    Sha256::digest(key.expose().as_bytes()).to_vec()
}

async fn store(dir: &tempfile::TempDir) -> SqliteStore {
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let store = SqliteStore::connect(&url).await.unwrap();
    store.ensure_plans(&default_plans()).await.unwrap();
    store
}

async fn run(store: &SqliteStore, lines: &mut Vec<String>) -> DemoSummary {
    load(store, &hash_key, now(), &mut |line: &str| {
        lines.push(line.to_owned())
    })
    .await
    .unwrap()
}

async fn total_events(store: &SqliteStore, install_id: &InstallId) -> i64 {
    let counts = store
        .event_counts(install_id, now() - Duration::days(400), 1_000)
        .await
        .unwrap();
    // `usage` events are telemetry too; the seed's 100 are the others.
    counts
        .iter()
        .filter(|c| c.event_type != EventType::Usage)
        .map(|c| c.count)
        .sum()
}

#[tokio::test]
async fn load_writes_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let expected = customers();

    let mut lines = Vec::new();
    let first = run(&store, &mut lines).await;
    assert!(!first.already_present);
    assert_eq!(first.customers, expected.len() as u64);
    assert_eq!(first.licenses, expected.len() as u64);
    let events: usize = expected.iter().map(|c| c.events.len()).sum();
    let usage: usize = expected.iter().map(|c| c.usage.len()).sum();
    assert_eq!(first.events, events as u64);
    assert_eq!(first.usage_records, usage as u64);
    assert_eq!(first.demo_install_id, DEMO_INSTALL_ID);
    // Progress: a line per customer and one with its event counts.
    assert!(lines.len() >= 2 * expected.len(), "{lines:?}");
    assert!(lines
        .iter()
        .any(|l| l.contains("Demo Corp") && l.contains("100 events")));

    // The demo key shown once is the one whose hash is stored.
    let demo_id = InstallId::parse(DEMO_INSTALL_ID).unwrap();
    let key = LicenseKey::parse(first.demo_license_key.as_deref().unwrap()).unwrap();
    assert_eq!(
        store.license_key_hash(&demo_id).await.unwrap(),
        Some(hash_key(&key))
    );

    let demo = store.get_license(&demo_id).await.unwrap().unwrap();
    assert_eq!(demo.plan.as_str(), "pro");
    assert_eq!(demo.status, LicenseStatus::Active);
    assert!(demo.current_period_start <= now() && now() < demo.current_period_end);
    let brand = store.get_branding(&demo_id).await.unwrap().unwrap();
    assert_eq!(brand.product_name.as_str(), "Demo Corp");
    assert_eq!(brand.primary_color.as_str(), "#667eea");
    assert_eq!(total_events(&store, &demo_id).await, 100);

    // Every stored license is the generated one as it stands now, with
    // one version per history step.
    for c in &expected {
        let want = c.current_license();
        let got = store.get_license(&want.install_id).await.unwrap().unwrap();
        assert_eq!(got.status, want.status, "{}", c.key);
        assert_eq!(got.plan, want.plan, "{}", c.key);
        assert_eq!(got.version, c.history.len() as i64, "{}", c.key);
    }

    // The license history is in the audit log, as the state machine made it.
    let ironbridge = find(&expected, "ironbridge");
    let audit = store
        .list_audit(&AuditQuery {
            target_type: Some("license".into()),
            target_id: Some(ironbridge.license.install_id.as_str().into()),
            limit: 50,
        })
        .await
        .unwrap();
    let mut actions: Vec<&str> = audit.iter().map(|r| r.entry.action.as_str()).collect();
    actions.reverse();
    assert_eq!(
        actions,
        [
            "demo.create_license",
            "demo.set_timezone",
            "demo.put_branding",
            "license.activate",
            "license.renew_period",
            "license.change_tier"
        ]
    );

    // A second load finds the demo install and writes nothing.
    let customers_before = store.count_customers().await.unwrap();
    let facts_before = store.license_facts().await.unwrap().len();
    let mut lines = Vec::new();
    let second = run(&store, &mut lines).await;
    assert!(second.already_present);
    assert_eq!(
        (second.customers, second.events, second.usage_records),
        (0, 0, 0)
    );
    assert_eq!(second.demo_license_key, None);
    assert_eq!(store.count_customers().await.unwrap(), customers_before);
    assert_eq!(store.license_facts().await.unwrap().len(), facts_before);
    assert_eq!(total_events(&store, &demo_id).await, 100);
    assert_eq!(lines.len(), 1);
}

#[tokio::test]
async fn a_half_finished_load_is_completed_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let expected = customers();
    // Simulate an earlier load that stopped after its first customer.
    let first = &expected[0];
    let (_, stored) = store
        .create_license(
            &calos_store::NewLicense {
                customer: calos_store::CustomerRef::New(first.customer.clone()),
                license: first.license.clone(),
                key_hash: vec![1; 32],
                owner: None,
            },
            &crate::demo::audit(
                first.license.created_at,
                calos_core::audit::Actor::Cli,
                "demo.create_license",
                &first.license.install_id,
                None,
                None,
            ),
        )
        .await
        .unwrap();

    let mut lines = Vec::new();
    let summary = run(&store, &mut lines).await;
    assert!(!summary.already_present);
    assert_eq!(summary.customers, expected.len() as u64 - 1);
    assert!(lines[0].contains("already present"), "{lines:?}");
    assert_eq!(
        store.count_customers().await.unwrap(),
        expected.len() as u64
    );
    // The half-written customer was left as it was.
    let again = store
        .get_license(&stored.install_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.version, stored.version);
}

/// The demo goes through the ingest path: its rollups equal a
/// recomputation from its raw events, and its metered usage is what the
/// insights rely on (Brightpath at 95 of 100 API requests this period).
#[tokio::test]
async fn demo_rollups_and_metering_are_real() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    run(&store, &mut Vec::new()).await;
    let expected = customers();
    for c in &expected {
        let id = &c.license.install_id;
        let (from, to) = (now() - Duration::days(800), now() + Duration::days(1));
        let raw = store.list_events(id, from, to, 1_000_000).await.unwrap();
        let (want, _) = rollup::fold(&raw);
        assert_eq!(
            store.rollups(id, from, to).await.unwrap(),
            want,
            "{}",
            c.key
        );
    }
    let brightpath = find(&expected, "brightpath");
    let license = store
        .get_license(&brightpath.license.install_id)
        .await
        .unwrap()
        .unwrap();
    let period = store
        .period_usage(&license.install_id, license.current_period_start)
        .await
        .unwrap();
    let api: i64 = period
        .iter()
        .filter(|p| p.usage_type.meter() == Meter::ApiRequests)
        .map(|p| p.quantity)
        .sum();
    assert_eq!(api, 95);
    assert!(period
        .iter()
        .all(|p| p.usage_type != UsageType::ApiRequest || p.billable_quantity == 0));
    // The customer list counts the same 95 from the usage records.
    let totals = store
        .usage_totals(
            &license.install_id,
            license.current_period_start,
            license.current_period_end,
        )
        .await
        .unwrap();
    let listed: i64 = totals
        .iter()
        .filter(|t| t.usage_type == UsageType::ApiRequest)
        .map(|t| t.quantity)
        .sum();
    assert_eq!(listed, 95);
}
