//! `bench culture`: p50/p99 of `GET /api/enterprise/customer/{id}/culture`
//! over loopback HTTP for a customer with ~10 thousand raw events (ingested
//! through the store, so every rollup is folded for real) and one with ~10
//! million. Ingesting 10 million events would take most of an hour, so the
//! big customer's rollups — what 10 million events over 90 days fold into,
//! every hour of every day busy — are written straight into the rollup
//! tables with SQL, next to a small raw sample ingested normally, and then
//! folded into the culture totals (hour totals, feature days, distinct
//! users per day, users' last days) by
//! `CultureStore::rebuild_culture_totals` (the statements the migrations
//! run for rollups and memberships that predate the totals; ingest keeps
//! them itself). The analysis reads aggregates only, so its cost
//! follows the aggregate rows, which this reproduces; the raw event count is
//! not what it reads.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use calos_core::audit::{Actor, AuditEntry};
use calos_core::customer::{DisplayText, Email, NewCustomer, Notes};
use calos_core::ids::{InstallId, LicenseKey};
use calos_core::license::{BillingPeriod, License, LicenseTerms};
use calos_core::plan::{Plan, PlanSlug};
use calos_core::telemetry::{EventType, TelemetryEvent};
use calos_server::app::{self, AppState};
use calos_server::config::{Config, Secret};
use calos_store::{CustomerRef, IngestBatch, IngestEvent, MeteringTerms, NewLicense};

const SMALL: &str = "bench-culture-small-0001";
const BIG: &str = "bench-culture-big-00001";
const SMALL_EVENTS: u32 = 10_000;
const RAW_SAMPLE: u32 = 2_000;
const REQUESTS: usize = 300;
const WARMUP: usize = 20;
const FEATURES: [&str; 8] = [
    "pos",
    "reports",
    "dashboard",
    "transcripts",
    "quickbooks",
    "locations",
    "crypto",
    "settings",
];
const AGENTS: [&str; 4] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "python-requests/2.31.0",
];

pub async fn run() -> anyhow::Result<()> {
    println!("culture: {REQUESTS} sequential GETs per customer after {WARMUP} warm-up; small = {SMALL_EVENTS} raw events ingested, big = rollups of ~10M events (90 days × 24 h × 4 types × 8 features, 300 users, 90k sessions) written directly + {RAW_SAMPLE} raw events ingested");
    crate::backends::for_each("culture.db", |name, url, dir| async move {
        backend(name, &url, &dir).await
    })
    .await
}

async fn backend(name: &str, url: &str, dir: &std::path::Path) -> anyhow::Result<()> {
    let config = Config {
        admin_password: Some(Secret::new("bench password 123".to_owned())),
        ..crate::backends::config(url, dir)
    };
    let (listener, addr, state) = app::build(config).await?;
    let now = Utc::now();
    let pro = state
        .store
        .get_plan(&PlanSlug::parse("pro")?)
        .await?
        .context("pro plan")?;
    let small = license(&state, SMALL, now).await?;
    let big = license(&state, BIG, now).await?;
    let t = Instant::now();
    ingest(&state, &small, &pro, SMALL_EVENTS, now).await?;
    ingest(&state, &big, &pro, RAW_SAMPLE, now).await?;
    big_rollups(url, now).await?;
    state
        .store
        .rebuild_culture_totals(std::slice::from_ref(&big.install_id))
        .await?;
    let setup = t.elapsed();
    let token = token(&state).await?;
    for (label, l) in [("10k", &small), ("10M", &big)] {
        let plans = state.store.list_plans().await?;
        let (mut read, mut total) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..10 {
            let t0 = Instant::now();
            let data = state
                .store
                .culture_data(
                    std::slice::from_ref(&l.install_id),
                    &calos_server::culture::gather::window(now),
                )
                .await?;
            read += t0.elapsed();
            drop(data);
            calos_server::culture::analyze_one(state.store.as_ref(), l, &plans, now).await?;
            total += t0.elapsed();
        }
        println!(
            "{name:<9} {label} in process: store read {:.1} ms, read + analyse {:.1} ms",
            read.as_secs_f64() * 100.0,
            (total - read).as_secs_f64() * 100.0
        );
    }

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::run(listener, state.clone(), async move {
        let _ = stop_rx.await;
    }));
    let client = reqwest::Client::builder()
        .default_headers({
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {token}").parse()?,
            );
            h
        })
        .build()?;
    let small_figures = measure(&client, &format!("http://{addr}"), SMALL).await?;
    let big_figures = measure(&client, &format!("http://{addr}"), BIG).await?;
    let _ = stop_tx.send(());
    server.await.context("server task")??;
    println!("{name:<9} setup {:.1} s", setup.as_secs_f64());
    println!("{name:<9} 10k events  {small_figures}");
    println!("{name:<9} 10M events  {big_figures}");
    Ok(())
}

