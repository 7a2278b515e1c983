//! `DATABASE_READ_URL` on a real streaming replica (issue 11's production
//! topology): a private primary (`wal_level = replica`, a replication line
//! in `pg_hba.conf`) and a hot standby made from it with `pg_basebackup -R`
//! on its own port (see `faults_pg_cluster`), never the shared PostgreSQL.
//! The real `calos serve` binary runs with `DATABASE_URL` = the primary and
//! `DATABASE_READ_URL` = the standby.
//!
//! Checked: `pg_stat_replication` on the primary shows the standby
//! streaming; writes (create license) succeed; the analytics reads (the
//! dashboard's customer list, stats, culture) are served by the standby's
//! connections and show a new customer within a bounded wait. With the
//! standby stopped those reads fail fast (under 2 s: the read pool's
//! `db_acquire_timeout_ms`) with 503 `database_unavailable` — they do not
//! fall back to the primary, and never hang — while writes, ingest and
//! `/healthz` (which checks the primary) keep answering 200. When the
//! standby is started again it catches up by streaming and the same calos
//! process reads from it again without a restart.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

use crate::faults_pg_cluster::PrivatePg;
use crate::faults_support::{
    calos, log_tail, login, new_license, post_telemetry, serve, signal, timed, until,
};
use crate::helpers::Api;

/// What "fail fast" means here: well under the 30 s request timeout.
const FAST: Duration = Duration::from_secs(2);

/// The analytics reads that go to the read pool.
fn analytics_paths(install: &str) -> [String; 3] {
    [
        "/api/enterprise/customers".to_owned(),
        "/api/enterprise/stats".to_owned(),
        format!("/api/enterprise/customer/{install}/culture"),
    ]
}

/// One admin GET: status, JSON body and how long the answer took.
async fn timed_get(admin: &Api, path: &str) -> (u16, Value, Duration) {
    timed(admin.client.get(format!("{}{path}", admin.base))).await
}

/// Rows of `sql` (one text column) on the cluster at `url`.
async fn texts(url: &str, sql: &str) -> Vec<String> {
    let mut conn = PgConnection::connect(url).await.unwrap();
    let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap();
    let _ = conn.close().await;
    rows
}

/// Waits until the customer list (read on the standby) shows `install`.
async fn listed_on_standby(admin: &Api, install: &str, within: Duration) {
    until(
        &format!("{install} in the customer list read on the standby"),
        within,
        || async {
            let (status, body, _) = timed_get(admin, "/api/enterprise/customers").await;
            (status == 200 && body.to_string().contains(install)).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_reads_follow_a_streaming_standby_and_fail_fast_without_it() {
    let Some(primary) = PrivatePg::start_primary() else {
        return;
    };
    // Declared after the primary: dropped (stopped) before it.
    let standby = tokio::task::block_in_place(|| PrivatePg::standby_of(&primary));
    let streaming = "SELECT state FROM pg_stat_replication";
    until("the standby streaming", Duration::from_secs(15), || async {
        let states = texts(&primary.url(), streaming).await;
        (states == ["streaming"]).then_some(())
    })
    .await;
    let in_recovery: Vec<bool> = {
        let mut conn = PgConnection::connect(&standby.url()).await.unwrap();
        let r = sqlx::query_scalar("SELECT pg_is_in_recovery()")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let _ = conn.close().await;
        r
    };
    assert_eq!(in_recovery, [true], "the read URL is a hot standby");

    let dir = tempfile::tempdir().unwrap();
    let mut cmd = calos(dir.path(), &primary.url());
    cmd.env("DATABASE_READ_URL", standby.url());
    let (mut server, base) = serve(cmd, dir.path()).await;
    let admin = login(&base).await;

    // A write on the primary shows up in the reads served by the standby.
    let first = new_license(&admin, "Replica first").await;
    listed_on_standby(&admin, &first.id, Duration::from_secs(10)).await;
    for path in analytics_paths(&first.id) {
        let (status, body, _) = timed_get(&admin, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let clients = texts(
        &standby.url(),
        "SELECT coalesce(application_name, '') FROM pg_stat_activity \
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
    )
    .await;
    assert!(
        !clients.is_empty(),
        "calos's read pool is connected to the standby"
    );

    // The standby goes away: analytics reads fail fast and say why.
    tokio::task::block_in_place(|| standby.stop());
    let mut slowest = Duration::ZERO;
    for path in analytics_paths(&first.id) {
        let (status, body, took) = timed_get(&admin, &path).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (503, &json!("database_unavailable")),
            "{path} with the standby down: {body}\n{}",
            log_tail(dir.path())
        );
        assert!(body["error"]["message"].is_string(), "{body}");
        assert!(took < FAST, "{path} answered in {took:?}");
        slowest = slowest.max(took);
    }
    eprintln!("standby down: analytics reads answered 503 in at most {slowest:?}");
    // Writes, ingest and the health check only need the primary.
    let second = new_license(&admin, "Replica second").await;
    let (status, _, _) = post_telemetry(
        &base,
        &json!({"installId": second.id, "licenseKey": second.key,
            "events": [{"eventId": "replica-down-1", "type": "custom", "ts": chrono::Utc::now()}]}),
    )
    .await;
    assert_eq!(status, 200, "ingest with the standby down");
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200, "healthz checks the primary");

    // Back: it catches up, and the same process reads from it again.
    let back_at = Instant::now();
    tokio::task::block_in_place(|| standby.start_again());
    listed_on_standby(&admin, &second.id, Duration::from_secs(20)).await;
    eprintln!(
        "reads recovered {:?} after the standby was started again",
        back_at.elapsed()
    );
    for path in analytics_paths(&second.id) {
        let (status, body, _) = timed_get(&admin, &path).await;
        assert_eq!(status, 200, "{path} after the standby is back: {body}");
    }
    until(
        "the standby streaming again",
        Duration::from_secs(15),
        || async {
            let states = texts(&primary.url(), streaming).await;
            (states == ["streaming"]).then_some(())
        },
    )
    .await;
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server ran throughout"
    );

    signal(&server, "-TERM");
    let exit = server.wait().await.unwrap();
    assert_eq!(exit.code(), Some(0), "{}", log_tail(dir.path()));
}
