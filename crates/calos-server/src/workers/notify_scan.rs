//! Finds periodic notification conditions: usage thresholds every
//! `scan_interval` (default 15 s, so a crossing is noticed well within a
//! minute), countdowns, silence, health and upsells every
//! `insight_interval`. Several nodes may scan at once: the outbox keeps one
//! notification per deduplication key.
//!
//! Each scan runs on a thread of the blocking pool, not on the runtime's
//! workers that serve requests (see [`off_request_workers`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use calos_store::StoreResult;

use crate::notify::scan::Scanner;

pub async fn run(
    scanner: Arc<Scanner>,
    usage_every: Duration,
    insight_every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut usage = tokio::time::interval(usage_every);
    usage.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut insights = tokio::time::interval(insight_every);
    insights.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = usage.tick() => {
                let scanner = scanner.clone();
                scan_once("usage", async move { scanner.usage(Utc::now()).await }).await;
            }
            _ = insights.tick() => {
                let scanner = scanner.clone();
                scan_once("insight", async move { scanner.insights(Utc::now()).await }).await;
            }
            _ = stop.changed() => break,
        }
    }
    tracing::debug!("notification scan worker stopped");
}

/// One scan, off the request workers, with its outcome logged.
async fn scan_once<F>(what: &'static str, scan: F)
where
    F: Future<Output = StoreResult<u32>> + Send + 'static,
{
    match off_request_workers(scan).await {
        Ok(n) if n > 0 => tracing::info!(created = n, "{what} notifications enqueued"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "{what} scan failed; will retry"),
    }
}

/// Runs `scan` to completion on a blocking-pool thread, driven by the
/// current runtime's handle (its database connections and timers stay the
/// runtime's own).
///
/// Why: the insight scan reads and analyses every license (the culture
/// analysis of each, 200 at a time). On a request worker it held that worker
/// for tens of milliseconds per page, and its many short-lived allocations
/// were made from the worker's own allocator heap. Measured with `bench
/// verify` (side by side, 10,000 licenses): after one insight scan at start,
/// the same `calos serve` answered verify ~4 % slower for as long as it ran,
/// its request allocations landing in memory the scan had left scattered.
/// On a thread of its own, the scan allocates from that thread's heap and
/// the scheduler can run it beside the request workers.
async fn off_request_workers<F, T>(scan: F) -> StoreResult<T>
where
    F: Future<Output = StoreResult<T>> + Send + 'static,
    T: Send + 'static,
{
    let runtime = tokio::runtime::Handle::current();
    match tokio::task::spawn_blocking(move || runtime.block_on(scan)).await {
        Ok(outcome) => outcome,
        Err(e) => Err(calos_store::StoreError::Backend(format!(
            "notification scan stopped: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_scan_runs_beside_the_request_workers_with_the_runtimes_timers() {
        let worker = std::thread::current().id();
        let (thread, slept) = off_request_workers(async {
            // The runtime's timer still drives the scan's waits.
            let started = tokio::time::Instant::now();
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok((std::thread::current().id(), started.elapsed()))
        })
        .await
        .unwrap();
        assert_ne!(thread, worker, "the scan ran on the request worker");
        assert!(slept >= Duration::from_millis(20), "slept {slept:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_failed_or_panicking_scan_is_an_error_not_a_crash() {
        let failed: StoreResult<u32> =
            off_request_workers(async { Err(calos_store::StoreError::Unavailable("down".into())) })
                .await;
        assert!(matches!(
            failed,
            Err(calos_store::StoreError::Unavailable(_))
        ));
        let panicked: StoreResult<u32> = off_request_workers(async {
            if std::hint::black_box(true) {
                panic!("scan bug");
            }
            Ok(0)
        })
        .await;
        assert!(
            matches!(&panicked, Err(calos_store::StoreError::Backend(m)) if m.contains("notification scan stopped")),
            "{panicked:?}"
        );
    }
}
