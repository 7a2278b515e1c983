//! `bench scale`: CALOS on one PostgreSQL at the size of a large vendor —
//! 10,000 customers and `--events` raw telemetry events (default 50
//! million; see [`crate::scale_seed`] for how they are made) — served by 1
//! and then 3 `calos serve` processes (the release binary) behind a
//! round-robin TCP balancer in this process ([`crate::proxy`]). For each
//! node count it measures, one after the other, `--secs` each:
//!
//! * verify/s: `wrk` posting the 10,000 licenses' verify requests;
//! * ingest events/s: batches of 100 new events posted by 16 connections;
//! * culture-profile p99: `GET /api/enterprise/customer/{id}/culture` over
//!   all customers, 8 connections;
//! * dashboard list p99: `GET /api/enterprise/customers?page=N` (50 a page)
//!   over all 200 pages, 8 connections;
//!
//! and reports the database size (`pg_database_size`) after seeding and at
//! the end. Every process shares the machine's cores, the load generators
//! and PostgreSQL included, so read the load average next to each figure.
//!
//! `cargo run --release -p calos-bench --bin bench -- scale [--events N]
//! [--secs S] [--keep]`

use crate::report::{load_average, ms};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use chrono::Utc;
use sqlx::Connection;

use calos_core::audit::{Actor, AuditEntry};
use calos_server::app::AppState;
use calos_server::config::{Config, Overrides, Secret};

use crate::child::{Server, Spec};
use crate::load::{self, Figures};
use crate::proxy::RoundRobin;
use crate::scale_load;
use crate::verify::{fill, settle_notifications, LICENSES};
use crate::wrk::Wrk;

const DEFAULT_EVENTS: i64 = 50_000_000;
const DEFAULT_SECS: u64 = 10;
const NODE_COUNTS: [usize; 2] = [1, 3];
const VERIFY_CONNECTIONS: usize = 64;
const INGEST_CONNECTIONS: usize = 16;
const EVENTS_PER_BATCH: usize = 100;
const READ_CONNECTIONS: usize = 8;
const PER_PAGE: usize = 50;
const ADMIN_PASSWORD: &str = "bench scale password 123";

#[derive(Debug, Clone)]
pub struct Options {
    pub events: i64,
    pub secs: u64,
    /// Keep the database afterwards (its URL is printed).
    pub keep: bool,
}

impl Options {
    pub fn parse(args: &[String]) -> anyhow::Result<Options> {
        let mut o = Options {
            events: DEFAULT_EVENTS,
            secs: DEFAULT_SECS,
            keep: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut number = |name: &str| -> anyhow::Result<u64> {
                args.next()
                    .with_context(|| format!("{name} needs a number"))?
                    .replace('_', "")
                    .parse()
                    .with_context(|| format!("{name} needs a number"))
            };
            match arg.as_str() {
                "--events" => o.events = i64::try_from(number("--events")?)?,
                "--secs" => o.secs = number("--secs")?.max(1),
                "--keep" => o.keep = true,
                other => {
                    anyhow::bail!("unknown option {other:?} (known: --events N, --secs S, --keep)")
                }
            }
        }
        anyhow::ensure!(
            o.events >= LICENSES as i64,
            "--events must be at least {LICENSES}"
        );
        Ok(o)
    }
}

/// What one node count measured.
struct Row {
    nodes: usize,
    verify: Figures,
    ingest: Figures,
    culture: Figures,
    list: Figures,
    load: [String; 4],
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    crate::wrk::ensure_installed()?;
    let calos = calos_binary()?;
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    println!(
        "scale: {LICENSES} customers, {} raw events on PostgreSQL; 1 and 3 `calos serve` nodes \
         behind a round-robin TCP balancer; {}s per measurement; {} CPUs; load average {}",
        options.events,
        options.secs,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        load_average()
    );
    let (url, name) = crate::backends::create_pg_db(&admin).await?;
    let dir = tempfile::tempdir()?;
    let outcome = scenario(&options, &calos, &url, dir.path()).await;
    if options.keep {
        println!("kept the database: {url}");
    } else {
        crate::backends::drop_pg_db(&admin, &name).await;
    }
    outcome
}

