//! Fault 4: graceful shutdown of the `calos` binary on SIGTERM. A telemetry
//! batch whose body is still arriving when the signal lands is read to the
//! end, stored and answered 200; a new connection is refused at once; the
//! verify path's batched "last seen" writes (flushed only every hour here)
//! are written before the process exits with code 0. A client that never
//! finishes its request holds the process only for `shutdown_grace_secs`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::faults_support::{
    calos, flood_batch, log_tail, serve, signal, stored_ids, Creds, TELEMETRY, VERIFY,
};
use crate::helpers::{run_on, Backend, TestApp};
use crate::verify_support::new_install;

const GRACE_SECS: u64 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sigterm_drains_in_flight_requests_and_flushes_batched_writes() {
    run_on(Backend::Sqlite, |app| Box::pin(drain_on_sigterm(app))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sigterm_drains_in_flight_requests_and_flushes_batched_writes() {
    run_on(Backend::Postgres, |app| Box::pin(drain_on_sigterm(app))).await;
}

/// A request head and the first `sent` bytes of its body on a fresh
/// connection; the rest is sent later by the caller.
async fn start_request(addr: &str, path: &str, body: &[u8], sent: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..sent]).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

/// Reads one HTTP/1.1 answer (the server closes the connection after it,
/// being in shutdown): its status and JSON body.
async fn read_answer(stream: &mut TcpStream) -> (u16, Value) {
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("the answer arrives")
        .unwrap();
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

async fn drain_on_sigterm(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = calos(dir.path(), &app.state.config.database_url);
    cmd.env("CALOS_VERIFY_FLUSH_INTERVAL_SECS", "3600")
        .env("CALOS_SHUTDOWN_GRACE_SECS", GRACE_SECS.to_string());
    let (mut server, base) = serve(cmd, dir.path()).await;
    let addr = base.trim_start_matches("http://").to_owned();
    let i = new_install(app, "enterprise", json!({})).await;
    let creds = Creds {
        id: i.install_id.clone(),
        key: i.license_key.clone(),
    };

    // A verify whose "last seen" write waits in the batch (next flush: in an hour).
    let verify = reqwest::Client::new()
        .post(format!("{base}{VERIFY}"))
        .json(&crate::verify_support::request(&i, "drain-node", None))
        .send()
        .await
        .unwrap();
    assert_eq!(verify.status().as_u16(), 200);
    let id = calos_core::ids::InstallId::parse(&i.install_id).unwrap();
    let store = app.store();
    assert!(
        store.list_instances(&id).await.unwrap().is_empty(),
        "not written yet: it is batched"
    );

    let (ids, batch) = flood_batch(&creds, 0, 0, 200);
    let body = serde_json::to_vec(&batch).unwrap();
    let mut in_flight = start_request(&addr, TELEMETRY, &body, body.len() / 2).await;
    // A second client that will never finish its body.
    let mut stuck = start_request(&addr, TELEMETRY, &body, 10).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let term_at = Instant::now();
    signal(&server, "-TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = TcpStream::connect(&addr).await;
    assert!(
        refused.is_err(),
        "a new connection during the drain is refused"
    );
    assert!(
        server.try_wait().unwrap().is_none(),
        "still running while a request is in flight"
    );

    in_flight.write_all(&body[body.len() / 2..]).await.unwrap();
    let (status, answer) = read_answer(&mut in_flight).await;
    assert_eq!(status, 200, "{answer} {}", log_tail(dir.path()));
    assert_eq!(answer["accepted"], 200, "{answer}");

    let exit = tokio::time::timeout(Duration::from_secs(GRACE_SECS + 10), server.wait())
        .await
        .expect("the process exits after the grace period")
        .unwrap();
    let took = term_at.elapsed();
    assert_eq!(exit.code(), Some(0), "{}", log_tail(dir.path()));
    assert!(
        took >= Duration::from_secs(GRACE_SECS) - Duration::from_millis(200),
        "the stuck request was waited for, up to the grace period ({took:?})"
    );
    // The stuck client's connection is dropped without an answer.
    let mut rest = Vec::new();
    let cut = stuck.read_to_end(&mut rest).await;
    assert!(
        cut.is_err() || rest.is_empty(),
        "no answer for the unfinished request"
    );

    let stored = stored_ids(store.as_ref(), &creds.id).await;
    assert_eq!(
        stored,
        ids.into_iter().collect(),
        "the drained batch is stored"
    );
    let instances = store.list_instances(&id).await.unwrap();
    assert_eq!(
        instances
            .iter()
            .map(|x| x.instance_id.as_str())
            .collect::<Vec<_>>(),
        ["drain-node"],
        "the batched last-seen write was flushed before exit: {}",
        log_tail(dir.path())
    );
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
    assert!(
        log.contains("shutdown grace over"),
        "{}",
        log_tail(dir.path())
    );
}
