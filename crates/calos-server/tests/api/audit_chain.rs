//! `calos audit verify` on the real database of a running server: intact
//! after real API changes, failing and naming the record once a past row is
//! changed with SQL; and the database itself refuses plain UPDATE/DELETE.

use std::process::Output;

use serde_json::{json, Value};
use sqlx::{Connection, Executor};

use crate::helpers::TestApp;

crate::both_backends!(
    verify_passes_then_names_a_tampered_record,
    verify_names_a_deleted_record,
    audit_rows_cannot_be_updated_or_deleted,
);

const BIN: &str = env!("CARGO_BIN_EXE_calos");

async fn audit_verify(app: &TestApp) -> (Output, Value) {
    let out = tokio::process::Command::new(BIN)
        .env_clear()
        .env("DATABASE_URL", &app.state.config.database_url)
        .env("CALOS_DATA_DIR", &app.state.config.data_dir)
        .args(["audit", "verify", "--output", "json"])
        .output()
        .await
        .unwrap();
    let body = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, body)
}

/// Runs `sql` on the app's database as someone with direct access would.
async fn run_sql(app: &TestApp, sql: &str) -> Result<(), sqlx::Error> {
    let url = app.state.config.database_url.clone();
    let sql = sql.to_owned();
    tokio::spawn(async move {
        if url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&url).await?;
            conn.execute(sql.as_str()).await?;
        } else {
            let mut conn = sqlx::PgConnection::connect(&url).await?;
            conn.execute(sql.as_str()).await?;
        }
        Ok(())
    })
    .await
    .unwrap()
}

/// What an attacker with database access does first.
async fn drop_guards(app: &TestApp) {
    let sql = if app.state.config.database_url.starts_with("sqlite:") {
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
    } else {
        "DROP TRIGGER audit_log_no_change ON audit_log;"
    };
    run_sql(app, sql).await.unwrap();
}

/// Three audited changes through the API; the id of the middle audit record.
async fn make_history(app: &TestApp) -> i64 {
    let admin = app.token_client().await;
    for _ in 0..3 {
        app.create_license(&admin, "pro", json!({})).await;
    }
    let chain = app.store().audit_chain(0, 100).await.unwrap();
    assert!(chain.len() >= 4, "token + three licenses are audited");
    chain[chain.len() - 2].id
}

async fn verify_passes_then_names_a_tampered_record(app: &TestApp) {
    let victim = make_history(app).await;
    let (out, body) = audit_verify(app).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(body["ok"], true, "{body}");
    assert!(body["checked"].as_u64().unwrap() >= 4, "{body}");
    assert_eq!(body["head"].as_str().map(str::len), Some(64), "{body}");

    drop_guards(app).await;
    run_sql(
        app,
        &format!("UPDATE audit_log SET target_id = 'someone-else' WHERE id = {victim}"),
    )
    .await
    .unwrap();
    let (out, body) = audit_verify(app).await;
    assert!(
        !out.status.success(),
        "a tampered log must fail verification"
    );
    assert_eq!(body["ok"], false, "{body}");
    assert_eq!(body["brokenAt"]["id"].as_i64(), Some(victim), "{body}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("record {victim}")), "{stderr}");
}

async fn verify_names_a_deleted_record(app: &TestApp) {
    let victim = make_history(app).await;
    drop_guards(app).await;
    run_sql(app, &format!("DELETE FROM audit_log WHERE id = {victim}"))
        .await
        .unwrap();
    let (out, body) = audit_verify(app).await;
    assert!(!out.status.success());
    // The record after the gap no longer links to its predecessor.
    assert!(body["brokenAt"]["id"].as_i64().unwrap() > victim, "{body}");
}

async fn audit_rows_cannot_be_updated_or_deleted(app: &TestApp) {
    let victim = make_history(app).await;
    let update = run_sql(
        app,
        &format!("UPDATE audit_log SET action = 'x' WHERE id = {victim}"),
    )
    .await;
    assert!(update.is_err(), "UPDATE must be refused");
    let delete = run_sql(app, &format!("DELETE FROM audit_log WHERE id = {victim}")).await;
    assert!(delete.is_err(), "DELETE must be refused");
    let (out, body) = audit_verify(app).await;
    assert!(out.status.success(), "{body}");
}
