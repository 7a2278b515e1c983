//! The verify path's writes (instance upserts, domains seen, `last_seen_at`),
//! collected in memory and flushed in one batch every few seconds and on
//! shutdown: never a synchronous write per request.
//!
//! "Last seen" is kept to the minute: news about an (install, instance,
//! domain) written less than [`REWRITE_AFTER`] ago is not written again, so a
//! deployment refreshing often costs the database one row a minute, not one
//! per request (and the flush does not compete with verify for the CPU).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use calos_store::{Store, StoreResult, VerifySeen};

/// Most pending entries kept while the database is failing; beyond this the
/// oldest news is dropped (it only moves "last seen" times).
const MAX_PENDING: usize = 200_000;

/// How stale a stored "last seen" may get before it is written again.
pub const REWRITE_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

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
    /// When each key was last written, to skip news that changes nothing
    /// worth a write. Bounded like `pending`; forgetting only costs a write.
    written: HashMap<PendingKey, chrono::DateTime<chrono::Utc>>,
}

impl Batches {
    fn push(&mut self, seen: VerifySeen) {
        let key = key_of(&seen);
        if self
            .written
            .get(&key)
            .is_some_and(|at| seen.at - *at < REWRITE_AFTER)
        {
            return;
        }
        if self.pending.len() >= MAX_PENDING && !self.pending.contains_key(&key) {
            return;
        }
        match self.pending.get_mut(&key) {
            Some(old) if old.at > seen.at => {}
            Some(old) => *old = seen,
            None => {
                self.pending.insert(key, seen);
            }
        }
    }

    fn mark_written(&mut self, batch: &[VerifySeen]) {
        if self.written.len() >= MAX_PENDING {
            self.written.clear();
        }
        for seen in batch {
            self.written.insert(key_of(seen), seen.at);
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
        let batch: Vec<VerifySeen> = {
            let mut batches = self.lock();
            if batches.pending.is_empty() {
                return Ok(0);
            }
            std::mem::take(&mut batches.pending).into_values().collect()
        };
        match store.record_verifications(&batch).await {
            Ok(()) => {
                self.lock().mark_written(&batch);
                Ok(batch.len())
            }
            Err(e) => {
                for seen in batch {
                    self.push(seen);
                }
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
    fn news_within_a_minute_of_a_write_is_not_written_again() {
        let mut b = Batches::default();
        let t = Utc::now();
        b.mark_written(&[seen("a", t)]);
        b.push(seen("a", t + TimeDelta::seconds(59)));
        assert!(b.pending.is_empty(), "written 59 s ago: nothing to write");
        b.push(seen("a", t + REWRITE_AFTER));
        assert_eq!(b.pending.len(), 1, "a minute later it is written again");
        b.push(seen("new-instance", t + TimeDelta::seconds(1)));
        assert_eq!(b.pending.len(), 2, "a new instance is always written");
    }
}
