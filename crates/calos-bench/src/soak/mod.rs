//! `bench soak`: a real `calos serve` process (the release binary) under a
//! steady mixed workload — verify, telemetry batches, dashboard reads (the
//! customer list and culture profiles) — for 10 minutes by default, on
//! SQLite and then PostgreSQL when reachable. Every sampling window (a
//! minute) prints the server's RSS (`/proc/<pid>/status`) and the p99 of
//! each kind; the end prints the first window and the last, and judges
//! from the end of the warm-up (the first quarter of the run: the pool
//! opens its connections, SQLite and the allocator fill their caches) to
//! the last window:
//!
//! * RSS growing more than `--max-rss-growth` percent (and more than 8 MiB)
//!   after the warm-up fails the run (non-zero exit): memory must stay flat;
//! * p99 more than doubling (and by more than 5 ms) is a visible warning —
//!   on a shared machine the neighbours move p99 too, so it fails only with
//!   `--strict`.
//!
//! ```text
//! cargo build --release -p calos-server --bin calos
//! cargo run --release -p calos-bench --bin bench -- soak [--duration 10m]
//!     [--backend sqlite|postgres|both] [--sample 60s] [--max-rss-growth 20]
//!     [--strict] [--bin target/release/calos]
//! ```

mod server;
mod workload;

use crate::report::{load_average, ms};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use server::Server;
use workload::{Kind, Rates, Recorder, Target, Window};

/// The steady workload: about 106 requests and 200 telemetry events a
/// second — a busy vendor's fleet, well below the server's ceiling, so that
/// drift (not saturation) is what shows.
const RATES: Rates = Rates {
    verify: 100.0,
    batches: 4.0,
    batch_events: 50,
    lists: 1.0,
    profiles: 1.0,
};
const LICENSES: usize = 20;
/// RSS growth under this many bytes is never a failure (allocator noise).
const RSS_SLACK: u64 = 8 * 1024 * 1024;

struct Options {
    duration: Duration,
    sample: Duration,
    backends: Vec<&'static str>,
    max_rss_growth: f64,
    strict: bool,
    binary: PathBuf,
}