struct Figures {
    p50: Duration,
    p99: Duration,
    rollup_rows: usize,
    score: String,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:>6.2} ms  p99 {:>6.2} ms  (analysed {} events, health {})",
            self.p50.as_secs_f64() * 1000.0,
            self.p99.as_secs_f64() * 1000.0,
            self.rollup_rows,
            self.score
        )
    }
}

async fn measure(client: &reqwest::Client, base: &str, id: &str) -> anyhow::Result<Figures> {
    let url = format!("{base}/api/enterprise/customer/{id}/culture");
    let mut times = Vec::with_capacity(REQUESTS);
    let mut last = serde_json::Value::Null;
    for n in 0..WARMUP + REQUESTS {
        let start = Instant::now();
        let resp = client.get(&url).send().await?;
        anyhow::ensure!(
            resp.status().is_success(),
            "culture answered {}",
            resp.status()
        );
        last = resp.json().await?;
        if n >= WARMUP {
            times.push(start.elapsed());
        }
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    let c = &last["culture"];
    Ok(Figures {
        p50: at(0.50),
        p99: at(0.99),
        rollup_rows: c["activity"]["events"].as_u64().unwrap_or(0) as usize,
        score: format!("{} {}", c["health"]["score"], c["health"]["label"]),
    })
}

async fn license(state: &AppState, id: &str, now: DateTime<Utc>) -> anyhow::Result<License> {
    let install_id = InstallId::parse(id)?;
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
        now - TimeDelta::days(120),
    );
    let new = NewLicense {
        customer: CustomerRef::New(NewCustomer {
            name: DisplayText::parse("name", id)?,
            email: Email::parse(&format!("{id}@example.com"))?,
            company: None,
        }),
        license,
        key_hash: state.hasher.hash(&LicenseKey::from_random_bytes([3u8; 32])),
        owner: None,
    };
    let (_, l) = state.store.create_license(&new, &audit(id, now)).await?;
    Ok(l)
}

fn audit(id: &str, now: DateTime<Utc>) -> AuditEntry {
    AuditEntry {
        at: now,
        actor: Actor::System,
        action: "license.create".into(),
        target_type: "license".into(),
        target_id: id.into(),
        before: None,
        after: None,
        ip: None,
    }
}

async fn token(state: &AppState) -> anyhow::Result<String> {
    calos_server::cli::bootstrap::ensure_first_admin(
        state.store.as_ref(),
        state.config.admin_password.as_ref(),
        Actor::System,
    )
    .await?;
    let admin = state
        .store
        .get_admin_login("admin")
        .await?
        .context("first admin")?
        .0;
    let issued = calos_server::auth::token::issue(admin.id, "bench".into(), Utc::now(), None);
    state
        .store
        .create_api_token(&issued.record, &audit("bench-token", Utc::now()))
        .await?;
    Ok(issued.secret)
}

/// `count` events spread over the last 90 days in office hours: 8 users,
/// sessions of ~10 events, four user agents, eight features.
async fn ingest(
    state: &AppState,
    license: &License,
    plan: &Plan,
    count: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let per_day = f64::from(count) / 90.0;
    let events: Vec<IngestEvent> = (0..count)
        .map(|n| {
            let day = (f64::from(n) / per_day) as i64;
            let minute = i64::from(n % 97) * 5;
            let ts =
                now - TimeDelta::days(90 - day) + TimeDelta::minutes(minute) - TimeDelta::hours(2);
            let user = n / 10 % 8;
            TelemetryEvent {
                install_id: license.install_id.clone(),
                event_id: format!("bench-{n}"),
                event_type: [
                    EventType::PageView,
                    EventType::FeatureUsed,
                    EventType::ApiCall,
                    EventType::FeatureUsed,
                ][n as usize % 4],
                feature: Some(FEATURES[n as usize % FEATURES.len()].to_owned()),
                user: Some(format!("user-{user}")),
                session: Some(format!("s-{}", n / 10)),
                ts: ts.min(now),
                user_agent: Some(AGENTS[user as usize % AGENTS.len()].to_owned()),
                endpoint: None,
                duration_ms: Some(120),
                status: Some(if n % 250 == 0 { 500 } else { 200 }),
                error: None,
                props: serde_json::Map::new(),
            }
        })
        .map(|event| IngestEvent { event, usage: None })
        .collect();
    for chunk in events.chunks(1_000) {
        state
            .store
            .ingest(&IngestBatch {
                install_id: license.install_id.clone(),
                events: chunk.to_vec(),
                terms: MeteringTerms {
                    period_start: license.current_period_start,
                    period_end: license.current_period_end,
                    limits: plan.limits.clone(),
                    prices: plan.usage_prices.clone(),
                    closed_before: None,
                },
            })
            .await?;
    }
    Ok(())
}

