//! Shared pieces of the fault-injection tests (`faults_*.rs`): the `calos`
//! binary on a given database with its log kept in a file, a telemetry
//! flood that records which events the server acknowledged, and the check
//! that stored rollups equal the rollups recomputed from the raw events.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::Utc;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use calos_core::ids::InstallId;
use calos_core::rollup::{is_error, RollupCounts, RollupKey};
use calos_store::Store;

use crate::binary;
pub use crate::binary::login;
use crate::helpers::Api;

pub const PASSWORD: &str = crate::helpers::ADMIN_PASSWORD;
pub const TELEMETRY: &str = "/api/v1/telemetry";
pub const VERIFY: &str = "/api/v1/license/verify";

/// The master key of `TestApp`, so the binary checks the license keys the
/// in-process app issued.
pub fn master_key() -> String {
    base64::engine::general_purpose::STANDARD.encode([7u8; 32])
}

/// `calos` on `database_url`, no telemetry rate limit (the flood is the
/// point), stderr into `dir/server.log` (see [`log_tail`]).
pub fn calos(dir: &Path, database_url: &str) -> Command {
    let mut cmd = binary::calos(dir, PASSWORD);
    cmd.env("DATABASE_URL", database_url)
        .env("CALOS_MASTER_KEY", master_key())
        .env("CALOS_TELEMETRY_EVENTS_PER_MINUTE", "0")
        .env("CALOS_VERIFY_PER_INSTALL_PER_MINUTE", "0")
        .env("CALOS_VERIFY_PER_IP_PER_MINUTE", "0")
        .env("RUST_LOG", "info");
    cmd
}

/// Starts `cmd serve`, its stderr appended to `dir/server.log`.
pub async fn serve(cmd: Command, dir: &Path) -> (Child, String) {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path(dir))
        .unwrap();
    binary::serve(cmd, Stdio::from(log)).await
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("server.log")
}

/// The end of the server's log, for assertion messages.
pub fn log_tail(dir: &Path) -> String {
    let text = std::fs::read_to_string(log_path(dir)).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Sends `sig` (`-9`, `-TERM`) to the process.
pub fn signal(child: &Child, sig: &str) {
    let pid = child.id().expect("process still running").to_string();
    let status = std::process::Command::new("kill")
        .args([sig, &pid])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} {pid}");
}

/// An install's public credentials.
#[derive(Debug, Clone)]
pub struct Creds {
    pub id: String,
    pub key: String,
}

