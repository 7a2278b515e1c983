//! Fault 2: PostgreSQL stopped under load and started again — a private
//! cluster of our own (see `faults_pg_cluster`), never the shared one.
//!
//! While it is down: telemetry, admin reads, `/healthz` and the verify of a
//! license not in the cache answer 503 `database_unavailable` in well under
//! 2 s (the pool's acquire timeout, 1 s by default), never a hang until the
//! request timeout, never a 500. Verify of a license the node has cached
//! keeps answering 200 with a signed verdict (its "last seen" write waits in
//! memory). When PostgreSQL is back the same process serves again by itself,
//! every acknowledged event is stored, rollups equal raw, and the verify
//! made during the outage is written by the next flush.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::faults_pg_cluster::PrivatePg;
use crate::faults_support::{
    assert_rollups_equal_raw, calos, log_tail, login, new_license, serve, signal, stored_ids,
    timed, until, Creds, Flood, TELEMETRY, VERIFY,
};

/// What "fail fast" means here: well under the 30 s request timeout.
const FAST: Duration = Duration::from_secs(2);

fn verify_body(c: &Creds, instance: &str) -> Value {
    json!({"installId": c.id, "licenseKey": c.key, "instanceId": instance,
           "nonce": uuid::Uuid::new_v4().simple().to_string()})
}

fn assert_unavailable(what: &str, (status, body, took): &(u16, Value, Duration)) {
    assert_eq!(*status, 503, "{what}: {body}");
    assert_eq!(
        body["error"]["code"], "database_unavailable",
        "{what}: {body}"
    );
    assert!(body["error"]["message"].is_string(), "{what}: {body}");
    assert!(*took < FAST, "{what} answered in {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_fails_fast_with_503_and_recovers_by_itself() {
    let Some(pg) = PrivatePg::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = calos(dir.path(), &pg.url());
    cmd.env("CALOS_VERIFY_FLUSH_INTERVAL_SECS", "1");
    let (mut server, base) = serve(cmd, dir.path()).await;
    let admin = login(&base).await;
    let warm = new_license(&admin, "Outage warm").await;
    let cold = new_license(&admin, "Outage cold").await;
    let http = reqwest::Client::new();
    let (s, _, _) = timed(
        http.post(format!("{base}{VERIFY}"))
            .json(&verify_body(&warm, "before")),
    )
    .await;
    assert_eq!(s, 200, "the warm license is cached by its first verify");

    let flood = Flood::start(&base, std::slice::from_ref(&warm), 3, 20);
    until("acknowledged batches", Duration::from_secs(30), || async {
        (flood.acked_count() >= 200).then_some(())
    })
    .await;

    let down_at = Instant::now();
    tokio::task::block_in_place(|| pg.stop());
    eprintln!("private PostgreSQL stopped in {:?}", down_at.elapsed());

    let (status, body, took) = timed(
        http.post(format!("{base}{TELEMETRY}"))
            .json(&json!({"installId": warm.id, "licenseKey": warm.key,
                "events": [{"eventId": "outage-1", "type": "custom", "ts": chrono::Utc::now()}]})),
    )
    .await;
    assert_unavailable("telemetry", &(status, body, took));
    let cached = timed(
        http.post(format!("{base}{VERIFY}"))
            .json(&verify_body(&warm, "during-outage")),
    )
    .await;
    assert_eq!(
        cached.0, 200,
        "a cached license still verifies: {}",
        cached.1
    );
    assert_eq!(cached.1["code"], "VALID", "{}", cached.1);
    assert!(cached.2 < FAST);
    assert_unavailable(
        "verify of an uncached license",
        &timed(
            http.post(format!("{base}{VERIFY}"))
                .json(&verify_body(&cold, "cold")),
        )
        .await,
    );
    assert_unavailable(
        "admin stats",
        &timed(admin.client.get(format!("{base}/api/enterprise/stats"))).await,
    );
    let health = timed(http.get(format!("{base}/healthz"))).await;
    assert_eq!(health.0, 503, "{}", health.1);
    assert!(health.2 < FAST);
    // The flood keeps hitting the server while the database is down.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let up_at = Instant::now();
    tokio::task::block_in_place(|| pg.start_again());
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server is still running"
    );
    until("ingest works again", Duration::from_secs(20), || async {
        let r = timed(http.post(format!("{base}{TELEMETRY}")).json(
            &json!({"installId": warm.id, "licenseKey": warm.key,
                    "events": [{"eventId": "after-1", "type": "custom", "ts": chrono::Utc::now()}]}),
        ))
        .await;
        (r.0 == 200).then_some(())
    })
    .await;
    eprintln!(
        "recovered {:?} after PostgreSQL was started again",
        up_at.elapsed()
    );
    let r = timed(
        http.post(format!("{base}{VERIFY}"))
            .json(&verify_body(&cold, "cold")),
    )
    .await;
    assert_eq!((r.0, &r.1["code"]), (200, &json!("VALID")), "{}", r.1);
    let log = flood.finish().await;

    let failures: Vec<_> = log.statuses.iter().filter(|(s, _, _)| *s != 200).collect();
    assert!(!failures.is_empty(), "the flood saw the outage");
    for f in &failures {
        assert_unavailable("a flood batch during the outage", f);
    }
    let slowest = failures.iter().map(|f| f.2).max().unwrap_or_default();

    let store = calos_server::store::open_store(&pg.url()).await.unwrap();
    let stored = stored_ids(store.as_ref(), &warm.id).await;
    let acked = &log.acked[&warm.id];
    assert!(
        acked.is_subset(&stored),
        "every acknowledged event is stored"
    );
    assert!(
        !stored.contains("outage-1"),
        "the refused event was not stored"
    );
    assert_rollups_equal_raw(store.as_ref(), &warm.id).await;
    let id = calos_core::ids::InstallId::parse(&warm.id).unwrap();
    until(
        "the outage's verify written",
        Duration::from_secs(10),
        || async {
            let instances = store.list_instances(&id).await.unwrap();
            instances
                .iter()
                .any(|i| i.instance_id == "during-outage")
                .then_some(())
        },
    )
    .await;
    eprintln!(
        "postgres outage: {} events acknowledged, {} batches refused with 503 (slowest {slowest:?})",
        acked.len(),
        failures.len()
    );

    signal(&server, "-TERM");
    let exit = server.wait().await.unwrap();
    assert_eq!(exit.code(), Some(0), "{}", log_tail(dir.path()));
}
