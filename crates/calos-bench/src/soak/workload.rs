//! The soak's mixed workload at a steady (open-loop) rate: each kind of
//! request is sent on its own clock, whatever the answers take, so a server
//! that slows down shows it in latency instead of in a lower rate. In-flight
//! requests are capped; a tick that finds the cap reached is counted as
//! skipped rather than queued without bound.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use super::server::Install;

/// Requests in flight at most, all kinds together.
const IN_FLIGHT: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Verify,
    Telemetry,
    CustomerList,
    CultureProfile,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Verify,
        Kind::Telemetry,
        Kind::CustomerList,
        Kind::CultureProfile,
    ];
}

/// Requests per second of each kind, and the events per telemetry batch.
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    pub verify: f64,
    pub batches: f64,
    pub batch_events: usize,
    pub lists: f64,
    pub profiles: f64,
}

impl Rates {
    fn of(&self, kind: Kind) -> f64 {
        match kind {
            Kind::Verify => self.verify,
            Kind::Telemetry => self.batches,
            Kind::CustomerList => self.lists,
            Kind::CultureProfile => self.profiles,
        }
    }
}

/// Latencies and errors since the last [`Recorder::take`].
#[derive(Default)]
pub struct Recorder {
    latencies: Mutex<[Vec<Duration>; 4]>,
    errors: [AtomicU64; 4],
    skipped: AtomicU64,
}

/// One sampling window's figures of one kind.
#[derive(Debug, Clone, Copy, Default)]
pub struct KindFigures {
    pub requests: usize,
    pub errors: u64,
    pub p50: Duration,
    pub p99: Duration,
}

/// One sampling window: per kind, all together, and ticks skipped.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub kinds: [KindFigures; 4],
    pub all: KindFigures,
    pub skipped: u64,
}

fn index(kind: Kind) -> usize {
    match kind {
        Kind::Verify => 0,
        Kind::Telemetry => 1,
        Kind::CustomerList => 2,
        Kind::CultureProfile => 3,
    }
}

fn figures(mut latencies: Vec<Duration>, errors: u64) -> KindFigures {
    latencies.sort_unstable();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    KindFigures {
        requests: latencies.len(),
        errors,
        p50: pick(0.50),
        p99: pick(0.99),
    }
}

impl Recorder {
    fn record(&self, kind: Kind, latency: Duration, ok: bool) {
        if let Ok(mut all) = self.latencies.lock() {
            all[index(kind)].push(latency);
        }
        if !ok {
            self.errors[index(kind)].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The window since the last call, and starts a new one.
    pub fn take(&self) -> Window {
        let taken = self
            .latencies
            .lock()
            .map(|mut all| std::mem::take(&mut *all))
            .unwrap_or_default();
        let mut window = Window {
            skipped: self.skipped.swap(0, Ordering::Relaxed),
            ..Window::default()
        };
        let mut everything = Vec::new();
        let mut all_errors = 0;
        for (i, latencies) in taken.into_iter().enumerate() {
            let errors = self.errors[i].swap(0, Ordering::Relaxed);
            all_errors += errors;
            everything.extend_from_slice(&latencies);
            window.kinds[i] = figures(latencies, errors);
        }
        window.all = figures(everything, all_errors);
        window
    }
}

/// What the drivers share.
pub struct Target {
    pub base: String,
    /// For the deployments' requests (verify, telemetry).
    pub public: reqwest::Client,
    /// The admin session, for dashboard reads.
    pub admin: reqwest::Client,
    pub installs: Vec<Install>,
}

/// Starts one driver per kind; they stop at `until`, after their last
/// requests are answered.
pub fn start(
    target: Arc<Target>,
    rates: Rates,
    recorder: Arc<Recorder>,
    until: Instant,
) -> Vec<JoinHandle<()>> {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    Kind::ALL
        .into_iter()
        .filter(|k| rates.of(*k) > 0.0)
        .map(|kind| {
            tokio::spawn(drive(
                kind,
                rates,
                target.clone(),
                recorder.clone(),
                slots.clone(),
                until,
            ))
        })
        .collect()
}

async fn drive(
    kind: Kind,
    rates: Rates,
    target: Arc<Target>,
    recorder: Arc<Recorder>,
    slots: Arc<Semaphore>,
    until: Instant,
) {
    let period = Duration::from_secs_f64(1.0 / rates.of(kind));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut n: u64 = 0;
    let mut running = Vec::new();
    while Instant::now() < until {
        tick.tick().await;
        n += 1;
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            recorder.skipped.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let request = build(kind, n, &rates, &target);
        let recorder = recorder.clone();
        running.push(tokio::spawn(async move {
            let sent = Instant::now();
            let ok = match request.send().await {
                Ok(resp) => resp.status().is_success() && resp.bytes().await.is_ok(),
                Err(_) => false,
            };
            recorder.record(kind, sent.elapsed(), ok);
            drop(permit);
        }));
        // Finished tasks are dropped as we go, so the list stays short.
        if running.len() >= 1024 {
            running.retain(|t: &JoinHandle<()>| !t.is_finished());
        }
    }
    for task in running {
        let _ = task.await;
    }
}

/// The `n`th request of `kind`: installs in turn, three instances each,
/// fresh nonces and event ids.
fn build(kind: Kind, n: u64, rates: &Rates, target: &Target) -> reqwest::RequestBuilder {
    let install = &target.installs[(n as usize) % target.installs.len()];
    match kind {
        Kind::Verify => target
            .public
            .post(format!("{}/api/v1/license/verify", target.base))
            .json(&json!({
                "installId": install.id,
                "licenseKey": install.key,
                "instanceId": format!("soak-node-{}", n % 3),
                "version": "1.0.0",
                "nonce": format!("soak-{n}"),
            })),
        Kind::Telemetry => {
            let ts = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
            let kinds = ["page_view", "feature_used", "api_call", "error"];
            let features = ["pos", "reports", "crypto", "dashboard"];
            let events: Vec<_> = (0..rates.batch_events)
                .map(|i| {
                    let k = n as usize * rates.batch_events + i;
                    json!({"eventId": format!("soak-{n}-{i}"), "type": kinds[k % 4], "feature": features[k % 3],
                        "user": format!("user-{}", k % 40), "session": format!("session-{}", (k / 20) % 200), "ts": ts,
                        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120", "durationMs": (k % 900) as f64,
                        "status": 200})
                })
                .collect();
            target
                .public
                .post(format!("{}/api/v1/telemetry", target.base))
                .json(
                    &json!({"installId": install.id, "licenseKey": install.key, "events": events}),
                )
        }
        Kind::CustomerList => target.admin.get(format!(
            "{}/api/enterprise/customers?perPage=50",
            target.base
        )),
        Kind::CultureProfile => target.admin.get(format!(
            "{}/api/enterprise/customer/{}/culture",
            target.base, install.id
        )),
    }
}
