//! `bench verify` with the load generator in a process of its own: `wrk`
//! against (a) a real `calos serve` process (the release binary) with 10 000
//! `pro` licenses seeded through the store before it starts and (b) the floor
//! (`bench floor`, see [`crate::floor`]): the same router, layers, accept loop
//! and logging answering without any lookup.
//!
//! Per backend: seed, start both servers, wait for the seed's notification
//! backlog, one pass over every license (fills the cache; its first write
//! batch — one row per instance — is waited for), then `ROUNDS` rounds, each
//! measuring the floor and verify once (1 s warm-up, 4 s measured), in
//! ABBA order so a drift of the machine hits both alike. The server not being
//! measured is paused (SIGSTOP), so verify's background work (batched
//! writes, workers) never lands in the floor's window. Figures are medians
//! over the rounds; the verdict is the median of each round's own ratio of
//! verify to the floor (see [`crate::paired`]: many short paired rounds see
//! through a host whose speed moves from one window to the next). Then as
//! many windows load both servers at once ([`crate::side_by_side`]): the
//! throughput ratio the host's changing speed cannot move.
//!
//! Pinned by default on a machine with 2+ CPUs: both servers on CPU 0, wrk on
//! CPU 1, so the load generator never takes CPU from the server it measures
//! and both servers get exactly one core. `--no-pin` lets the scheduler place
//! everything.

use crate::report::{load_average, ms};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use sqlx::Connection;

use calos_server::app::AppState;
use calos_server::config::{Config, Overrides};

use crate::child::{Server, Spec};
use crate::paired::{Round, Run, Spread};
use crate::side_by_side;
use crate::verify::{fill, settle_notifications, CONNECTIONS, LICENSES};
use crate::wrk::Wrk;

/// Twelve pairs of 4 s windows: the median of twelve paired ratios moves
/// about a third as much as one pair's ratio.
const ROUNDS: usize = 12;
const THREADS: usize = 2;
const WARMUP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(4);
/// One pass of the fill: repeated until every license has been asked about.
const FILL_PASS: Duration = Duration::from_secs(3);
const VERIFY_PATH: &str = "/api/v1/license/verify";
/// The targets.
const MIN_THROUGHPUT: f64 = 0.90;
const MAX_P99: f64 = 1.20;

/// Command-line options after the scenario name.
#[derive(Debug, Clone)]
pub struct Options {
    pub pin: bool,
    pub rounds: usize,
}

impl Options {
    pub fn parse(args: &[String]) -> anyhow::Result<Options> {
        let mut options = Options {
            pin: true,
            rounds: ROUNDS,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--no-pin" => options.pin = false,
                "--rounds" => {
                    options.rounds = args
                        .next()
                        .context("--rounds needs a number")?
                        .parse()
                        .context("--rounds needs a number")?;
                    anyhow::ensure!(options.rounds > 0, "--rounds must be at least 1");
                }
                other => anyhow::bail!("unknown option {other:?} (known: --no-pin, --rounds N)"),
            }
        }
        Ok(options)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Floor,
    Verify,
}

/// Medians of one target's runs.
#[derive(Debug, Clone, Copy)]
struct Medians {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    cpu_us: f64,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    crate::wrk::ensure_installed()?;
    let calos = calos_binary()?;
    let bench = std::env::current_exe().context("cannot find the bench binary")?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pin = options.pin && cpus >= 2;
    println!(
        "verify (wrk): {LICENSES} licenses, wrk {THREADS} threads × {CONNECTIONS} connections, \
         {} rounds of floor + verify ({}s measured after {}s warm-up each, ABBA order)",
        options.rounds,
        MEASURE.as_secs(),
        WARMUP.as_secs()
    );
    println!(
        "  {cpus} CPUs; {}; server logs: RUST_LOG={} to /dev/null; load average {}",
        if pin {
            "servers pinned to CPU 0, wrk to CPU 1"
        } else {
            "nothing pinned"
        },
        std::env::var("RUST_LOG").unwrap_or_else(|_| "(the server's default)".into()),
        load_average()
    );
    let setup = Setup {
        calos,
        bench,
        server_cpus: pin.then(|| "0".to_owned()),
        wrk_cpus: pin.then(|| "1".to_owned()),
        rounds: options.rounds,
    };

