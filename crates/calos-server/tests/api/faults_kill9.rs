//! Fault 1: `kill -9` of the `calos` binary in the middle of a telemetry
//! flood (several concurrent posters). After a restart on the same database:
//! every event the server acknowledged is stored, none twice, and the hourly
//! rollups equal what the raw events add up to. Sending every batch again
//! (what the SDK does with unanswered ones) stores the rest exactly once.

use std::time::Duration;

use crate::faults_support::{
    assert_rollups_equal_raw, calos, log_tail, login, new_license, serve, signal, stored_ids,
    until, Flood, TELEMETRY,
};
use crate::helpers::{run_on, Backend, TestApp};

const POSTERS: usize = 6;
const BATCH: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_kill_9_during_a_telemetry_flood_loses_nothing_acknowledged() {
    run_on(Backend::Sqlite, |app| Box::pin(kill_during_flood(app))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_kill_9_during_a_telemetry_flood_loses_nothing_acknowledged() {
    run_on(Backend::Postgres, |app| Box::pin(kill_during_flood(app))).await;
}

async fn kill_during_flood(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let url = app.state.config.database_url.clone();
    let (mut server, base) = serve(calos(dir.path(), &url), dir.path()).await;
    let admin = login(&base).await;
    let installs = vec![
        new_license(&admin, "Flood A").await,
        new_license(&admin, "Flood B").await,
        new_license(&admin, "Flood C").await,
    ];

    let flood = Flood::start(&base, &installs, POSTERS, BATCH);
    // Let a good number of batches through, then pull the plug mid-stream.
    until("acknowledged batches", Duration::from_secs(30), || async {
        (flood.acked_count() >= 30 * BATCH).then_some(())
    })
    .await;
    signal(&server, "-9");
    let status = server.wait().await.unwrap();
    assert!(
        !status.success(),
        "SIGKILL leaves no clean exit: {status:?}"
    );
    let log = flood.finish().await;
    let acked: usize = log.acked.values().map(|s| s.len()).sum();
    let sent: usize = log.sent.values().map(|s| s.len()).sum();
    assert!(acked >= 30 * BATCH);
    assert!(
        log.statuses
            .iter()
            .all(|(s, body, _)| *s == 200 || body["error"]["code"].is_string()),
        "every answer was a 200 or a JSON error"
    );

    // The restart recovers the database (WAL replay / crash recovery).
    let (mut again, base) = serve(calos(dir.path(), &url), dir.path()).await;
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200, "{}", log_tail(dir.path()));

    let store = app.store();
    for creds in &installs {
        let stored = stored_ids(store.as_ref(), &creds.id).await;
        let acked = &log.acked[&creds.id];
        let missing: Vec<_> = acked.difference(&stored).take(5).collect();
        assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
        assert!(
            stored.is_subset(&log.sent[&creds.id]),
            "nothing stored that was not sent"
        );
        assert_rollups_equal_raw(store.as_ref(), &creds.id).await;
    }

    // The SDK sends unanswered batches again: each event ends up stored once.
    let client = reqwest::Client::new();
    for body in &log.unanswered {
        let r = client
            .post(format!("{base}{TELEMETRY}"))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    let mut total = 0;
    for creds in &installs {
        let stored = stored_ids(store.as_ref(), &creds.id).await;
        assert_eq!(stored, log.sent[&creds.id], "every sent event, once");
        total += stored.len();
        assert_rollups_equal_raw(store.as_ref(), &creds.id).await;
    }
    assert_eq!(total, sent);
    eprintln!(
        "kill -9 flood ({}): {acked} events acknowledged before the kill, {} batches unanswered, {sent} sent in all",
        store.backend(),
        log.unanswered.len()
    );
    signal(&again, "-TERM");
    let _ = again.wait().await;
}