fn parse_duration(raw: &str) -> anyhow::Result<Duration> {
    let (number, unit) = raw
        .find(|c: char| !c.is_ascii_digit())
        .map_or((raw, "s"), |i| raw.split_at(i));
    let n: u64 = number
        .parse()
        .with_context(|| format!("bad duration {raw:?} (e.g. 60s, 10m)"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => bail!("bad duration unit in {raw:?} (s, m or h)"),
    };
    if secs == 0 {
        bail!("the duration must be at least 1 s");
    }
    Ok(Duration::from_secs(secs))
}

impl Options {
    fn parse(args: &[String]) -> anyhow::Result<Self> {
        let mut options = Options {
            duration: Duration::from_secs(600),
            sample: Duration::ZERO,
            backends: vec!["sqlite", "postgres"],
            max_rss_growth: 20.0,
            strict: false,
            binary: server::default_binary(),
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--duration" => options.duration = parse_duration(value()?)?,
                "--sample" => options.sample = parse_duration(value()?)?,
                "--backend" => {
                    options.backends = match value()?.as_str() {
                        "sqlite" => vec!["sqlite"],
                        "postgres" => vec!["postgres"],
                        "both" => vec!["sqlite", "postgres"],
                        other => bail!("--backend is sqlite, postgres or both, not {other:?}"),
                    }
                }
                "--max-rss-growth" => {
                    options.max_rss_growth =
                        value()?.parse().context("--max-rss-growth: percent")?
                }
                "--strict" => options.strict = true,
                "--bin" => options.binary = PathBuf::from(value()?),
                other => bail!("unknown soak flag {other:?}"),
            }
        }
        if options.sample.is_zero() {
            // A minute, or a quarter of a short run (so it has a start and an end).
            options.sample = Duration::from_secs(60)
                .min(options.duration / 4)
                .max(Duration::from_secs(1));
        }
        Ok(options)
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub async fn run(args: Vec<String>) -> anyhow::Result<()> {
    let options = Options::parse(&args)?;
    println!(
        "soak: {}s of {} verify/s, {} telemetry batches/s × {} events, {} customer list/s, {} culture profile/s; {LICENSES} licenses; a sample every {}s; binary {}",
        options.duration.as_secs(),
        RATES.verify,
        RATES.batches,
        RATES.batch_events,
        RATES.lists,
        RATES.profiles,
        options.sample.as_secs(),
        options.binary.display()
    );
    let mut failures = Vec::new();
    for backend in &options.backends {
        let dir = tempfile::tempdir()?;
        let outcome = match *backend {
            "sqlite" => {
                let url = format!("sqlite://{}", dir.path().join("soak.db").display());
                soak(backend, &url, dir.path(), &options).await
            }
            _ => {
                let admin = std::env::var("TEST_DATABASE_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
                match crate::backends::create_pg_db(&admin).await {
                    Ok((url, name)) => {
                        let outcome = soak(backend, &url, dir.path(), &options).await;
                        crate::backends::drop_pg_db(&admin, &name).await;
                        outcome
                    }
                    Err(e) => {
                        println!("postgres  skipped: {e:#}");
                        continue;
                    }
                }
            }
        };
        failures.extend(outcome?);
    }
    if !failures.is_empty() {
        bail!("soak FAILED: {}", failures.join("; "));
    }
    Ok(())
}

/// One backend's soak; returns its failures (empty: passed).
async fn soak(
    backend: &str,
    url: &str,
    dir: &std::path::Path,
    options: &Options,
) -> anyhow::Result<Vec<String>> {
    let server = Server::start(&options.binary, url, dir).await?;
    let installs = server.licenses(LICENSES).await?;
    let idle_rss = server.rss_bytes().unwrap_or(0);
    println!(
        "\n{backend}: server pid {} at {}; RSS before load {:.1} MiB; load average {}",
        server.pid,
        server.base,
        mib(idle_rss),
        load_average()
    );
    println!(
        "{:>6} {:>9} {:>8} {:>6} {:>8} | p99 ms: {:>7} {:>9} {:>9} {:>8} {:>7}",
        "at",
        "RSS MiB",
        "requests",
        "errors",
        "skipped",
        "verify",
        "telemetry",
        "customers",
        "culture",
        "all"
    );
    let target = Arc::new(Target {
        base: server.base.clone(),
        public: reqwest::Client::builder().build()?,
        admin: server.admin.clone(),
        installs,
    });
    let recorder = Arc::new(Recorder::default());
    let start = Instant::now();
    let until = start + options.duration;
    let drivers = workload::start(target, RATES, recorder.clone(), until);

    let mut samples: Vec<(Duration, u64, Window)> = Vec::new();
    let mut next = start + options.sample;
    while next <= until + Duration::from_millis(500) {
        tokio::time::sleep_until(next.into()).await;
        let window = recorder.take();
        let rss = server.rss_bytes().unwrap_or(0);
        let at = start.elapsed();
        print_row(at, rss, &window);
        samples.push((at, rss, window));
        next += options.sample;
    }
    for driver in drivers {
        let _ = driver.await;
    }
    let metrics = server.metrics().await;
    server.stop().await.context("stopping the server")?;

    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        bail!("the run was shorter than one sampling window");
    };
    // The window that ends the warm-up: the first quarter of the run.
    let warm = samples.get(samples.len() / 4).unwrap_or(first);
    Ok(judge(backend, options, [first, warm, last], metrics))
}

fn print_row(at: Duration, rss: u64, w: &Window) {
    let p99 = |k: Kind| ms(w.kinds[Kind::ALL.iter().position(|x| *x == k).unwrap_or(0)].p99);
    println!(
        "{:>5}s {:>9.1} {:>8} {:>6} {:>8} | p99 ms: {:>7.2} {:>9.2} {:>9.2} {:>8.2} {:>7.2}",
        at.as_secs(),
        mib(rss),
        w.all.requests,
        w.all.errors,
        w.skipped,
        p99(Kind::Verify),
        p99(Kind::Telemetry),
        p99(Kind::CustomerList),
        p99(Kind::CultureProfile),
        ms(w.all.p99),
    );
}

/// Start against end; prints the verdict and returns the failures.
fn judge(
    backend: &str,
    options: &Options,
    [first, warm, last]: [&(Duration, u64, Window); 3],
    metrics: anyhow::Result<String>,
) -> Vec<String> {
    let (_, rss_start, w_start) = first;
    let (warm_at, rss_warm, w_warm) = warm;
    let (_, rss_end, w_end) = last;
    let mut failures = Vec::new();
    let growth = (*rss_end as f64 - *rss_warm as f64) * 100.0 / (*rss_warm).max(1) as f64;
    println!(
        "{backend}: start RSS {:.1} MiB, p50/p99 {:.2}/{:.2} ms (verify p99 {:.2} ms); after the warm-up ({}s) RSS {:.1} MiB, p99 {:.2} ms → end RSS {:.1} MiB ({growth:+.1}% since the warm-up), p50/p99 {:.2}/{:.2} ms (verify p99 {:.2} ms); load average {}",
        mib(*rss_start),
        ms(w_start.all.p50),
        ms(w_start.all.p99),
        ms(w_start.kinds[0].p99),
        warm_at.as_secs(),
        mib(*rss_warm),
        ms(w_warm.all.p99),
        mib(*rss_end),
        ms(w_end.all.p50),
        ms(w_end.all.p99),
        ms(w_end.kinds[0].p99),
        load_average()
    );
    if growth > options.max_rss_growth && rss_end.saturating_sub(*rss_warm) > RSS_SLACK {
        let line = format!(
            "{backend}: RSS grew {growth:.1}% (over {}%)",
            options.max_rss_growth
        );
        println!("FAIL  {line}");
        failures.push(line);
    } else {
        println!(
            "ok    {backend}: RSS flat after the warm-up (within {}% or 8 MiB)",
            options.max_rss_growth
        );
    }
    let (p_start, p_end) = (w_warm.all.p99, w_end.all.p99);
    if p_end > p_start * 2 && p_end - p_start > Duration::from_millis(5) {
        let line = format!(
            "{backend}: p99 drifted {:.2} → {:.2} ms",
            ms(p_start),
            ms(p_end)
        );
        if options.strict {
            println!("FAIL  {line}");
            failures.push(line);
        } else {
            println!("WARN  {line} (shared machine? rerun with --strict to fail on it)");
        }
    } else {
        println!("ok    {backend}: p99 steady");
    }
    let errors: u64 = w_end.all.errors + w_start.all.errors;
    if errors > 0 {
        println!("WARN  {backend}: {errors} failed requests in the first and last windows");
    }
    match metrics {
        Ok(text) => {
            let wanted = [
                "calos_verify_verdicts_total{code=\"VALID\"}",
                "calos_telemetry_events_total{outcome=\"accepted\"}",
                "calos_license_cache_lookups_total",
                "calos_db_pool_connections",
                "calos_outbox_deliveries",
                "process_resident_memory_bytes",
            ];
            for line in text
                .lines()
                .filter(|l| wanted.iter().any(|w| l.starts_with(w)))
            {
                println!("  /metrics  {line}");
            }
        }
        Err(e) => println!("WARN  {backend}: cannot read /metrics: {e:#}"),
    }
    failures
}