    let mut summaries = Vec::new();
    // `BENCH_DIR` keeps the SQLite database and scripts (for a profiler run
    // against the same data, see scripts/verify-callgrind.sh).
    let temp = tempfile::tempdir()?;
    let kept = std::env::var_os("BENCH_DIR").map(PathBuf::from);
    let root = kept.as_deref().unwrap_or(temp.path());
    let sqlite_dir = root.join("sqlite");
    std::fs::create_dir_all(&sqlite_dir)?;
    let sqlite_url = format!("sqlite://{}", sqlite_dir.join("bench.db").display());
    summaries.push((
        "sqlite",
        run_backend(&setup, "sqlite", &sqlite_url, &sqlite_dir).await?,
    ));

    let pg_admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    match crate::backends::create_pg_db(&pg_admin).await {
        Ok((url, name)) => {
            let pg_dir = root.join("postgres");
            std::fs::create_dir_all(&pg_dir)?;
            let outcome = run_backend(&setup, "postgres", &url, &pg_dir).await;
            crate::backends::drop_pg_db(&pg_admin, &name).await;
            summaries.push(("postgres", outcome?));
        }
        Err(e) => println!("postgres  skipped: {e:#}"),
    }

    println!(
        "\nmedians over {} rounds (load average {}); ratios are the median of the rounds' own \
         ratios [first – third quartile]:",
        options.rounds,
        load_average()
    );
    for (backend, measured) in &summaries {
        summarise(backend, &measured.rounds);
        summarise_together(&measured.together);
    }
    Ok(())
}

/// The side-by-side line: the throughput ratio the host's speed cannot move.
fn summarise_together(windows: &[Round]) {
    let (Some(throughput), Some(cpu)) = (
        Round::spread(windows, Round::throughput),
        Round::spread(windows, Round::cpu),
    ) else {
        return;
    };
    println!(
        "          side by side ({} windows, both loaded at once on one CPU): throughput \
         {:.1}% of the floor's [{:.1}–{:.1}%], CPU/req {:.2}× [{:.2}–{:.2}] — throughput \
         target (≥ 90%) {}",
        windows.len(),
        throughput.median * 100.0,
        throughput.q1 * 100.0,
        throughput.q3 * 100.0,
        cpu.median,
        cpu.q1,
        cpu.q3,
        if throughput.median >= MIN_THROUGHPUT {
            "met"
        } else {
            "NOT met"
        }
    );
}

/// One backend's line: medians of each target, then the paired ratios and
/// whether the target holds on them.
fn summarise(backend: &str, rounds: &[Round]) {
    let floor = medians(&rounds.iter().map(|r| r.floor).collect::<Vec<_>>());
    let verify = medians(&rounds.iter().map(|r| r.verify).collect::<Vec<_>>());
    let (Some(throughput), Some(p99), Some(cpu)) = (
        Round::spread(rounds, Round::throughput),
        Round::spread(rounds, Round::p99),
        Round::spread(rounds, Round::cpu),
    ) else {
        println!("{backend:<9} no rounds");
        return;
    };
    let met = throughput.median >= MIN_THROUGHPUT && p99.median <= MAX_P99;
    println!(
        "{backend:<9} floor {:>7.0}/s p50 {:.2} ms p99 {:.2} ms {:.1} µs CPU/req | \
         verify {:>7.0}/s p50 {:.2} ms p99 {:.2} ms {:.1} µs CPU/req\n          \
         throughput {:.0}% of the floor's [{:.0}–{:.0}%], p99 {:.2}× [{:.2}–{:.2}], \
         CPU/req {:.2}× [{:.2}–{:.2}] — target (≥ 90%, ≤ 1.2×) {}",
        floor.per_second,
        ms(floor.p50),
        ms(floor.p99),
        floor.cpu_us,
        verify.per_second,
        ms(verify.p50),
        ms(verify.p99),
        verify.cpu_us,
        throughput.median * 100.0,
        throughput.q1 * 100.0,
        throughput.q3 * 100.0,
        p99.median,
        p99.q1,
        p99.q3,
        cpu.median,
        cpu.q1,
        cpu.q3,
        if met { "met" } else { "NOT met" }
    );
}

struct Setup {
    calos: PathBuf,
    bench: PathBuf,
    server_cpus: Option<String>,
    wrk_cpus: Option<String>,
    rounds: usize,
}

