//! `bench ingest`: the real server over loopback HTTP, posting telemetry in
//! 1,000-event batches and as single events, on SQLite and (when reachable)
//! PostgreSQL; and, on the same database in the same run, the backend's own
//! ceiling: 1,000-row multi-row INSERTs straight into `telemetry_events`.
//! Every event id is fresh, so every event is a real insert and fold.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{SecondsFormat, Utc};
use serde_json::json;
use sqlx::QueryBuilder;

use calos_core::customer::{DisplayText, Email, NewCustomer, Notes};
use calos_core::ids::{InstallId, LicenseKey};
use calos_core::license::{BillingPeriod, License, LicenseTerms};
use calos_core::plan::PlanSlug;
use calos_server::app::{self, AppState};
use calos_server::config::Config;
use calos_store::{CustomerRef, NewLicense};

const BATCH: usize = 1_000;
const BATCHES: usize = 150;
const SINGLES: usize = 6_000;
const CONNECTIONS: usize = 8;
const INSTALL: &str = "bench-ingest-install-0001";

pub async fn run() -> anyhow::Result<()> {
    println!("ingest: {BATCHES} batches of {BATCH} events and {SINGLES} single-event posts over {CONNECTIONS} connections; ceiling: {BATCHES} × {BATCH}-row INSERTs");
    crate::backends::for_each("ingest.db", |name, url, dir| async move {
        backend(name, &url, &dir).await
    })
    .await
}

async fn backend(name: &str, url: &str, dir: &std::path::Path) -> anyhow::Result<()> {
    let config = Config {
        // The rate limiter still runs (its cost is measured) but never refuses.
        telemetry_events_per_minute: Some(u32::MAX),
        ..crate::backends::config(url, dir)
    };
    let (listener, addr, state) = app::build(config).await?;
    let key = license(&state).await?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::run(listener, state.clone(), async move {
        let _ = stop_rx.await;
    }));
    let target = format!("http://{addr}/api/v1/telemetry");

    let batches = bodies("b", BATCHES, BATCH, &key);
    let batch_rate = post_all(&target, batches, BATCH).await?;
    let singles = bodies("s", SINGLES, 1, &key);
    let single_rate = post_all(&target, singles, 1).await?;
    let _ = stop_tx.send(());
    server.await.context("server task")??;

    let ceiling = ceiling(url).await?;
    println!("{name:<9} batches {batch_rate:>9.0} events/s   singles {single_rate:>8.0} events/s   ceiling {ceiling:>9.0} rows/s   batches = {:.0}% of the ceiling",
        batch_rate * 100.0 / ceiling);
    Ok(())
}

/// A license on the enterprise plan; returns its key.
async fn license(state: &AppState) -> anyhow::Result<String> {
    let now = Utc::now();
    let install_id = InstallId::parse(INSTALL)?;
    let key = LicenseKey::from_random_bytes([9u8; 32]);
    let license = License::create(
        LicenseTerms {
            install_id: install_id.clone(),
            customer_id: 0,
            plan: PlanSlug::parse("enterprise")?,
            billing_period: BillingPeriod::Monthly,
            trial_days: 0,
            notes: Notes::parse("")?,
            domains: Vec::new(),
        },
        now,
    );
    let new = NewLicense {
        customer: CustomerRef::New(NewCustomer {
            name: DisplayText::parse("name", "Bench Ingest")?,
            email: Email::parse("bench-ingest@example.com")?,
            company: None,
        }),
        license,
        key_hash: state.hasher.hash(&key),
        owner: None,
    };
    let audit = calos_core::audit::AuditEntry {
        at: now,
        actor: calos_core::audit::Actor::System,
        action: "license.create".into(),
        target_type: "license".into(),
        target_id: INSTALL.into(),
        before: None,
        after: None,
        ip: None,
    };
    state.store.create_license(&new, &audit).await?;
    Ok(key.expose().to_owned())
}

/// `count` request bodies of `size` events each, every event id fresh:
/// realistic events (20 users, 50 sessions, a few features and types).
fn bodies(prefix: &str, count: usize, size: usize, key: &str) -> Vec<Vec<u8>> {
    let ts = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let kinds = ["page_view", "feature_used", "api_call", "error"];
    let features = ["pos", "reports", "crypto", "dashboard"];
    (0..count)
        .map(|b| {
            let events: Vec<_> = (0..size)
                .map(|n| {
                    let k = b * size + n;
                    json!({"eventId": format!("{prefix}-{k}"), "type": kinds[k % 4], "feature": features[k % 3],
                        "user": format!("user-{}", k % 20), "session": format!("session-{}", k % 50), "ts": ts,
                        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120", "endpoint": "/api/pos/sale",
                        "durationMs": (k % 900) as f64, "status": 200, "props": {"method": "POST"}})
                })
                .collect();
            serde_json::to_vec(&json!({"installId": INSTALL, "licenseKey": key, "events": events})).unwrap_or_default()
        })
        .collect()
}