/// A new enterprise license through the admin API.
pub async fn new_license(admin: &Api, name: &str) -> Creds {
    let n = uuid::Uuid::new_v4().simple().to_string();
    let r = admin
        .post(
            "/api/enterprise/create-license",
            &json!({"customer": {"name": name, "email": format!("{}@example.com", &n[..12])}, "tier": "enterprise"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    Creds {
        id: r.body["installId"].as_str().unwrap().to_owned(),
        key: r.body["licenseKey"].as_str().unwrap().to_owned(),
    }
}

const TYPES: [&str; 5] = ["page_view", "feature_used", "api_call", "error", "custom"];

/// Batch `n` of poster `poster`: ids unique per (poster, n, k), events
/// spread over the last five hours, five types, a few features, users and
/// sessions — so the rollup comparison covers many buckets.
pub fn flood_batch(creds: &Creds, poster: usize, n: usize, size: usize) -> (Vec<String>, Value) {
    let now = Utc::now();
    let mut ids = Vec::with_capacity(size);
    let events: Vec<Value> = (0..size)
        .map(|k| {
            let id = format!("p{poster}-b{n}-e{k}");
            ids.push(id.clone());
            let minutes = ((k * 37 + n * 11 + poster * 7) % 300) as i64;
            let ts = (now - chrono::Duration::minutes(minutes))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            json!({
                "eventId": id,
                "type": TYPES[(k + n) % TYPES.len()],
                "feature": format!("f{}", k % 3),
                "user": format!("u{}", (k + poster) % 11),
                "session": format!("s{}", n % 4),
                "ts": ts,
                "durationMs": (k % 50) as u64 * 10,
                "status": if k % 9 == 0 { 500 } else { 200 },
            })
        })
        .collect();
    (
        ids,
        json!({"installId": creds.id, "licenseKey": creds.key, "events": events}),
    )
}

/// What a flood saw: events the server acknowledged (a 2xx answer that
/// counted every event), every event sent, and every answer's status.
#[derive(Debug, Default)]
pub struct FloodLog {
    pub acked: BTreeMap<String, BTreeSet<String>>,
    pub sent: BTreeMap<String, BTreeSet<String>>,
    pub statuses: Vec<(u16, Value, Duration)>,
    /// Batches whose answer never came (cut off, refused): sent again later.
    pub unanswered: Vec<Value>,
}

/// Posts batches from `posters` concurrent tasks, round-robin over
/// `installs`, until `stop` says so; every answer is logged.
pub struct Flood {
    pub log: Arc<Mutex<FloodLog>>,
    pub stop: Arc<std::sync::atomic::AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Logs one batch's outcome: acknowledged when a 2xx counted every event.
fn record(
    log: &Mutex<FloodLog>,
    install: &str,
    ids: Vec<String>,
    body: Value,
    answer: Option<(u16, Value)>,
    took: Duration,
) {
    let mut log = log.lock().unwrap();
    match answer {
        Some((status, reply)) => {
            let counted =
                reply["accepted"].as_u64().unwrap_or(0) + reply["duplicates"].as_u64().unwrap_or(0);
            if (200..300).contains(&status) && counted == ids.len() as u64 {
                log.acked.entry(install.to_owned()).or_default().extend(ids);
            } else {
                log.unanswered.push(body);
            }
            log.statuses.push((status, reply, took));
        }
        None => log.unanswered.push(body),
    }
}

impl Flood {
    pub fn start(base: &str, installs: &[Creds], posters: usize, batch: usize) -> Flood {
        let log = Arc::new(Mutex::new(FloodLog::default()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let tasks = (0..posters)
            .map(|p| {
                let (log, stop) = (log.clone(), stop.clone());
                let url = format!("{base}{TELEMETRY}");
                let creds = installs[p % installs.len()].clone();
                tokio::spawn(async move {
                    let client = reqwest::Client::builder()
                        .timeout(Duration::from_secs(20))
                        .build()
                        .unwrap();
                    let mut n = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let (ids, body) = flood_batch(&creds, p, n, batch);
                        n += 1;
                        log.lock()
                            .unwrap()
                            .sent
                            .entry(creds.id.clone())
                            .or_default()
                            .extend(ids.iter().cloned());
                        let started = Instant::now();
                        let answer = match client.post(&url).json(&body).send().await {
                            Ok(resp) => {
                                let status = resp.status().as_u16();
                                resp.bytes().await.ok().map(|b| {
                                    (status, serde_json::from_slice(&b).unwrap_or(Value::Null))
                                })
                            }
                            Err(_) => None,
                        };
                        let answered = answer.is_some();
                        record(&log, &creds.id, ids, body, answer, started.elapsed());
                        if !answered {
                            // The server is gone or restarting: don't spin.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                })
            })
            .collect();
        Flood { log, stop, tasks }
    }

    pub fn acked_count(&self) -> usize {
        self.log
            .lock()
            .unwrap()
            .acked
            .values()
            .map(BTreeSet::len)
            .sum()
    }

    /// Stops the posters and returns what they saw.
    pub async fn finish(self) -> FloodLog {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.tasks {
            t.await.unwrap();
        }
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

/// One telemetry batch posted to `base`: status, JSON body, how long the answer took.
pub async fn post_telemetry(base: &str, batch: &Value) -> (u16, Value, Duration) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    timed(client.post(format!("{base}{TELEMETRY}")).json(batch)).await
}

/// One request: status, JSON body (`null` when not JSON) and how long the
/// answer took.
pub async fn timed(req: reqwest::RequestBuilder) -> (u16, Value, Duration) {
    let started = Instant::now();
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body, started.elapsed())
}

/// Waits until `check` gives `Some`, polling, at most `within`.
pub async fn until<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(start.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every stored raw event of an install (ids must be unique).
pub async fn stored_ids(store: &dyn Store, install: &str) -> BTreeSet<String> {
    let events = raw_events(store, install).await;
    let ids: BTreeSet<String> = events.iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(ids.len(), events.len(), "no event is stored twice");
    ids
}

async fn raw_events(
    store: &dyn Store,
    install: &str,
) -> Vec<calos_core::telemetry::TelemetryEvent> {
    let id = InstallId::parse(install).unwrap();
    let now = Utc::now();
    store
        .list_events(
            &id,
            now - chrono::Duration::days(30),
            now + chrono::Duration::days(1),
            1_000_000,
        )
        .await
        .unwrap()
}

/// Asserts that the stored hourly rollups of `install` are exactly what the
/// raw events add up to: per (hour, type, feature) the event, error and
/// duration counters and the distinct users and sessions.
pub async fn assert_rollups_equal_raw(store: &dyn Store, install: &str) {
    let events = raw_events(store, install).await;
    type Sets = (BTreeSet<String>, BTreeSet<String>);
    let mut recomputed: BTreeMap<RollupKey, (RollupCounts, Sets)> = BTreeMap::new();
    for e in &events {
        let (c, (users, sessions)) = recomputed.entry(RollupKey::of(e)).or_default();
        c.events += 1;
        c.errors += i64::from(is_error(e));
        if let Some(d) = e.duration_ms {
            c.duration_sum_ms += i64::from(d);
            c.duration_count += 1;
        }
        users.extend(e.user.clone());
        sessions.extend(e.session.clone());
    }
    let recomputed: BTreeMap<RollupKey, RollupCounts> = recomputed
        .into_iter()
        .map(|(k, (mut c, (users, sessions)))| {
            c.users = users.len() as i64;
            c.sessions = sessions.len() as i64;
            (k, c)
        })
        .collect();
    let id = InstallId::parse(install).unwrap();
    let now = Utc::now();
    let stored: BTreeMap<RollupKey, RollupCounts> = store
        .rollups(
            &id,
            now - chrono::Duration::days(30),
            now + chrono::Duration::days(1),
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.counts))
        .collect();
    assert!(!recomputed.is_empty(), "the install has events");
    assert_eq!(
        stored.len(),
        recomputed.len(),
        "one rollup per (hour, type, feature) bucket of the raw events"
    );
    for (key, want) in &recomputed {
        assert_eq!(stored.get(key), Some(want), "rollup {key:?}");
    }
}

/// A tmpfs of `size` mounted on a temp dir, unmounted when dropped: the
/// small disk of the disk-full tests (`faults_disk_full`, `faults_pg_disk_full`).
pub struct Volume {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Volume {
    /// `None` (outside CI) when mounting is not possible here; under
    /// `CI=true` that is a failure, loudly.
    pub fn mount(size: &str) -> Option<Volume> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vol");
        std::fs::create_dir(&path).unwrap();
        let out = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&path)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Volume { path, _dir: dir }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    !std::env::var("CI").is_ok_and(|v| v == "true"),
                    "CI=true but a tmpfs cannot be mounted for the disk-full test (needs root): {why}"
                );
                eprintln!("SKIPPED: cannot mount a tmpfs for the disk-full test: {why}");
                None
            }
        }
    }
}

impl Drop for Volume {
    fn drop(&mut self) {
        // Lazy: a pool still holding the file must not keep the mount around.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

/// Fills the volume: big writes until the first refusal, then small ones.
pub fn fill(path: &Path) -> u64 {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    let mut written = 0u64;
    for chunk in [256 * 1024, 4096, 512] {
        let bytes = vec![0x5a_u8; chunk];
        while file.write_all(&bytes).is_ok() && file.flush().is_ok() {
            written += chunk as u64;
        }
    }
    let _ = file.sync_all();
    written
}