/// Seeds `url`, starts `calos serve` and the floor on it, measures both.
async fn run_backend(
    setup: &Setup,
    backend: &'static str,
    url: &str,
    dir: &Path,
) -> anyhow::Result<Measured> {
    let env = server_env(url, dir);
    let config = Config::load(None, &env.iter().cloned().collect(), &Overrides::default())
        .context("bench configuration")?;
    let flush_interval = config.verify_flush_interval;
    // Migrations, plans and the first signing key, then the licenses: all
    // in the store before either server starts.
    let started = Instant::now();
    let (state, _) = AppState::open(config).await?;
    let bodies = fill(&state).await?;
    println!(
        "{backend}: {} licenses stored in {:.1}s",
        bodies.len(),
        started.elapsed().as_secs_f64()
    );
    let wrk = Wrk {
        script: crate::wrk::write_script(dir, &bodies)?,
        threads: THREADS,
        connections: CONNECTIONS,
        cpus: setup.wrk_cpus.clone(),
    };
    let log_dir = std::env::var_os("BENCH_LOG_DIR").map(PathBuf::from);
    let log = |name: &str| {
        log_dir
            .as_ref()
            .map(|d| d.join(format!("{backend}-{name}.log")))
    };
    let verify_log = log("calos-serve");
    let verify_server = Server::start(&Spec {
        name: "calos serve",
        program: &setup.calos,
        args: &["serve"],
        env: &env,
        cpus: setup.server_cpus.as_deref(),
        log: verify_log.as_deref(),
        ready: "is running at",
    })?;
    let floor_log = log("floor");
    let floor_server = Server::start(&Spec {
        name: "floor",
        program: &setup.bench,
        args: &["floor"],
        env: &env,
        cpus: setup.server_cpus.as_deref(),
        log: floor_log.as_deref(),
        ready: "floor listening at",
    })?;
    floor_server.pause()?;
    settle_notifications(&state).await?;
    drop(state);

    // Fill: every license asked about once (cache, instance tracker), and
    // the first write batch (one row per instance) in the store.
    let verify_url = format!("{}{VERIFY_PATH}", verify_server.base);
    let floor_url = format!("{}{VERIFY_PATH}", floor_server.base);
    let fill_started = Instant::now();
    loop {
        let pass = wrk.run(&verify_url, FILL_PASS)?;
        anyhow::ensure!(pass.errors == 0, "fill pass: {} errors", pass.errors);
        let stored = wait_for_instances(url, flush_interval * 3).await?;
        if stored >= LICENSES {
            break;
        }
        anyhow::ensure!(
            fill_started.elapsed() < Duration::from_secs(300),
            "only {stored} of {LICENSES} instances stored after 5 minutes"
        );
    }
    println!(
        "  every license asked and its first write batch stored in {:.1}s",
        fill_started.elapsed().as_secs_f64()
    );

    let mut rounds = Vec::new();
    for round in 1..=setup.rounds {
        let order = if round % 2 == 1 {
            [Target::Floor, Target::Verify]
        } else {
            [Target::Verify, Target::Floor]
        };
        let (mut floor_run, mut verify_run) = (None, None);
        for target in order {
            let (server, other, url, slot) = match target {
                Target::Floor => (&floor_server, &verify_server, &floor_url, &mut floor_run),
                Target::Verify => (&verify_server, &floor_server, &verify_url, &mut verify_run),
            };
            other.pause()?;
            server.resume()?;
            let run = measure(&wrk, server, url)?;
            println!(
                "  {backend:<8} round {round} {:<6} {}  {:.1} µs CPU/req  (load {})",
                match target {
                    Target::Floor => "floor",
                    Target::Verify => "verify",
                },
                run.figures,
                run.cpu_us_per_request,
                load_average()
            );
            anyhow::ensure!(
                run.figures.errors == 0,
                "{}: {} failed requests",
                server.name,
                run.figures.errors
            );
            *slot = Some(run);
        }
        if let (Some(floor), Some(verify)) = (floor_run, verify_run) {
            let paired = Round { floor, verify };
            println!(
                "  {backend:<8} round {round} verify/floor: throughput {:.0}%, p99 {:.2}×, CPU/req {:.2}×",
                paired.throughput() * 100.0,
                paired.p99(),
                paired.cpu()
            );
            rounds.push(paired);
        }
    }

    // Then both at once, as many windows as rounds (see `side_by_side`).
    verify_server.resume()?;
    floor_server.resume()?;
    let each = Wrk {
        threads: 1,
        ..wrk.clone()
    };
    let floor = (&floor_server, floor_url.as_str());
    let verify = (&verify_server, verify_url.as_str());
    side_by_side::window(floor, verify, &each, WARMUP)?;
    let mut together = Vec::new();
    for window in 1..=setup.rounds {
        let paired = side_by_side::window(floor, verify, &each, MEASURE)?;
        println!(
            "  {backend:<8} side by side {window}: floor {:.0}/s {:.1} µs CPU/req, verify {:.0}/s \
             {:.1} µs CPU/req: throughput {:.0}%, CPU/req {:.2}×",
            paired.floor.figures.per_second,
            paired.floor.cpu_us_per_request,
            paired.verify.figures.per_second,
            paired.verify.cpu_us_per_request,
            paired.throughput() * 100.0,
            paired.cpu()
        );
        anyhow::ensure!(
            paired.floor.figures.errors == 0 && paired.verify.figures.errors == 0,
            "side by side: {} + {} failed requests",
            paired.floor.figures.errors,
            paired.verify.figures.errors
        );
        together.push(paired);
    }
    floor_server.stop();
    verify_server.stop();
    Ok(Measured { rounds, together })
}

