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

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::faults_disk_flood::ingest_until_full;
use crate::faults_support::{calos, log_tail, login, new_license, serve, signal, Creds, Volume};

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

    let mut filled = ingest_until_full(&base, &creds, &volume, dir.path(), 400, String::new).await;
    let refused = filled.refused_again(&base, &creds).await;
    // Reads do not need space.
    let stats = admin.get("/api/enterprise/stats").await;
    assert_eq!(stats.status.as_u16(), 200, "{}", stats.body);
    assert_eq!(integrity(&db).await, "ok", "sound while full");

    filled.recover(&base, &creds, refused, dir.path()).await;

    signal(&server, "-TERM");
    let exit = server.wait().await.unwrap();
    assert_eq!(exit.code(), Some(0), "{}", log_tail(dir.path()));
    assert_eq!(integrity(&db).await, "ok", "sound after recovery");
    filled.assert_stored(&url, &creds).await;
    eprintln!(
        "disk full: {} events acknowledged, {} filler bytes",
        filled.acked.len(),
        filled.filler_bytes
    );
}
