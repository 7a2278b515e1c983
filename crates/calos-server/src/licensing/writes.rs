//! The verify path's writes (instance upserts, domains seen, `last_seen_at`),
//! collected in memory and flushed in one batch every few seconds and on
//! shutdown: never a synchronous write per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use calos_store::{Store, StoreResult, VerifySeen};

/// Most pending entries kept while the database is failing; beyond this the
/// oldest news is dropped (it only moves "last seen" times).
const MAX_PENDING: usize = 200_000;

/// (install, instance, domain): what one pending entry stands for.
type PendingKey = (String, String, Option<String>);

/// Pending writes, one entry per (install, instance, domain): a busy
/// instance costs one entry however often it asks.
#[derive(Debug, Default)]
pub struct VerifyWrites {
    pending: Mutex<HashMap<PendingKey, VerifySeen>>,
}

impl VerifyWrites {
    pub fn push(&self, seen: VerifySeen) {
        let key = (
            seen.install_id.as_str().to_owned(),
            seen.instance_id.clone(),
            seen.domain.clone(),
        );
        let mut pending = self.lock();
        if pending.len() >= MAX_PENDING && !pending.contains_key(&key) {
            return;
        }
        match pending.get_mut(&key) {
            Some(old) if old.at > seen.at => {}
            Some(old) => *old = seen,
            None => {
                pending.insert(key, seen);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes everything pending. On failure the batch is put back (newer
    /// news wins) for the next flush.
    pub async fn flush(&self, store: &dyn Store) -> StoreResult<usize> {
        let batch: Vec<VerifySeen> = {
            let mut pending = self.lock();
            if pending.is_empty() {
                return Ok(0);
            }
            std::mem::take(&mut *pending).into_values().collect()
        };
        match store.record_verifications(&batch).await {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                for seen in batch {
                    self.push(seen);
                }
                Err(e)
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PendingKey, VerifySeen>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Flushes every `every` until stopped, then once more so a graceful
/// shutdown loses nothing.
pub async fn run(
    writes: Arc<VerifyWrites>,
    store: Arc<dyn Store>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if let Err(e) = writes.flush(store.as_ref()).await {
                    tracing::warn!(error = %e, pending = writes.len(), "verify writes flush failed; will retry");
                }
            }
            _ = stop.changed() => break,
        }
    }
    match writes.flush(store.as_ref()).await {
        Ok(n) => tracing::debug!(written = n, "verify writes flushed at shutdown"),
        Err(e) => {
            tracing::error!(error = %e, lost = writes.len(), "final verify writes flush failed")
        }
    }
}
