//! Transport hardening: 100 MB bodies are refused without being read,
//! oversized request heads get 431, slowloris connections are cut off after
//! the header timeout while normal requests keep being served, and the
//! connection cap queues rather than fails.

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::binary;
use crate::helpers::TestApp;

crate::both_backends!(hundred_megabyte_bodies_are_refused_unread);

const HUNDRED_MB: usize = 100 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;
/// The admin and verify APIs say `body_too_large`; telemetry names its batch limit.
const TOO_LARGE: [&str; 2] = ["body_too_large", "batch_too_large"];

fn addr(base: &str) -> &str {
    base.trim_start_matches("http://")
}

/// What the server said to a body it was sent, and how much of it we got
/// to send before it answered.
struct Outcome {
    status: u16,
    body: Value,
    body_bytes_sent: usize,
}

/// Sends `head`, then (unless the server has already answered) up to
/// 100 MB of body — as `Content-Length` bytes or as chunks — stopping as
/// soon as the server answers or closes.
async fn send_huge(base: &str, head: String, chunked: bool) -> Outcome {
    let stream = TcpStream::connect(addr(base)).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let received = Arc::new(AtomicUsize::new(0));
    let seen = received.clone();
    let reader = tokio::spawn(async move {
        let mut raw = Vec::new();
        let mut buf = [0u8; 8192];
        // A reset after the answer is fine: what was read is kept.
        while let Ok(n) = rd.read(&mut buf).await {
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
            seen.store(raw.len(), Ordering::SeqCst);
        }
        raw
    });
    wr.write_all(head.as_bytes()).await.unwrap();
    // The server may answer on the head alone (a declared length over the limit).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let data = vec![b' '; CHUNK];
    let mut sent = 0;
    while sent < HUNDRED_MB && received.load(Ordering::SeqCst) == 0 {
        let piece = if chunked {
            let mut p = format!("{CHUNK:x}\r\n").into_bytes();
            p.extend_from_slice(&data);
            p.extend_from_slice(b"\r\n");
            p
        } else {
            data.clone()
        };
        match tokio::time::timeout(Duration::from_secs(10), wr.write_all(&piece)).await {
            Ok(Ok(())) => sent += CHUNK,
            _ => break,
        }
    }
    let raw = tokio::time::timeout(Duration::from_secs(15), reader)
        .await
        .expect("the server answered and closed")
        .unwrap();
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line after {sent} body bytes: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    Outcome {
        status,
        body,
        body_bytes_sent: sent,
    }
}

async fn license_count(app: &TestApp) -> u64 {
    let list = app
        .token_client()
        .await
        .get("/api/enterprise/customers")
        .await;
    assert_eq!(list.status.as_u16(), 200, "{}", list.body);
    list.body["total"].as_u64().unwrap()
}

async fn hundred_megabyte_bodies_are_refused_unread(app: &TestApp) {
    let token = app.token_secret().await;
    let admin = app.token_client().await;
    app.create_license(&admin, "pro", json!({})).await;
    let before = license_count(app).await;
    let routes = [
        ("/api/v1/license/verify", None),
        ("/api/v1/telemetry", None),
        ("/api/enterprise/create-license", Some(&token)),
    ];
    for (path, bearer) in routes {
        let auth = bearer.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        let head = |framing: String| {
            format!(
                "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                 {auth}{framing}Connection: close\r\n\r\n"
            )
        };
        // Declared: refused on the head, before a byte of the body is read.
        let declared = send_huge(
            &app.base,
            head(format!("Content-Length: {HUNDRED_MB}\r\n")),
            false,
        )
        .await;
        assert_eq!(declared.status, 413, "{path} declared: {}", declared.body);
        assert!(
            TOO_LARGE.contains(&declared.body["error"]["code"].as_str().unwrap_or("")),
            "{path}: {}",
            declared.body
        );
        assert_eq!(
            declared.body_bytes_sent, 0,
            "{path}: answered before any of the body"
        );
        // Chunked, no length: refused once the limit is read; the rest never is
        // (what was sent includes what the sockets' buffers took in).
        let chunked = send_huge(
            &app.base,
            head("Transfer-Encoding: chunked\r\n".into()),
            true,
        )
        .await;
        assert_eq!(chunked.status, 413, "{path} chunked: {}", chunked.body);
        assert!(
            TOO_LARGE.contains(&chunked.body["error"]["code"].as_str().unwrap_or("")),
            "{path}: {}",
            chunked.body
        );
        assert!(
            chunked.body_bytes_sent < HUNDRED_MB / 4,
            "{path}: {} bytes went in before the answer",
            chunked.body_bytes_sent
        );
    }
    // Still healthy, and nothing was created.
    let health = app.anon().get("/healthz").await;
    assert_eq!(health.status.as_u16(), 200, "{}", health.body);
    assert_eq!(license_count(app).await, before);
    app.create_license(&admin, "pro", json!({})).await;
    assert_eq!(license_count(app).await, before + 1);
}

