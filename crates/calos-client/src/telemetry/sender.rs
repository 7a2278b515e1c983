//! The telemetry task: sends queued events in batches (by size, or every
//! flush interval), retries a failed batch with the *same* events (so the
//! same `eventId`s: the server counts each once) after backoff, and at
//! shutdown sends what it can and saves the rest.

use std::sync::Arc;
use std::time::Duration;

use calos_core::protocol::{TelemetryAck, TelemetryBatch, WireEvent};
use tokio::sync::watch;

use super::{persist, MAX_BATCH_BYTES};
use crate::backoff::Backoff;
use crate::client::{lock, Inner};
use crate::error::CallError;
use crate::http::ACK_LIMIT;

pub const TELEMETRY_PATH: &str = "/api/v1/telemetry";

enum Outcome {
    /// Sent (or refused for good: the batch is not retried).
    Done,
    Retry(Option<Duration>),
}

pub(crate) async fn run(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    let mut backoff = Backoff::new(inner.cfg.backoff_base, inner.cfg.backoff_max);
    let mut pending: Option<Vec<WireEvent>> = None;
    'run: loop {
        loop {
            let batch = match pending.take() {
                Some(batch) => batch,
                None => take_batch(&inner),
            };
            if batch.is_empty() {
                break;
            }
            let outcome = tokio::select! {
                outcome = send(&inner, &batch) => outcome,
                _ = stop.changed() => {
                    pending = Some(batch);
                    break 'run;
                }
            };
            match outcome {
                Outcome::Done => backoff.reset(),
                Outcome::Retry(retry_after) => {
                    let delay = backoff.next_delay(retry_after);
                    lock(&inner.telemetry).stats.next_retry_in = Some(delay);
                    pending = Some(batch);
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = stop.changed() => break 'run,
                    }
                }
            }
        }
        tokio::select! {
            _ = inner.telemetry_wake.notified() => {}
            _ = tokio::time::sleep(inner.cfg.flush_interval) => {}
            _ = stop.changed() => break 'run,
        }
    }
    final_flush(&inner, pending).await;
}

/// Sends what is left within the shutdown timeout, then saves the rest.
async fn final_flush(inner: &Inner, mut pending: Option<Vec<WireEvent>>) {
    let deadline = tokio::time::Instant::now() + inner.cfg.shutdown_timeout;
    loop {
        let batch = match pending.take() {
            Some(batch) => batch,
            None => take_batch(inner),
        };
        if batch.is_empty() {
            break;
        }
        match tokio::time::timeout_at(deadline, send(inner, &batch)).await {
            Ok(Outcome::Done) => {}
            _ => {
                pending = Some(batch);
                break;
            }
        }
    }
    let mut tel = lock(&inner.telemetry);
    let Some(dir) = &inner.data else {
        // Nowhere to save them: keep them queued so diagnostics show what was lost.
        tel.queue.push_front_all(pending.unwrap_or_default());
        return;
    };
    let mut events = pending.unwrap_or_default();
    events.extend(tel.queue.drain_all());
    drop(tel);
    if let Err(e) = persist::save(dir, &events) {
        tracing::warn!(error = %e, "calos: could not save unsent telemetry");
    }
}

/// Up to `batch_size` events and ~1 MiB from the front of the queue. An
/// event too large to ever fit is dropped and counted as rejected.
fn take_batch(inner: &Inner) -> Vec<WireEvent> {
    let mut tel = lock(&inner.telemetry);
    let mut batch = Vec::new();
    let mut bytes = 0usize;
    while batch.len() < inner.cfg.batch_size {
        let Some(front) = tel.queue.front() else {
            break;
        };
        let size = serde_json::to_vec(front).map_or(usize::MAX, |v| v.len() + 1);
        if size > MAX_BATCH_BYTES {
            tel.queue.pop_front();
            tel.stats.rejected += 1;
            continue;
        }
        if bytes + size > MAX_BATCH_BYTES {
            break;
        }
        bytes += size;
        if let Some(event) = tel.queue.pop_front() {
            batch.push(event);
        }
    }
    batch
}

async fn send(inner: &Inner, batch: &[WireEvent]) -> Outcome {
    let events = batch
        .iter()
        .filter_map(|e| serde_json::to_value(e).ok())
        .collect();
    let body = TelemetryBatch {
        install_id: inner.cfg.install_id.clone(),
        license_key: inner.cfg.license_key.clone(),
        events,
    };
    let result = inner
        .http
        .post_json(TELEMETRY_PATH, &body, ACK_LIMIT)
        .await
        .and_then(|bytes| {
            serde_json::from_slice::<TelemetryAck>(&bytes)
                .map_err(|e| CallError::BadBody(e.to_string()))
        });
    let mut tel = lock(&inner.telemetry);
    match result {
        Ok(ack) => {
            tel.stats.sent += ack.accepted;
            tel.stats.duplicates += ack.duplicates;
            tel.stats.rejected += ack.rejected.len() as u64;
            tel.stats.next_retry_in = None;
            for r in &ack.rejected {
                tracing::debug!(index = r.index, reason = %r.reason, "calos: event rejected");
            }
            Outcome::Done
        }
        // Bad or revoked credentials, or a batch the server will never take:
        // retrying the same batch cannot succeed.
        Err(CallError::Status {
            status, message, ..
        }) if matches!(status, 400 | 401 | 403 | 413 | 422) => {
            tel.stats.failed_posts += 1;
            tel.stats.rejected += batch.len() as u64;
            tracing::warn!(status, %message, "calos: telemetry batch refused");
            Outcome::Done
        }
        Err(e) => {
            tel.stats.failed_posts += 1;
            tracing::debug!(error = %e, "calos: telemetry batch failed; will retry");
            Outcome::Retry(e.retry_after())
        }
    }
}
