//! Fault 3 on PostgreSQL: the volume holding CALOS's data fills up under
//! ingest. A private cluster (see `faults_pg_cluster`) gets a tablespace on
//! a small tmpfs volume (`Volume`, CI runs as root) and the test database
//! is created in it, so every table, index and catalog of that database
//! lives there; a filler file then takes the rest of the space.
//!
//! Covered: with the data volume full, PostgreSQL refuses to extend a
//! relation with SQLSTATE 53100 (`disk_full`) and the real `calos serve`
//! binary answers telemetry batches 507 `storage_full` with a JSON error —
//! never a 500, never a 2xx for what was not stored, never a hang. Every
//! event acknowledged with a 2xx is in the database (counted there), the
//! refused ones are not, the cluster and the server stay up, reads (stats,
//! the customer list, `/healthz`) keep answering 200, and deleting the
//! filler file lets ingest resume in the same server process.
//!
//! Not covered: WAL on the full disk. The cluster's `pg_wal` stays on the
//! big disk on purpose — when PostgreSQL cannot write WAL it PANICs and
//! restarts (a crash, not an error a client could be told about), which
//! the outage test (`faults_postgres_outage`: 503 `database_unavailable`,
//! recovery by itself) covers from CALOS's side. A full data volume with
//! WAL elsewhere is the realistic production case (separate WAL volume, or
//! a managed database whose storage limit is on the data). Temporary files
//! of big sorts would fail the same way on this tablespace; the reads here
//! are small enough not to need any.

use std::time::Duration;

use sqlx::{Connection, PgConnection};

use crate::faults_disk_flood::ingest_until_full;
use crate::faults_pg_cluster::PrivatePg;
use crate::faults_support::{calos, log_tail, login, new_license, serve, signal, Creds, Volume};

/// What "never a hang" means here: far under the 30 s request timeout.
const PROMPT: Duration = Duration::from_secs(5);

/// Raw events of `install` in the database, counted by PostgreSQL itself.
async fn count_events(url: &str, install: &str) -> i64 {
    let mut conn = PgConnection::connect(url).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM telemetry_events WHERE install_id = $1")
        .bind(install)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_data_volume_full_answers_507_and_recovers_without_restart() {
    // Declared first, dropped last: the cluster stops before the unmount.
    let Some(volume) = Volume::mount("48m") else {
        return;
    };
    let Some(pg) = PrivatePg::start() else { return };
    let location = volume.path.join("tablespace");
    std::fs::create_dir(&location).unwrap();
    pg.hand_over(&volume.path);
    let mut conn = PgConnection::connect(&pg.url()).await.unwrap();
    sqlx::query(&format!(
        "CREATE TABLESPACE small LOCATION '{}'",
        location.display()
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query("CREATE DATABASE calos TABLESPACE small")
        .execute(&mut conn)
        .await
        .unwrap();
    let url = pg.url_for("calos");

    let dir = tempfile::tempdir().unwrap();
    let (mut server, base) = serve(calos(dir.path(), &url), dir.path()).await;
    let admin = login(&base).await;
    let creds: Creds = new_license(&admin, "PG disk full").await;

    let mut filled = ingest_until_full(&base, &creds, &volume, dir.path(), 1000, || {
        format!("--- postgres:\n{}", pg.log_tail())
    })
    .await;
    assert!(filled.slowest < PROMPT, "a batch took {:?}", filled.slowest);
    let server_log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
    assert!(
        server_log.contains("53100") || server_log.contains("No space left on device"),
        "the server logged PostgreSQL's disk_full cause:\n{}",
        log_tail(dir.path())
    );
    // Still full: the next batch too, promptly, and nothing of it is stored.
    let refused = filled.refused_again(&base, &creds).await;

    // The cluster and the server are up; reads do not need space.
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server is running"
    );
    for path in ["/api/enterprise/stats", "/api/enterprise/customers"] {
        let r = admin.get(path).await;
        assert_eq!(
            r.status.as_u16(),
            200,
            "{path} while full: {}\n{}",
            r.body,
            log_tail(dir.path())
        );
    }
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200, "healthz while full");
    assert_eq!(
        count_events(&url, &creds.id).await,
        filled.acked.len() as i64,
        "every acknowledged event, and nothing refused, is in the database"
    );

    filled.recover(&base, &creds, refused, dir.path()).await;

    signal(&server, "-TERM");
    let exit = server.wait().await.unwrap();
    assert_eq!(exit.code(), Some(0), "{}", log_tail(dir.path()));
    filled.assert_stored(&url, &creds).await;
    eprintln!(
        "postgres disk full: {} events acknowledged, {} filler bytes, slowest batch {:?}",
        filled.acked.len(),
        filled.filler_bytes,
        filled.slowest
    );
    let _ = conn.close().await;
}
