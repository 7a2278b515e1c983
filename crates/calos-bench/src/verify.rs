//! `bench verify-inprocess` (and `bench verify` when `wrk` is not
//! installed): the real server (SQLite, then PostgreSQL when reachable) with
//! 10k licenses, loaded over loopback HTTP by 64 connections from a reqwest
//! load generator in this same process; then the floor ([`crate::floor`]:
//! the server's router, layers and accept loop answering without any
//! lookup). The load generator shares the CPUs with the server it measures,
//! so run-to-run spread is large on a small machine: `verify_wrk` is the
//! steadier measurement. The seeding and settling here are shared with it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;

use calos_core::customer::{DisplayText, Email, NewCustomer, Notes};
use calos_core::ids::{InstallId, LicenseKey};
use calos_core::license::{BillingPeriod, License, LicenseTerms};
use calos_core::plan::PlanSlug;
use calos_core::protocol::VerifyRequest;
use calos_server::app::{self, AppState};
use calos_server::config::Config;
use calos_store::{CustomerRef, DeliveryQuery, DeliveryStatus, NewLicense};

use crate::load::{self, Figures};

pub(crate) const LICENSES: usize = 10_000;
pub(crate) const CONNECTIONS: usize = 64;
const WARMUP: Duration = Duration::from_secs(2);
const MEASURE: Duration = Duration::from_secs(10);

pub async fn run() -> anyhow::Result<()> {
    println!(
        "verify: {LICENSES} licenses, {CONNECTIONS} connections, {}s per run after a {}s warm-up",
        MEASURE.as_secs(),
        WARMUP.as_secs()
    );
    let mut results: Vec<(&str, Figures)> = Vec::new();

    let dir = tempfile::tempdir()?;
    let sqlite_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let (figures, sqlite_state) = bench_server(&sqlite_url, dir.path()).await?;
    println!("sqlite    {figures}");
    results.push(("sqlite", figures));

    let pg_admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    match crate::backends::create_pg_db(&pg_admin).await {
        Ok((url, name)) => {
            let outcome = bench_server(&url, dir.path()).await;
            crate::backends::drop_pg_db(&pg_admin, &name).await;
            let (figures, _) = outcome?;
            println!("postgres  {figures}");
            results.push(("postgres", figures));
        }
        Err(e) => println!("postgres  skipped: {e:#}"),
    }

    let floor = bench_floor(sqlite_state).await?;
    println!("floor     {floor}");
    for (name, f) in &results {
        println!(
            "{name:<9} = {:.0}% of the floor's throughput, p99 {:.2}x the floor's",
            f.per_second * 100.0 / floor.per_second,
            f.p99.as_secs_f64() / floor.p99.as_secs_f64().max(f64::EPSILON)
        );
    }
    Ok(())
}

/// Starts the real server on `url`, fills it, loads it; returns the figures
/// and its state (the floor runs on its store and key).
async fn bench_server(url: &str, dir: &std::path::Path) -> anyhow::Result<(Figures, AppState)> {
    let config = Config {
        // One client IP and 4 requests/s per license: high limits keep the
        // limiter's cost in the measurement without refusing anything.
        verify_per_install_per_minute: 1_000_000,
        verify_per_ip_per_minute: u32::MAX,
        ..crate::backends::config(url, dir)
    };
    let (listener, addr, state) = app::build(config).await?;
    let started = Instant::now();
    let bodies = Arc::new(fill(&state).await?);
    println!(
        "  {} licenses stored in {:.1}s ({})",
        bodies.len(),
        started.elapsed().as_secs_f64(),
        state.store.backend()
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::run(listener, state.clone(), async move {
        let _ = stop_rx.await;
    }));
    let target = format!("http://{addr}/api/v1/license/verify");
    settle_notifications(&state).await?;
    // First pass loads every license into the cache; then a warm-up.
    load::run(&target, bodies.clone(), CONNECTIONS, Duration::from_secs(3)).await?;
    // The first batch of "last seen" writes covers every instance (10 000
    // rows, then nothing for a minute). A server reaches its steady state
    // after it, so it is written here, not left to land in the measured window.
    let flush_started = Instant::now();
    let flushed = state
        .licensing
        .writes
        .flush(state.store.as_ref())
        .await
        .context("first verify write batch")?;
    println!(
        "  first write batch: {flushed} rows in {:.1}s",
        flush_started.elapsed().as_secs_f64()
    );
    load::run(&target, bodies.clone(), CONNECTIONS, WARMUP).await?;
    let figures = load::run(&target, bodies, CONNECTIONS, MEASURE).await?;
    let _ = stop_tx.send(());
    server.await.context("server task")??;
    Ok((figures, state))
}