/// Posts every body once from `CONNECTIONS` tasks; returns accepted events/s.
async fn post_all(url: &str, bodies: Vec<Vec<u8>>, per_body: usize) -> anyhow::Result<f64> {
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (bodies, next, accepted, url) = (
            bodies.clone(),
            next.clone(),
            accepted.clone(),
            url.to_owned(),
        );
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let resp = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?;
                let ack: serde_json::Value = resp.json().await?;
                accepted.fetch_add(ack["accepted"].as_u64().unwrap_or(0), Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let got = accepted.load(Ordering::Relaxed);
    let wanted = (bodies.len() * per_body) as u64;
    anyhow::ensure!(got == wanted, "only {got} of {wanted} events were accepted");
    Ok(got as f64 / elapsed.max(f64::EPSILON))
}

/// The backend's own bulk-insert ceiling: the same rows, 1,000 per INSERT,
/// from the same number of connections, straight into `telemetry_events`.
async fn ceiling(url: &str) -> anyhow::Result<f64> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let now = Utc::now();
    let props = json!({"method": "POST"});
    let mut tasks = Vec::new();
    if url.starts_with("sqlite:") {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(CONNECTIONS as u32)
            .connect_with(
                url.parse::<sqlx::sqlite::SqliteConnectOptions>()?
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(30)),
            )
            .await?;
        for _ in 0..CONNECTIONS {
            let (pool, next, props) = (pool.clone(), next.clone(), props.to_string());
            tasks.push(tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < BATCHES {
                    let b = next.load(Ordering::Relaxed);
                    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                    let mut qb = QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO telemetry_events (install_id, event_id, type, feature, user_hash, session, ts, user_agent, endpoint, duration_ms, status, error, props_json, received_at) ");
                    qb.push_values(0..BATCH, |mut row, n| {
                        let k = b * BATCH * 10 + n;
                        row.push_bind(INSTALL).push_bind(format!("c-{k}-{}", uuid::Uuid::new_v4().simple())).push_bind("page_view").push_bind("pos")
                            .push_bind(format!("user-{}", k % 20)).push_bind(format!("session-{}", k % 50)).push_bind(now.timestamp_micros())
                            .push_bind("Mozilla/5.0 (X11; Linux x86_64) Chrome/120").push_bind("/api/pos/sale").push_bind((k % 900) as i64)
                            .push_bind(200i64).push_bind(None::<String>).push_bind(props.clone()).push_bind(now.timestamp_micros());
                    });
                    qb.build().execute(&mut *tx).await?;
                    tx.commit().await?;
                }
                anyhow::Ok(())
            }));
        }
    } else {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(CONNECTIONS as u32)
            .connect(url)
            .await?;
        for _ in 0..CONNECTIONS {
            let (pool, next, props) = (pool.clone(), next.clone(), props.clone());
            tasks.push(tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < BATCHES {
                    let mut qb = QueryBuilder::<sqlx::Postgres>::new("INSERT INTO telemetry_events (install_id, event_id, type, feature, user_hash, session, ts, user_agent, endpoint, duration_ms, status, error, props_json) ");
                    qb.push_values(0..BATCH, |mut row, n| {
                        row.push_bind(INSTALL).push_bind(format!("c-{n}-{}", uuid::Uuid::new_v4().simple())).push_bind("page_view").push_bind("pos")
                            .push_bind(format!("user-{}", n % 20)).push_bind(format!("session-{}", n % 50)).push_bind(now)
                            .push_bind("Mozilla/5.0 (X11; Linux x86_64) Chrome/120").push_bind("/api/pos/sale").push_bind((n % 900) as i64)
                            .push_bind(200i32).push_bind(None::<String>).push_bind(props.clone());
                    });
                    qb.build().execute(&pool).await?;
                }
                anyhow::Ok(())
            }));
        }
    }
    for t in tasks {
        t.await??;
    }
    Ok((BATCHES * BATCH) as f64 / start.elapsed().as_secs_f64().max(f64::EPSILON))
}
