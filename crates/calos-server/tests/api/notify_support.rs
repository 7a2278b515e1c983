//! Real receivers for notification tests: an SMTP server (aiosmtpd, started
//! from `tests/support/smtp_sink.py`) and an HTTP webhook receiver (axum on
//! loopback) that records every request; plus polling helpers.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::Api;

/// A running aiosmtpd that writes each message it receives to a file.
pub struct SmtpSink {
    _child: Child,
    pub port: u16,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mail.jsonl");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(&path)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 (with aiosmtpd: scripts/test.sh installs it)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("smtp sink started")
            .unwrap()
            .expect("smtp sink printed its port (is aiosmtpd installed?)")
            .trim()
            .parse()
            .unwrap();
        SmtpSink {
            _child: child,
            port,
            path,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits until a message matching `pred` arrived.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        eventually(what, Duration::from_secs(30), || async {
            self.messages().into_iter().find(|m| pred(m))
        })
        .await
    }
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// An HTTP receiver on loopback: records each request on arrival, then
/// waits `delay_ms` and answers `status`.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub log: Arc<Mutex<Vec<Received>>>,
    pub status: Arc<AtomicU16>,
    pub delay_ms: Arc<AtomicU64>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let log: Arc<Mutex<Vec<Received>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let (l, s, d) = (log.clone(), status.clone(), delay_ms.clone());
        let app = axum::Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let (l, s, d) = (l.clone(), s.clone(), d.clone());
                async move {
                    l.lock().unwrap().push(Received {
                        headers,
                        body,
                        at: Instant::now(),
                    });
                    tokio::time::sleep(Duration::from_millis(d.load(Ordering::SeqCst))).await;
                    let code = StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap();
                    let mut resp = axum::response::Response::new(axum::body::Body::from("nope"));
                    *resp.status_mut() = code;
                    if code.is_redirection() {
                        resp.headers_mut()
                            .insert("location", "http://127.0.0.1:9/internal".parse().unwrap());
                    }
                    resp
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url: format!("http://{addr}/hook"),
            log,
            status,
            delay_ms,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }
}

/// Polls `probe` until it returns `Some`, or fails after `within`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(start.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The notification deliveries the admin API lists (newest first).
pub async fn deliveries(api: &Api, query: &str) -> Vec<Value> {
    let resp = api
        .get(&format!(
            "/api/enterprise/notifications?perPage=200&{query}"
        ))
        .await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.body);
    resp.body["notifications"]["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// A DELETE with the session's CSRF token.
pub async fn delete(api: &Api, path: &str) -> (u16, Value) {
    let mut req = api.client.delete(format!("{}{path}", api.base));
    if let Some(t) = &api.csrf {
        req = req.header("X-CSRF-Token", t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Independent check of a webhook signature (HMAC-SHA256 over "t.body").
pub fn signature_ok(secret: &str, header: &str, body: &[u8]) -> bool {
    use hmac::Mac;
    let mut t = "";
    let mut v1 = "";
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v,
            Some(("v1", v)) => v1 = v,
            _ => {}
        }
    }
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = hex::decode(v1).unwrap_or_default();
    !t.is_empty() && mac.verify_slice(&tag).is_ok()
}

/// Fast notification settings for tests.
pub fn fast(config: &mut calos_server::config::Config) {
    let n = &mut config.notify;
    n.scan_interval = Duration::from_millis(300);
    n.insight_interval = Duration::from_secs(3600);
    n.deliver_interval = Duration::from_millis(200);
    n.retry_base = Duration::from_secs(1);
    n.delivery_timeout = Duration::from_secs(5);
}
