//! Prometheus metrics: what the server counts while it works, and what it
//! samples when scraped. Served at `GET /metrics` (see [`route`]) in the
//! Prometheus text format 0.0.4.
//!
//! The hot paths only touch pre-resolved handles: a verify adds one to a
//! counter picked by array index, a request looks its route's handles up in
//! a per-thread map (see [`http`]); no label map is locked per request.
//! Gauges that describe state (outbox backlog, pool use, cache size, RSS)
//! are sampled at scrape time, so nothing polls between scrapes.

pub mod http;
pub mod port;
pub mod route;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use calos_core::protocol::TelemetryAck;
use calos_core::verdict::VerdictCode;

use crate::app::AppState;

/// Request latency buckets, in seconds: verify answers in well under a
/// millisecond, culture profiles and PDFs take tens to hundreds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The longest a scrape waits for the outbox count; a slow or down database
/// must not hang Prometheus (the previous value is kept).
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(2);

/// Every verdict code, in the order of [`verdict_index`]: all are exported
/// from the start (at zero), so dashboards and `rate()` see every series.
const VERDICT_CODES: [VerdictCode; 12] = [
    VerdictCode::Valid,
    VerdictCode::Trial,
    VerdictCode::TrialExpired,
    VerdictCode::Expired,
    VerdictCode::ValidInGrace,
    VerdictCode::Suspended,
    VerdictCode::Revoked,
    VerdictCode::UnknownInstall,
    VerdictCode::BadLicenseKey,
    VerdictCode::DomainNotAllowed,
    VerdictCode::TooManyInstances,
    VerdictCode::RateLimited,
];