/// One backend's measurements: rounds loading one server at a time, and
/// windows loading both at once.
struct Measured {
    rounds: Vec<Round>,
    together: Vec<Round>,
}

/// A warm-up, then the measured run and the server's CPU time over it.
fn measure(wrk: &Wrk, server: &Server, url: &str) -> anyhow::Result<Run> {
    wrk.run(url, WARMUP)?;
    let cpu_before = server.cpu_time()?;
    let figures = wrk.run(url, MEASURE)?;
    Ok(Run::new(
        figures,
        server.cpu_time()?.saturating_sub(cpu_before),
    ))
}

fn medians(runs: &[Run]) -> Medians {
    let median = |f: fn(&Run) -> f64| {
        Spread::of(&runs.iter().map(f).collect::<Vec<_>>()).map_or(0.0, |s| s.median)
    };
    Medians {
        per_second: median(|r| r.figures.per_second),
        p50: Duration::from_secs_f64(median(|r| r.figures.p50.as_secs_f64())),
        p99: Duration::from_secs_f64(median(|r| r.figures.p99.as_secs_f64())),
        cpu_us: median(|r| r.cpu_us_per_request),
    }
}

/// What both servers are started with (and the bench seeds with).
fn server_env(url: &str, dir: &Path) -> Vec<(String, String)> {
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    [
        ("CALOS_DATABASE_URL", url.to_owned()),
        ("CALOS_DATA_DIR", dir.display().to_string()),
        ("CALOS_MASTER_KEY", key),
        ("CALOS_BIND", "127.0.0.1".to_owned()),
        ("CALOS_PORT", "0".to_owned()),
        // One client IP and ~4 requests/s per license: limits high enough
        // to refuse nothing keep the limiters' cost in the measurement.
        ("CALOS_VERIFY_PER_INSTALL_PER_MINUTE", "1000000".to_owned()),
        ("CALOS_VERIFY_PER_IP_PER_MINUTE", u32::MAX.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Waits up to `limit` for the store to hold one instance row per license;
/// returns how many it holds.
async fn wait_for_instances(url: &str, limit: Duration) -> anyhow::Result<usize> {
    let started = Instant::now();
    loop {
        let stored = stored_instances(url).await?;
        if stored >= LICENSES || started.elapsed() >= limit {
            return Ok(stored);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn stored_instances(url: &str) -> anyhow::Result<usize> {
    const COUNT: &str = "SELECT count(*) FROM verify_instances";
    let count: i64 = if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        let n = sqlx::query_scalar(COUNT).fetch_one(&mut conn).await?;
        let _ = conn.close().await;
        n
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let n = sqlx::query_scalar(COUNT).fetch_one(&mut conn).await?;
        let _ = conn.close().await;
        n
    };
    Ok(usize::try_from(count).unwrap_or(0))
}

/// The release `calos` binary next to this one, built first (`cargo run -p
/// calos-bench` builds only the bench); `CALOS_BIN` names another.
fn calos_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("CALOS_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().context("cannot find the bench binary")?;
    let release = exe
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d == "release");
    if !release {
        println!("warning: not a release build; figures mean nothing (use --release)");
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args(["build", "-q", "-p", "calos-server", "--bin", "calos"]);
    if release {
        build.arg("--release");
    }
    let built = build.status().is_ok_and(|s| s.success());
    let calos = exe.with_file_name("calos");
    anyhow::ensure!(
        built || calos.exists(),
        "cannot build the calos binary (cargo build -p calos-server --bin calos)"
    );
    if !built {
        println!(
            "warning: could not rebuild {}; using it as it is",
            calos.display()
        );
    }
    Ok(calos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse() {
        let o = Options::parse(&[]).unwrap();
        assert!(o.pin);
        assert_eq!(o.rounds, ROUNDS);
        let o = Options::parse(&["--no-pin".into(), "--rounds".into(), "5".into()]).unwrap();
        assert!(!o.pin);
        assert_eq!(o.rounds, 5);
        assert!(Options::parse(&["--rounds".into(), "0".into()]).is_err());
        assert!(Options::parse(&["--fast".into()]).is_err());
    }
}
