//! Fault 3: the disk holding the SQLite database fills up under ingest. The
//! database lives on a small tmpfs volume mounted for the test (CI runs as
//! root); a filler file takes the rest of the space.
//!
//! While the disk is full: batches are answered 507 `storage_full` (never a
//! 500, never a 200 for what was not stored), reads keep working, and the
//! database passes `PRAGMA integrity_check`. Deleting the filler file lets
//! ingest resume without a restart, and every acknowledged event is stored.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::faults_support::{
    assert_rollups_equal_raw, calos, fill, flood_batch, log_tail, login, new_license, serve,
    signal, stored_ids, until, Creds, Volume, TELEMETRY,
};

async fn integrity(db: &Path) -> String {
    let mut conn = SqliteConnectOptions::from_str(&format!("sqlite://{}", db.display()))
        .unwrap()
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let (verdict,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    verdict
}

async fn post(base: &str, batch: &Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}{TELEMETRY}"))
        .json(batch)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_disk_full_answers_507_keeps_the_database_sound_and_recovers() {
    let Some(volume) = Volume::mount("24m") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = volume.path.join("calos.db");
    let url = format!("sqlite://{}", db.display());
    let (mut server, base) = serve(calos(dir.path(), &url), dir.path()).await;
    let admin = login(&base).await;
    let creds: Creds = new_license(&admin, "Disk full").await;

    let mut acked = std::collections::BTreeSet::new();
    let mut n = 0;
    for _ in 0..3 {
        let (ids, batch) = flood_batch(&creds, 0, n, 40);
        n += 1;
        let (status, body) = post(&base, &batch).await;
        assert_eq!(status, 200, "{body}");
        acked.extend(ids);
    }

    let filler = volume.path.join("filler");
    let filled = fill(&filler);
    assert!(filled > 0);

    // Ingest until the database cannot grow any more.
    let mut full = None;
    for _ in 0..400 {
        let (ids, batch) = flood_batch(&creds, 0, n, 40);
        n += 1;
        let (status, body) = post(&base, &batch).await;
        match status {
            200 => acked.extend(ids),
            507 => {
                full = Some(body);
                break;
            }
            other => panic!(
                "disk full answered {other}: {body}\n{}",
                log_tail(dir.path())
            ),
        }
    }
    let body = full.unwrap_or_else(|| panic!("never ran out of space\n{}", log_tail(dir.path())));
    assert_eq!(body["error"]["code"], "storage_full", "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    // Still full: the next batch too, and nothing of it is stored.
    let (refused_ids, batch) = flood_batch(&creds, 1, 0, 40);
    let (status, body) = post(&base, &batch).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (507, &Value::from("storage_full"))
    );
    // Reads do not need space.
    let stats = admin.get("/api/enterprise/stats").await;
    assert_eq!(stats.status.as_u16(), 200, "{}", stats.body);
    assert_eq!(integrity(&db).await, "ok", "sound while full");

    std::fs::remove_file(&filler).unwrap();
    until("ingest works again", Duration::from_secs(15), || async {
        let (status, _) = post(&base, &batch).await;
        (status == 200).then_some(())
    })
    .await;
    acked.extend(refused_ids);
    for _ in 0..3 {
        let (ids, batch) = flood_batch(&creds, 0, n, 40);
        n += 1;
        let (status, body) = post(&base, &batch).await;
        assert_eq!(status, 200, "{body}\n{}", log_tail(dir.path()));
        acked.extend(ids);
    }

    signal(&server, "-TERM");
    let exit = server.wait().await.unwrap();
    assert_eq!(exit.code(), Some(0), "{}", log_tail(dir.path()));
    assert_eq!(integrity(&db).await, "ok", "sound after recovery");
    let store = calos_server::store::open_store(&url).await.unwrap();
    let stored = stored_ids(store.as_ref(), &creds.id).await;
    assert_eq!(stored, acked, "exactly the acknowledged events are stored");
    assert_rollups_equal_raw(store.as_ref(), &creds.id).await;
    eprintln!(
        "disk full: {} events acknowledged, {filled} filler bytes",
        acked.len()
    );
    drop(store);
}