/// The big customer's rollups, generated in the database: 2,160 hours × 4
/// types × 8 features (~69k rows, ~145 events each ≈ 10M events), 300 users
/// a day, 1,000 sessions a day, 40 user agents a day.
async fn big_rollups(url: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
    let hour = now.duration_trunc(TimeDelta::hours(1))?;
    let features = FEATURES
        .iter()
        .map(|f| format!("('{f}')"))
        .collect::<Vec<_>>()
        .join(", ");
    let types = "('page_view'), ('feature_used'), ('api_call'), ('error')";
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let h = hour.timestamp_micros();
        let statements = [
            format!("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2159), \
             f(name) AS (VALUES {features}), t(kind) AS (VALUES {types}) \
             INSERT INTO telemetry_rollups SELECT '{BIG}', {h} - (i + 1) * 3600000000, kind, name, \
             CASE kind WHEN 'error' THEN 3 ELSE 190 END, 20, 15, CASE kind WHEN 'error' THEN 3 ELSE 0 END, 19000, 190 \
             FROM n, f, t WHERE true ON CONFLICT DO NOTHING"),
            format!("WITH RECURSIVE d(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM d WHERE i < 90), \
             u(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM u WHERE j < 299) \
             INSERT INTO daily_users SELECT '{BIG}', date({h} / 1000000 - i * 86400, 'unixepoch'), 'big-user-' || j \
             FROM d, u WHERE true ON CONFLICT DO NOTHING"),
            format!("WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 89999) \
             INSERT INTO culture_sessions SELECT '{BIG}', 'big-session-' || i, 'big-user-' || (i % 300), \
             {h} - i * 86400000000 / 1000 - 3600000000, {h} - i * 86400000000 / 1000, 110 FROM s WHERE true ON CONFLICT DO NOTHING"),
            format!("WITH RECURSIVE d(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM d WHERE i < 90), \
             a(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM a WHERE j < 39) \
             INSERT INTO culture_user_agents SELECT '{BIG}', date({h} / 1000000 - i * 86400, 'unixepoch'), \
             'Mozilla/5.0 bench-agent/' || j, 2700 FROM d, a WHERE true ON CONFLICT DO NOTHING"),
        ];
        for s in statements {
            sqlx::query(&s).execute(&pool).await?;
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        let statements = [
            format!("INSERT INTO telemetry_rollups SELECT '{BIG}', $1::timestamptz - (i + 1) * interval '1 hour', kind, name, \
             CASE kind WHEN 'error' THEN 3 ELSE 190 END, 20, 15, CASE kind WHEN 'error' THEN 3 ELSE 0 END, 19000, 190 \
             FROM generate_series(0, 2159) i, (VALUES {features}) f(name), (VALUES {types}) t(kind) ON CONFLICT DO NOTHING"),
            format!("INSERT INTO daily_users SELECT '{BIG}', (($1::timestamptz - i * interval '1 day') AT TIME ZONE 'UTC')::date, 'big-user-' || j \
             FROM generate_series(1, 90) i, generate_series(0, 299) j ON CONFLICT DO NOTHING"),
            format!("INSERT INTO culture_sessions SELECT '{BIG}', 'big-session-' || i, 'big-user-' || (i % 300), \
             $1::timestamptz - i * interval '86.4 seconds' - interval '1 hour', $1::timestamptz - i * interval '86.4 seconds', 110 \
             FROM generate_series(0, 89999) i ON CONFLICT DO NOTHING"),
            format!("INSERT INTO culture_user_agents SELECT '{BIG}', (($1::timestamptz - i * interval '1 day') AT TIME ZONE 'UTC')::date, \
             'Mozilla/5.0 bench-agent/' || j, 2700 FROM generate_series(1, 90) i, generate_series(0, 39) j ON CONFLICT DO NOTHING"),
        ];
        for s in statements {
            sqlx::query(&s).bind(hour).execute(&pool).await?;
        }
        sqlx::query("ANALYZE").execute(&pool).await?;
        pool.close().await;
    }
    Ok(())
}
