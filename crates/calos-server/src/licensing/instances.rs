//! Which deployments of each install are running, counted in memory so the
//! verify path never waits on the database. An install's instances are read
//! from the store the first time this node sees it (so a restart does not
//! forget them); after that, requests update the map and the batched writes
//! ([`super::writes`]) persist them.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use calos_core::ids::InstallId;
use calos_store::{Store, StoreError};

#[derive(Debug, Default)]
struct Seen {
    /// instance id → last time it asked.
    instances: HashMap<String, DateTime<Utc>>,
}

/// In-memory instance counts per install.
#[derive(Debug)]
pub struct InstanceTracker {
    /// An instance not seen for this long stops counting.
    window: Duration,
    installs: Mutex<HashMap<String, Seen>>,
}

impl InstanceTracker {
    pub fn new(window: std::time::Duration) -> Self {
        Self {
            window: Duration::from_std(window).unwrap_or(Duration::days(1)),
            installs: Mutex::new(HashMap::new()),
        }
    }

    /// Records that `instance_id` asked at `now` and returns how many
    /// instances of the install are active, the asking one included.
    pub async fn touch(
        &self,
        store: &dyn Store,
        install_id: &InstallId,
        instance_id: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if let Some(n) = self.touch_known(install_id.as_str(), instance_id, now) {
            return Ok(n);
        }
        // First sight of this install on this node: start from what the store knows.
        let since = now - self.window;
        let stored = store.list_instances(install_id).await?;
        let mut installs = self.lock();
        let seen = installs.entry(install_id.as_str().to_owned()).or_default();
        for i in stored.into_iter().filter(|i| i.last_seen_at >= since) {
            let at = seen
                .instances
                .entry(i.instance_id)
                .or_insert(i.last_seen_at);
            *at = (*at).max(i.last_seen_at);
        }
        Ok(Self::record(seen, instance_id, now, since))
    }

    /// Forgets an install (its license changed hands or was reset).
    pub fn forget(&self, install_id: &str) {
        self.lock().remove(install_id);
    }

    fn touch_known(&self, install_id: &str, instance_id: &str, now: DateTime<Utc>) -> Option<u64> {
        let mut installs = self.lock();
        let seen = installs.get_mut(install_id)?;
        Some(Self::record(seen, instance_id, now, now - self.window))
    }

    fn record(seen: &mut Seen, instance_id: &str, now: DateTime<Utc>, since: DateTime<Utc>) -> u64 {
        match seen.instances.get_mut(instance_id) {
            Some(at) => *at = (*at).max(now),
            None => {
                // Drop stale instances before growing, so the map stays the
                // size of what is running.
                seen.instances.retain(|_, at| *at >= since);
                seen.instances.insert(instance_id.to_owned(), now);
            }
        }
        seen.instances.values().filter(|at| **at >= since).count() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Seen>> {
        // A panic while holding the lock leaves plain counters behind: still usable.
        self.installs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_count_until_the_window_passes() {
        let t = InstanceTracker::new(std::time::Duration::from_secs(3600));
        let mut seen = Seen::default();
        let now = Utc::now();
        let since = |at: DateTime<Utc>| at - t.window;
        assert_eq!(InstanceTracker::record(&mut seen, "a", now, since(now)), 1);
        assert_eq!(InstanceTracker::record(&mut seen, "a", now, since(now)), 1);
        assert_eq!(InstanceTracker::record(&mut seen, "b", now, since(now)), 2);
        let later = now + Duration::minutes(61);
        assert_eq!(
            InstanceTracker::record(&mut seen, "c", later, since(later)),
            1
        );
        assert_eq!(seen.instances.len(), 1, "stale instances are dropped");
    }
}
