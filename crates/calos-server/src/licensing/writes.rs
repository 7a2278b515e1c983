//! The verify path's writes (instance upserts, domains seen, `last_seen_at`),
//! collected in memory and flushed in one batch every few seconds and on
//! shutdown: never a synchronous write per request.
//!
//! "Last seen" is kept to the minute: news about an (install, instance,
//! domain) written less than [`REWRITE_AFTER`] ago is not written again, so a
//! deployment refreshing often costs the database one row a minute, not one
//! per request (and the flush does not compete with verify for the CPU).
//! Deciding that costs no allocation: [`VerifyWrites::note`] looks the news
//! up by borrowed strings and builds the row only when it will be written.

use std::collections::hash_map::RandomState;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hashbrown::{Equivalent, HashMap};
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

/// A [`PendingKey`] borrowed: hashes like it (the derive hashes the fields
/// in order, as the tuple does) and compares equal to it.
#[derive(Debug, Clone, Copy, Hash)]
struct KeyRef<'a>(&'a str, &'a str, Option<&'a str>);

impl Equivalent<PendingKey> for KeyRef<'_> {
    fn equivalent(&self, key: &PendingKey) -> bool {
        self.0 == key.0 && self.1 == key.1 && self.2 == key.2.as_deref()
    }
}

#[derive(Debug, Default)]
struct Batches {
    /// What the next flush writes, one entry per key: a busy instance costs
    /// one entry however often it asks.
    pending: HashMap<PendingKey, VerifySeen, RandomState>,
    /// When each key was last written, to skip news that changes nothing
    /// worth a write. Bounded like `pending`; forgetting only costs a write.
    written: HashMap<PendingKey, DateTime<Utc>, RandomState>,
}

impl Batches {
    /// Whether news about `key` at `at` would change what gets written.
    fn wanted(&self, key: KeyRef<'_>, at: DateTime<Utc>) -> bool {
        if self
            .written
            .get(&key)
            .is_some_and(|written| at - *written < REWRITE_AFTER)
        {
            return false;
        }
        match self.pending.get(&key) {
            Some(old) => old.at <= at,
            None => self.pending.len() < MAX_PENDING,
        }
    }

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

    /// Takes everything pending for a flush and counts it as written at
    /// once: news arriving while the batch is on its way to the database is
    /// then not queued again (a flush of thousands of rows takes long enough
    /// for every busy instance to ask again, and each flush would otherwise
    /// rewrite them all).
    fn take_batch(&mut self) -> Vec<VerifySeen> {
        let batch: Vec<VerifySeen> = std::mem::take(&mut self.pending).into_values().collect();
        self.mark_written(&batch);
        batch
    }

    /// A batch that could not be written: pending again (newer news wins).
    fn put_back(&mut self, batch: Vec<VerifySeen>) {
        for seen in batch {
            self.written.remove(&KeyRef(
                seen.install_id.as_str(),
                &seen.instance_id,
                seen.domain.as_deref(),
            ));
            self.push(seen);
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

    /// News that `(install_id, instance_id, domain)` asked at `at`; `seen`
    /// builds the full row, called only when the news will be written.
    pub fn note(
        &self,
        install_id: &str,
        instance_id: &str,
        domain: Option<&str>,
        at: DateTime<Utc>,
        seen: impl FnOnce() -> VerifySeen,
    ) {
        let mut batches = self.lock();
        if batches.wanted(KeyRef(install_id, instance_id, domain), at) {
            batches.push(seen());
        }
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
    fn note_builds_a_row_only_when_it_will_be_written() {
        let w = VerifyWrites::default();
        let t = Utc::now();
        let note = |instance: &str, at| {
            let mut built = false;
            w.note(
                "writes-test-0001",
                instance,
                Some("app.example.com"),
                at,
                || {
                    built = true;
                    seen(instance, at)
                },
            );
            built
        };
        assert!(note("a", t), "new news is built");
        assert!(
            note("a", t + TimeDelta::seconds(1)),
            "newer news replaces the pending row"
        );
        assert!(!note("a", t), "older news is not");
        assert_eq!(w.len(), 1);
        w.lock()
            .mark_written(&[seen("a", t + TimeDelta::seconds(1))]);
        w.lock().pending.clear();
        assert!(!note("a", t + TimeDelta::seconds(30)), "written 29 s ago");
        assert!(
            note("a", t + TimeDelta::seconds(61)),
            "written over a minute ago"
        );
        assert!(note("b", t), "another instance");
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn news_during_a_flush_is_not_queued_again_unless_the_flush_fails() {
        let mut b = Batches::default();
        let t = Utc::now();
        b.push(seen("a", t));
        let batch = b.take_batch();
        assert_eq!(batch.len(), 1);
        b.push(seen("a", t + TimeDelta::seconds(2)));
        assert!(b.pending.is_empty(), "already on its way to the database");
        b.put_back(batch);
        assert_eq!(b.pending.len(), 1, "a failed batch is pending again");
        b.push(seen("a", t + TimeDelta::seconds(3)));
        let a = b.pending.values().next().unwrap();
        assert_eq!(a.at, t + TimeDelta::seconds(3), "newer news wins");
    }

    #[test]
    fn borrowed_keys_hash_like_owned_ones() {
        use std::hash::BuildHasher;
        let state = RandomState::new();
        let owned: PendingKey = ("i".into(), "x".into(), Some("d".into()));
        assert_eq!(
            state.hash_one(&owned),
            state.hash_one(KeyRef("i", "x", Some("d")))
        );
        let owned: PendingKey = ("i".into(), "x".into(), None);
        assert_eq!(
            state.hash_one(&owned),
            state.hash_one(KeyRef("i", "x", None))
        );
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