async fn scenario(options: &Options, calos: &Path, url: &str, dir: &Path) -> anyhow::Result<()> {
    let env = node_env(url, dir);
    let config = Config::load(None, &env.iter().cloned().collect(), &Overrides::default())
        .context("bench configuration")?;
    let t = Instant::now();
    let (state, _) = AppState::open(config).await?;
    let verify_bodies = fill(&state).await?;
    let keys = scale_load::keys_of(&verify_bodies)?;
    let token = token(&state).await?;
    println!(
        "  {LICENSES} customers and licenses stored in {:.0}s",
        t.elapsed().as_secs_f64()
    );

    let seeded = crate::scale_seed::seed(url, options.events, LICENSES as i64, Utc::now()).await?;
    let t = Instant::now();
    let installs: Vec<_> = keys
        .iter()
        .map(|(i, _)| calos_core::ids::InstallId::parse(i))
        .collect::<Result<_, _>>()?;
    for chunk in installs.chunks(500) {
        state.store.rebuild_culture_totals(chunk).await?;
    }
    analyze(url).await?;
    println!(
        "  {} events written in {:.0}s ({:.0}/s), folded in {:.0}s, culture totals rebuilt in {:.0}s; \
         database {}",
        seeded.events,
        seeded.raw_secs,
        seeded.events as f64 / seeded.raw_secs.max(f64::EPSILON),
        seeded.fold_secs,
        t.elapsed().as_secs_f64(),
        database_size(url).await?
    );

    let wrk = Wrk {
        script: crate::wrk::write_script(dir, &verify_bodies)?,
        threads: 2,
        connections: VERIFY_CONNECTIONS,
        cpus: None,
    };
    let length = Duration::from_secs(options.secs);
    let mut rows = Vec::new();
    for (round, nodes) in NODE_COUNTS.into_iter().enumerate() {
        let servers = (0..nodes)
            .map(|n| {
                Server::start(&Spec {
                    name: "calos serve",
                    program: calos,
                    args: &["serve"],
                    env: &env,
                    cpus: None,
                    log: None,
                    ready: "is running at",
                })
                .with_context(|| format!("node {}", n + 1))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if round == 0 {
            settle_notifications(&state).await?;
        }
        let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
        let proxy = RoundRobin::start(&bases).await?;
        let base = proxy.base.clone();
        println!("  {nodes} node(s) at {} behind {base}", bases.join(", "));

        // Warm-up: every license into each node's cache.
        wrk.run(
            &format!("{base}/api/v1/license/verify"),
            Duration::from_secs(3),
        )?;
        let verify = wrk.run(&format!("{base}/api/v1/license/verify"), length)?;
        let load_verify = load_average();
        println!("    verify      {verify}  (load {load_verify})");

        let bodies = Arc::new(scale_load::telemetry_bodies(
            &keys,
            20_000,
            EVENTS_PER_BATCH,
            &format!("n{nodes}"),
            Utc::now(),
        )?);
        let ingest = load::run(
            &format!("{base}/api/v1/telemetry"),
            bodies,
            INGEST_CONNECTIONS,
            length,
        )
        .await?;
        let load_ingest = load_average();
        println!(
            "    ingest      {:>9.0} events/s  ({ingest}; load {load_ingest})",
            ingest.per_second * EVENTS_PER_BATCH as f64
        );

        let culture_urls: Arc<Vec<String>> = Arc::new(
            keys.iter()
                .map(|(i, _)| format!("{base}/api/enterprise/customer/{i}/culture"))
                .collect(),
        );
        let culture = scale_load::get(culture_urls, &token, READ_CONNECTIONS, length).await?;
        let load_culture = load_average();
        println!("    culture     {culture}  (load {load_culture})");

        let pages = LICENSES.div_ceil(PER_PAGE);
        let list_urls: Arc<Vec<String>> = Arc::new(
            (1..=pages)
                .map(|p| format!("{base}/api/enterprise/customers?page={p}&perPage={PER_PAGE}"))
                .collect(),
        );
        let list = scale_load::get(list_urls, &token, READ_CONNECTIONS, length).await?;
        let load_list = load_average();
        println!("    list        {list}  (load {load_list})");

        drop(proxy);
        for s in servers {
            s.stop();
        }
        rows.push(Row {
            nodes,
            verify,
            ingest,
            culture,
            list,
            load: [load_verify, load_ingest, load_culture, load_list],
        });
    }
    drop(state);

    println!(
        "\nscale summary ({} seeded events, database {} at the end):",
        options.events,
        database_size(url).await?
    );
    println!("  nodes | verify/s | ingest events/s | culture p99 ms | list p99 ms | errors | load averages (verify, ingest, culture, list)");
    for r in &rows {
        println!(
            "  {:>5} | {:>8.0} | {:>15.0} | {:>14.1} | {:>11.1} | {:>6} | {}",
            r.nodes,
            r.verify.per_second,
            r.ingest.per_second * EVENTS_PER_BATCH as f64,
            ms(r.culture.p99),
            ms(r.list.p99),
            r.verify.errors + r.ingest.errors + r.culture.errors + r.list.errors,
            r.load.join(" / ")
        );
    }
    Ok(())
}

/// What every node is started with (and the bench opens the store with).
fn node_env(url: &str, dir: &Path) -> Vec<(String, String)> {
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    [
        ("CALOS_DATABASE_URL", url.to_owned()),
        ("CALOS_DATA_DIR", dir.display().to_string()),
        ("CALOS_MASTER_KEY", key),
        ("CALOS_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("CALOS_BIND", "127.0.0.1".to_owned()),
        ("CALOS_PORT", "0".to_owned()),
        // One client IP for everything: limits that refuse nothing.
        ("CALOS_VERIFY_PER_INSTALL_PER_MINUTE", "1000000".to_owned()),
        ("CALOS_VERIFY_PER_IP_PER_MINUTE", u32::MAX.to_string()),
        ("CALOS_TELEMETRY_EVENTS_PER_MINUTE", "0".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// An API token of the first admin, for the admin GETs.
async fn token(state: &AppState) -> anyhow::Result<String> {
    let password = Secret::new(ADMIN_PASSWORD.to_owned());
    calos_server::cli::bootstrap::ensure_first_admin(
        state.store.as_ref(),
        Some(&password),
        Actor::System,
    )
    .await?;
    let admin = state
        .store
        .get_admin_login("admin")
        .await?
        .context("first admin")?
        .0;
    let now = Utc::now();
    let issued = calos_server::auth::token::issue(admin.id, "bench-scale".into(), now, None);
    let audit = AuditEntry {
        at: now,
        actor: Actor::System,
        action: "api_token.create".into(),
        target_type: "api_token".into(),
        target_id: "bench-scale".into(),
        before: None,
        after: None,
        ip: None,
    };
    state.store.create_api_token(&issued.record, &audit).await?;
    Ok(issued.secret)
}

async fn analyze(url: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    sqlx::query("ANALYZE").execute(&mut conn).await?;
    let _ = conn.close().await;
    Ok(())
}

async fn database_size(url: &str) -> anyhow::Result<String> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let size: String =
        sqlx::query_scalar("SELECT pg_size_pretty(pg_database_size(current_database()))")
            .fetch_one(&mut conn)
            .await?;
    let _ = conn.close().await;
    Ok(size)
}

/// The release `calos` binary next to this one (`CALOS_BIN` names another);
/// build it first: `cargo build --release -p calos-server --bin calos`.
fn calos_binary() -> anyhow::Result<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("CALOS_BIN") {
        return Ok(path.into());
    }
    let exe = std::env::current_exe().context("cannot find the bench binary")?;
    let calos = exe.with_file_name("calos");
    anyhow::ensure!(
        calos.exists(),
        "no {} (cargo build --release -p calos-server --bin calos)",
        calos.display()
    );
    let release = exe
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d == "release");
    if !release {
        println!("warning: not a release build; figures mean nothing (use --release)");
    }
    Ok(calos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse() {
        let o = Options::parse(&[]).unwrap();
        assert_eq!(
            (o.events, o.secs, o.keep),
            (DEFAULT_EVENTS, DEFAULT_SECS, false)
        );
        let args: Vec<String> = ["--events", "1_000_000", "--secs", "5", "--keep"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let o = Options::parse(&args).unwrap();
        assert_eq!((o.events, o.secs, o.keep), (1_000_000, 5, true));
        assert!(Options::parse(&["--events".into(), "10".into()]).is_err());
        assert!(Options::parse(&["--nodes".into()]).is_err());
    }
}