const PASSWORD: &str = "hardening-test-password-7d2e";
const HEADER_TIMEOUT_SECS: u64 = 2;

/// The built binary with a 2 s header timeout and `max_connections`.
async fn start(dir: &std::path::Path, max_connections: usize) -> (tokio::process::Child, String) {
    let mut cmd = binary::calos(dir, PASSWORD);
    cmd.env(
        "CALOS_HEADER_READ_TIMEOUT_SECS",
        HEADER_TIMEOUT_SECS.to_string(),
    )
    .env("CALOS_MAX_CONNECTIONS", max_connections.to_string());
    binary::serve(cmd, Stdio::null()).await
}

/// Sends `raw` and returns the status line's code, or `None` when the server
/// closed (or reset) the connection without answering.
async fn status_of(base: &str, raw: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(addr(base)).await.unwrap();
    // The server may close before all of it is written.
    let _ = stream.write_all(raw).await;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "the server neither answered nor closed");
    String::from_utf8_lossy(&got)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_heads_and_slowloris_do_not_exhaust_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = start(dir.path(), 4096).await;
    let client = reqwest::Client::new();

    // 100 KB of headers (the limit is 32 KiB): 431, or — when the server's
    // close overtakes its answer — a closed connection; never served.
    let mut big = String::from("GET /healthz HTTP/1.1\r\nHost: localhost\r\n");
    for i in 0..100 {
        big.push_str(&format!("X-Filler-{i}: {}\r\n", "a".repeat(1000)));
    }
    big.push_str("\r\n");
    let status = status_of(&base, big.as_bytes()).await;
    assert!(matches!(status, None | Some(431)), "{status:?}");
    // Too many fields in a small head: 431, deterministically.
    let mut many = String::from("GET /healthz HTTP/1.1\r\nHost: localhost\r\n");
    for i in 0..150 {
        many.push_str(&format!("X-F{i}: 1\r\n"));
    }
    many.push_str("Connection: close\r\n\r\n");
    assert_eq!(status_of(&base, many.as_bytes()).await, Some(431));

    // 200 slowloris connections, each trickling a header line every 300 ms.
    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(addr(&base)).await.unwrap();
        slow.push(tokio::spawn(async move {
            let opened = Instant::now();
            let _ = stream
                .write_all(b"POST /api/v1/license/verify HTTP/1.1\r\nHost: localhost\r\n")
                .await;
            let mut buf = [0u8; 256];
            loop {
                tokio::select! {
                    read = stream.read(&mut buf) => match read {
                        Ok(n) if n > 0 => continue,
                        _ => return opened.elapsed(),
                    },
                    () = tokio::time::sleep(Duration::from_millis(300)) => {
                        if stream.write_all(b"X-Slow: 1\r\n").await.is_err() {
                            return opened.elapsed();
                        }
                    }
                }
            }
        }));
    }
    // While they hang on, a normal request is served at once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let asked = Instant::now();
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "a normal request waited {:?} behind slow ones",
        asked.elapsed()
    );
    // Every slow connection is closed by the server after the header timeout.
    for handle in slow {
        let lived = tokio::time::timeout(Duration::from_secs(15), handle)
            .await
            .expect("the server closed the slow connection")
            .unwrap();
        assert!(
            lived >= Duration::from_millis(HEADER_TIMEOUT_SECS * 1000 - 500),
            "closed after {lived:?}, before the timeout"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(HEADER_TIMEOUT_SECS + 10));
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_requests_wait_for_a_free_slot() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = start(dir.path(), 4).await;
    // Four idle connections take every slot until the header timeout frees them.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(addr(&base)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = Instant::now();
    let health = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let waited = asked.elapsed();
    assert!(
        waited >= Duration::from_millis(HEADER_TIMEOUT_SECS * 1000 - 700),
        "served after {waited:?}: the cap did not hold"
    );
    drop(idle);
}
