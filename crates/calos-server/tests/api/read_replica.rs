//! `DATABASE_READ_URL` (issue 11): analytics reads (the dashboard's
//! customer list, stats, culture profiles) go to the read pool and writes
//! stay on the primary. The "replica" here is the test database itself,
//! reached as `application_name=calos-read` with every transaction read
//! only, as on a hot standby: a write sent there would fail, and
//! `pg_stat_activity` shows which pool ran what.

use serde_json::json;
use sqlx::{Connection, PgConnection};

use calos_server::config::{Config, Secret};

use crate::helpers::{run_on_with, Backend, TestApp};

const READ_APP: &str = "calos-read";

fn read_replica(config: &mut Config) {
    let sep = if config.database_url.contains('?') {
        '&'
    } else {
        '?'
    };
    config.database_read_url = Some(Secret::new(format!(
        "{}{sep}application_name={READ_APP}&options=-c%20default_transaction_read_only%3Don",
        config.database_url
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_reads_use_the_read_pool() {
    run_on_with(Backend::Postgres, read_replica, |app| {
        Box::pin(reads_go_to_the_replica(app))
    })
    .await;
}

async fn reads_go_to_the_replica(app: &TestApp) {
    let admin = app.admin().await;
    // Writes work: they cannot have gone to the read-only pool.
    let created = app.create_license(&admin, "pro", json!({})).await;
    let install = created["installId"].as_str().unwrap().to_owned();

    // Stats: its two store reads (customer count, license facts) run
    // together on the read pool and are the last each connection ran.
    let r = admin.get("/api/enterprise/stats").await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let after_stats = last_read_queries(app).await;
    assert!(
        after_stats
            .iter()
            .any(|q| q.contains("FROM licenses ORDER BY install_id")
                || q.contains("count(*) FROM customers")),
        "the stats were read on the read pool: {after_stats:?}"
    );

    // The list (and the health scores it shows) read there too; the list
    // still sees the license just created (here the "replica" has no lag).
    let r = admin.get("/api/enterprise/customers").await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert!(r.body.to_string().contains(&install), "{}", r.body);
    let after_list = last_read_queries(app).await;
    assert!(
        after_list
            .iter()
            .any(|q| q.contains("JOIN customers c") || q.contains("culture_")),
        "the customer list read on the read pool: {after_list:?}"
    );

    let r = admin
        .get(&format!("/api/enterprise/customer/{install}/culture"))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let after_culture = last_read_queries(app).await;
    assert!(
        after_culture.iter().any(|q| q.contains("culture_")),
        "the culture profile read on the read pool: {after_culture:?}"
    );
    assert!(
        after_culture
            .iter()
            .all(|q| !q.trim_start().to_uppercase().starts_with("INSERT")),
        "nothing is written through the read pool: {after_culture:?}"
    );
}

/// The last statement of each open read-pool connection to the test database.
async fn last_read_queries(app: &TestApp) -> Vec<String> {
    let url = &app.state.config.database_url;
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT query FROM pg_stat_activity WHERE datname = current_database() \
         AND application_name = $1",
    )
    .bind(READ_APP)
    .fetch_all(&mut conn)
    .await
    .expect("pg_stat_activity");
    let _ = conn.close().await;
    assert!(!rows.is_empty(), "the read pool has connections");
    rows
}