/// Creating 10,000 licenses enqueued 10,000 `license.created` notifications
/// (each license's own transaction does, as in production). The server's
/// delivery worker works them off in the background; a vendor's server is
/// measured in its steady state, after that one-off backlog, not while the
/// database spends the two cores on it.
pub(crate) async fn settle_notifications(state: &AppState) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let mut open = 0;
        for status in [DeliveryStatus::Pending, DeliveryStatus::Sending] {
            let query = DeliveryQuery {
                status: Some(status),
                channel: None,
                endpoint_id: None,
                install_id: None,
                page: 1,
                per_page: 1,
            };
            open += state.store.list_deliveries(&query).await?.total;
        }
        if open == 0 {
            println!(
                "  notification backlog delivered in {:.1}s",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "{open} notifications still undelivered after 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Stores the licenses and returns one verify body per license.
pub(crate) async fn fill(state: &AppState) -> anyhow::Result<Vec<Vec<u8>>> {
    let now = Utc::now();
    let mut bodies = Vec::with_capacity(LICENSES);
    for n in 0..LICENSES {
        let install_id = InstallId::parse(&format!("bench-install-{n:06}"))?;
        let mut secret = [0u8; 32];
        secret[..8].copy_from_slice(&(n as u64).to_le_bytes());
        let key = LicenseKey::from_random_bytes(secret);
        let license = License::create(
            LicenseTerms {
                install_id: install_id.clone(),
                customer_id: 0,
                plan: PlanSlug::parse("pro")?,
                billing_period: BillingPeriod::Monthly,
                trial_days: 0,
                notes: Notes::parse("")?,
                domains: Vec::new(),
            },
            now,
        );
        let new = NewLicense {
            customer: CustomerRef::New(NewCustomer {
                name: DisplayText::parse("name", &format!("Bench {n}"))?,
                email: Email::parse(&format!("bench{n}@example.com"))?,
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
            target_id: install_id.to_string(),
            before: None,
            after: None,
            ip: None,
        };
        // Already there from an earlier run on the same database: fine.
        match state.store.create_license(&new, &audit).await {
            Ok(_) | Err(calos_store::StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        bodies.push(serde_json::to_vec(&VerifyRequest {
            install_id: install_id.to_string(),
            license_key: key.expose().to_owned(),
            domain: Some("app.example.com".into()),
            instance_id: "bench-node-1".into(),
            version: Some("1.0.0".into()),
            nonce: format!("nonce-{n}"),
        })?);
    }
    Ok(bodies)
}

/// The floor ([`crate::floor`]) on `state`'s store and key, served by the
/// server's own accept loop, loaded like the server.
async fn bench_floor(state: AppState) -> anyhow::Result<Figures> {
    let limits = app::connections::Limits::from_config(&state.config);
    let (listener, addr) = app::bind(&state.config).await?;
    let router = crate::floor::router(state)?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::connections::serve(
        listener,
        router,
        None,
        limits,
        async move {
            let _ = stop_rx.await;
        },
    ));
    let bodies = Arc::new(
        (0..LICENSES)
            .map(|n| {
                serde_json::to_vec(&VerifyRequest {
                    install_id: format!("bench-install-{n:06}"),
                    license_key: format!("calos_lk_{}", "0".repeat(64)),
                    domain: Some("app.example.com".into()),
                    instance_id: "bench-node-1".into(),
                    version: Some("1.0.0".into()),
                    nonce: format!("nonce-{n}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
    );
    let target = format!("http://{addr}/api/v1/license/verify");
    load::run(&target, bodies.clone(), CONNECTIONS, WARMUP).await?;
    let figures = load::run(&target, bodies, CONNECTIONS, MEASURE).await?;
    let _ = stop_tx.send(());
    server.await.context("floor task")?;
    Ok(figures)
}