/// Exhaustive on purpose: a new verdict code fails to compile here until it
/// gets its counter.
fn verdict_index(code: VerdictCode) -> usize {
    match code {
        VerdictCode::Valid => 0,
        VerdictCode::Trial => 1,
        VerdictCode::TrialExpired => 2,
        VerdictCode::Expired => 3,
        VerdictCode::ValidInGrace => 4,
        VerdictCode::Suspended => 5,
        VerdictCode::Revoked => 6,
        VerdictCode::UnknownInstall => 7,
        VerdictCode::BadLicenseKey => 8,
        VerdictCode::DomainNotAllowed => 9,
        VerdictCode::TooManyInstances => 10,
        VerdictCode::RateLimited => 11,
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: &'static str,
    /// The status class (`2xx`, `4xx`…): bounded, and what alerts use.
    pub status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

pub type DurationFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// A server's metrics: one registry per [`AppState`], so servers in one
/// process (the tests) count apart.
pub struct Metrics {
    registry: Registry,
    /// Tells this instance's entries apart in the per-thread route caches.
    id: u64,
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) durations: DurationFamily,
    verdicts: [Counter; 12],
    events_accepted: Counter,
    events_duplicate: Counter,
    events_rejected: Counter,
    batches_stored: Counter,
    batches_refused: Counter,
    outbox: Family<StateLabel, Gauge>,
    cache_hits: Counter,
    cache_misses: Counter,
    cache_entries: Gauge,
    pool: Family<StateLabel, Gauge>,
    pool_max: Gauge,
    sample_errors: Counter,
    rss: Gauge,
    /// The separate metrics port, bound early by `calos serve` (so a taken
    /// port fails start-up) and served by a worker.
    pub(crate) port_listener: Mutex<Option<std::net::TcpListener>>,
    pub(crate) port_addr: OnceLock<std::net::SocketAddr>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "calos_http_requests",
            "HTTP requests by matched route, method and status class",
            requests.clone(),
        );
        let durations: DurationFamily = Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "calos_http_request_duration",
            "Time to answer an HTTP request (to the response head), by matched route and method",
            Unit::Seconds,
            durations.clone(),
        );

        let verdict_family = Family::<CodeLabel, Counter>::default();
        let verdicts = VERDICT_CODES.map(|code| {
            verdict_family.get_or_create_owned(&CodeLabel {
                code: code.as_str(),
            })
        });
        registry.register(
            "calos_verify_verdicts",
            "Signed verify verdicts by code (UNKNOWN_INSTALL is answered as BAD_LICENSE_KEY)",
            verdict_family,
        );

        let events = Family::<OutcomeLabel, Counter>::default();
        let event = |outcome| events.get_or_create_owned(&OutcomeLabel { outcome });
        let (events_accepted, events_duplicate, events_rejected) =
            (event("accepted"), event("duplicate"), event("rejected"));
        registry.register(
            "calos_telemetry_events",
            "Telemetry events in answered batches: stored, already known, or refused one by one",
            events,
        );
        let batches = Family::<OutcomeLabel, Counter>::default();
        let batch = |outcome| batches.get_or_create_owned(&OutcomeLabel { outcome });
        let (batches_stored, batches_refused) = (batch("answered"), batch("refused"));
        registry.register(
            "calos_telemetry_batches",
            "Telemetry batches: answered per event, or refused whole (auth, size, rate limit)",
            batches,
        );

        let outbox = Family::<StateLabel, Gauge>::default();
        for state in ["pending", "sending", "failed"] {
            drop(outbox.get_or_create(&StateLabel { state }));
        }
        registry.register(
            "calos_outbox_deliveries",
            "Notification deliveries waiting (pending), in flight (sending) or given up (failed)",
            outbox.clone(),
        );

        let cache = Family::<ResultLabel, Counter>::default();
        let cache_hits = cache.get_or_create_owned(&ResultLabel { result: "hit" });
        let cache_misses = cache.get_or_create_owned(&ResultLabel { result: "miss" });
        registry.register(
            "calos_license_cache_lookups",
            "License cache lookups of the verify and telemetry paths: answered from memory or loaded",
            cache,
        );
        let cache_entries = Gauge::default();
        registry.register(
            "calos_license_cache_entries",
            "Installs held in the license cache (known and unknown ones)",
            cache_entries.clone(),
        );

        let pool = Family::<StateLabel, Gauge>::default();
        for state in ["idle", "in_use"] {
            drop(pool.get_or_create(&StateLabel { state }));
        }
        registry.register(
            "calos_db_pool_connections",
            "Open database connections: idle, or lent to a query",
            pool.clone(),
        );
        let pool_max = Gauge::default();
        registry.register(
            "calos_db_pool_max_connections",
            "Most connections the database pool opens",
            pool_max.clone(),
        );

        let sample_errors = Counter::default();
        registry.register(
            "calos_metrics_sample_errors",
            "Scrapes whose store sample failed or timed out (the previous values were kept)",
            sample_errors.clone(),
        );
        let rss = Gauge::default();
        registry.register_with_unit(
            "process_resident_memory",
            "Resident memory of the server process (VmRSS)",
            Unit::Bytes,
            rss.clone(),
        );

        Self {
            registry,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            requests,
            durations,
            verdicts,
            events_accepted,
            events_duplicate,
            events_rejected,
            batches_stored,
            batches_refused,
            outbox,
            cache_hits,
            cache_misses,
            cache_entries,
            pool,
            pool_max,
            sample_errors,
            rss,
            port_listener: Mutex::new(None),
            port_addr: OnceLock::new(),
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Counts one signed verify verdict.
    pub fn verdict(&self, code: VerdictCode) {
        self.verdicts[verdict_index(code)].inc();
    }

    /// Counts one telemetry batch: its events by outcome when it was
    /// answered (`Some`), or one refused batch.
    pub fn telemetry_batch(&self, ack: Option<&TelemetryAck>) {
        match ack {
            Some(ack) => {
                self.batches_stored.inc();
                self.events_accepted.inc_by(ack.accepted);
                self.events_duplicate.inc_by(ack.duplicates);
                self.events_rejected.inc_by(ack.rejected.len() as u64);
            }
            None => {
                self.batches_refused.inc();
            }
        }
    }

    /// The address of the separate metrics port once it is bound.
    pub fn port_addr(&self) -> Option<std::net::SocketAddr> {
        self.port_addr.get().copied()
    }

    /// Samples the state gauges and renders everything as Prometheus text.
    pub async fn render(&self, state: &AppState) -> Result<String, std::fmt::Error> {
        self.sample(state).await;
        let mut out = String::with_capacity(16 * 1024);
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    async fn sample(&self, state: &AppState) {
        match tokio::time::timeout(SAMPLE_TIMEOUT, state.store.outbox_depth()).await {
            Ok(Ok(depth)) => {
                for (name, n) in [
                    ("pending", depth.pending),
                    ("sending", depth.sending),
                    ("failed", depth.failed),
                ] {
                    self.outbox
                        .get_or_create(&StateLabel { state: name })
                        .set(i64::try_from(n).unwrap_or(i64::MAX));
                }
            }
            Ok(Err(e)) => {
                self.sample_errors.inc();
                tracing::warn!(error = %e, "metrics: cannot count the outbox");
            }
            Err(_) => {
                self.sample_errors.inc();
                tracing::warn!("metrics: counting the outbox timed out");
            }
        }
        let pool = state.store.pool_stats();
        self.pool
            .get_or_create(&StateLabel { state: "idle" })
            .set(i64::from(pool.idle));
        self.pool
            .get_or_create(&StateLabel { state: "in_use" })
            .set(i64::from(pool.in_use()));
        self.pool_max.set(i64::from(pool.max));

        let cache = state.license_cache.stats();
        // The cache keeps its own atomics (no dependency on this module);
        // the counters mirror them, so they only ever go up.
        self.cache_hits
            .inner()
            .store(cache.hits, std::sync::atomic::Ordering::Relaxed);
        self.cache_misses
            .inner()
            .store(cache.misses, std::sync::atomic::Ordering::Relaxed);
        self.cache_entries
            .set(i64::try_from(cache.entries).unwrap_or(i64::MAX));

        if let Some(bytes) = resident_bytes() {
            self.rss.set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
    }
}

/// This process's resident set size from `/proc/self/status` (Linux).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    vm_rss_bytes(&status)
}

/// `VmRSS:   123456 kB` → bytes. Shared with the soak benchmark's reading
/// of another process's status file.
pub fn vm_rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verdict_code_has_its_own_counter() {
        let mut seen = [false; 12];
        for code in VERDICT_CODES {
            let i = verdict_index(code);
            assert!(!seen[i], "{code:?} shares a counter");
            seen[i] = true;
        }
    }

    #[test]
    fn vm_rss_is_read_in_bytes() {
        let status = "Name:\tcalos\nVmPeak:\t  9000 kB\nVmRSS:\t   2048 kB\nThreads:\t4\n";
        assert_eq!(vm_rss_bytes(status), Some(2048 * 1024));
        assert_eq!(vm_rss_bytes("Name:\tcalos\n"), None);
    }
}
