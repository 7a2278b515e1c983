//! The verify path's writes (instance upserts, domains seen, `last_seen_at`),
//! collected in memory and flushed in one batch every few seconds and on
//! shutdown: never a synchronous write per request.
//!
//! What gets here is already thinned out: an install's record
//! ([`super::installs`]) queues news about an (instance, domain) at most once
//! a minute (60 to 90 s, per instance, so instances first seen together do
//! not fall due together), so a deployment refreshing often costs the
//! database about one row a minute, and the verify path takes this batch's
//! lock only for those.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use calos_store::{Store, StoreResult, VerifySeen};

/// Most pending entries kept while the database is failing; beyond this
/// further news is dropped (it only moves "last seen" times).
const MAX_PENDING: usize = 200_000;

/// (install, instance, domain): what one pending entry stands for.
type PendingKey = (String, String, Option<String>);

fn key_of(seen: &VerifySeen) -> PendingKey {
    (
        seen.install_id.as_str().to_owned(),
        seen.instance_id.clone(),
        seen.domain.clone(),
    )
}

#[derive(Debug, Default)]
struct Batches {
    /// What the next flush writes, one entry per key: a busy instance costs
    /// one entry however often it asks.
    pending: HashMap<PendingKey, VerifySeen>,
}

impl Batches {
    fn push(&mut self, seen: VerifySeen) {
        let full = self.pending.len() >= MAX_PENDING;
        match self.pending.entry(key_of(&seen)) {
            Entry::Occupied(mut old) if old.get().at <= seen.at => {
                old.insert(seen);
            }
            Entry::Occupied(_) => {}
            Entry::Vacant(_) if full => {}
            Entry::Vacant(slot) => {
                slot.insert(seen);
            }
        }
    }

    /// Takes everything pending for a flush.
    fn take_batch(&mut self) -> Vec<VerifySeen> {
        std::mem::take(&mut self.pending).into_values().collect()
    }

    /// A batch that could not be written: pending again (newer news wins).
    fn put_back(&mut self, batch: Vec<VerifySeen>) {
        for seen in batch {
            self.push(seen);
        }
    }
}

/// Pending verify writes.
#[derive(Debug, Default)]
pub struct VerifyWrites {
    batches: Mutex<Batches>,
}

impl VerifyWrites {
    pub fn push(&self, seen: VerifySeen) {
        self.lock().push(seen);
    }

    pub fn len(&self) -> usize {
        self.lock().pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes everything pending. On failure the batch is put back (newer
    /// news wins) for the next flush.
    pub async fn flush(&self, store: &dyn Store) -> StoreResult<usize> {
        let batch = {
            let mut batches = self.lock();
            if batches.pending.is_empty() {
                return Ok(0);
            }
            batches.take_batch()
        };
        match store.record_verifications(&batch).await {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                self.lock().put_back(batch);
                Err(e)
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Batches> {
        self.batches
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

#[cfg(test)]
mod tests {
    use calos_core::ids::InstallId;
    use chrono::{TimeDelta, Utc};

    use super::*;

    fn seen(instance: &str, at: chrono::DateTime<chrono::Utc>) -> VerifySeen {
        VerifySeen {
            install_id: InstallId::parse("writes-test-0001").unwrap(),
            instance_id: instance.to_owned(),
            domain: Some("app.example.com".to_owned()),
            version: None,
            ip: None,
            user_agent: None,
            at,
        }
    }

    #[test]
    fn one_entry_per_instance_keeps_the_newest() {
        let mut b = Batches::default();
        let t = Utc::now();
        b.push(seen("a", t));
        b.push(seen("a", t + TimeDelta::seconds(5)));
        b.push(seen("a", t + TimeDelta::seconds(2)));
        b.push(seen("b", t));
        assert_eq!(b.pending.len(), 2);
        let a = b.pending.values().find(|s| s.instance_id == "a").unwrap();
        assert_eq!(a.at, t + TimeDelta::seconds(5));
    }

    #[test]
    fn a_failed_batch_is_pending_again_and_newer_news_wins() {
        let mut b = Batches::default();
        let t = Utc::now();
        b.push(seen("a", t));
        let batch = b.take_batch();
        assert_eq!(batch.len(), 1);
        assert!(b.pending.is_empty(), "taken for the flush");
        b.push(seen("a", t + TimeDelta::seconds(3)));
        b.put_back(batch);
        assert_eq!(b.pending.len(), 1, "one entry per key");
        let a = b.pending.values().next().unwrap();
        assert_eq!(a.at, t + TimeDelta::seconds(3), "newer news wins");
    }
}
