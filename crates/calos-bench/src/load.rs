//! A closed-loop HTTP load generator: `connections` tasks, each with its own
//! keep-alive connection, posting bodies back to back for a fixed time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

/// What one run measured.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    pub requests: u64,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub errors: u64,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} requests, {} errors)",
            self.per_second,
            self.p50.as_secs_f64() * 1000.0,
            self.p99.as_secs_f64() * 1000.0,
            self.requests,
            self.errors
        )
    }
}

/// Posts `bodies` (round robin, task `t` starting at `t`) to `url` from
/// `connections` tasks for `length`.
pub async fn run(
    url: &str,
    bodies: Arc<Vec<Vec<u8>>>,
    connections: usize,
    length: Duration,
) -> anyhow::Result<Figures> {
    let start = Instant::now();
    let deadline = start + length;
    let mut tasks = Vec::new();
    for t in 0..connections {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .context("http client")?;
        let bodies = bodies.clone();
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(64 * 1024);
            let mut errors = 0u64;
            let mut i = t;
            while Instant::now() < deadline {
                let body = bodies[i % bodies.len()].clone();
                i += connections;
                let sent = Instant::now();
                let ok = match client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                {
                    Ok(resp) => resp.status().is_success() && resp.bytes().await.is_ok(),
                    Err(_) => false,
                };
                latencies.push(sent.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.context("load task")?;
        all.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed();
    all.sort_unstable();
    let pick = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Ok(Figures {
        requests: all.len() as u64,
        per_second: all.len() as f64 / elapsed.as_secs_f64(),
        p50: pick(0.50),
        p99: pick(0.99),
        errors,
    })
}
