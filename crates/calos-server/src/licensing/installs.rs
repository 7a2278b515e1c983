//! What this node keeps about each install the verify path has
//! authenticated, in one record: its running instances, its per-install
//! rate-limit bucket and which "last seen" news it has already queued for
//! writing. The license cache entry points at the record
//! ([`super::CachedLicense::install`]), so a verify reaches all of it through
//! the one cache lookup it makes anyway. (These used to be three more maps
//! keyed by install id; with 10,000 installs each lookup missed the CPU
//! cache, which is most of what verify cost over its benchmark floor.)
//!
//! Records outlive cache entries: a license change drops the cache entry,
//! and the reloaded entry gets the same record back from [`InstallRecords`],
//! so instance counts and rate-limit buckets survive revokes, suspensions and
//! tier changes. An install's instances are read from the store the first
//! time this node sees it, so a restart does not forget them either.

use std::collections::HashMap;
use std::hash::RandomState;
use std::num::NonZeroU32;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Duration, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota};

use calos_core::ids::InstallId;
use calos_store::{Store, StoreError};

use crate::ratelimit::RetryAfter;

use super::instance_table::InstanceTable;

/// How stale a stored "last seen" may get before it is written again: a
/// deployment refreshing often costs the database about one row a minute,
/// not one per request. Each instance waits this plus its own share of
/// [`REWRITE_SPREAD`] (see [`rewrite_after`]).
pub const REWRITE_AFTER: Duration = Duration::seconds(60);

/// The rewrite interval is spread over this much past [`REWRITE_AFTER`],
/// per instance. Why: instances first seen together (every deployment
/// reconnecting after a restart, an outage, a benchmark's warm-up) would
/// otherwise fall due together every minute, and one flush would write all
/// of them at once — a burst of database work that, on a busy node, shows
/// as a spike in verify latency. Different intervals drift them apart.
const REWRITE_SPREAD: Duration = Duration::seconds(30);

/// How long after its last queued news an instance's "last seen" is written
/// again: [`REWRITE_AFTER`] plus a fixed part of [`REWRITE_SPREAD`] chosen by
/// its key (keyed SipHash output, so uniform), whole milliseconds.
fn rewrite_after(key: u64) -> Duration {
    let spread = REWRITE_SPREAD.num_milliseconds().unsigned_abs();
    // The remainder is below 30 000, so it fits an i64.
    REWRITE_AFTER + Duration::milliseconds((key % spread) as i64)
}

/// Below this many records no sweep runs; above it, one runs each time the
/// count doubles (amortised: a sweep walks every record).
const SWEEP_FROM: usize = 4096;

/// One install's state on this node.
#[derive(Debug)]
pub struct InstallRecord {
    /// The install id, shared: cheap to clone into logs and rows.
    pub install_id: Arc<str>,
    /// `None` when the per-install limit is switched off.
    limiter: Option<DefaultDirectRateLimiter>,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// Whether the stored instances have been read into `instances`.
    loaded: bool,
    /// Keyed by [`instance_key`]: the table holds no instance id text, so
    /// finding an instance follows no pointer to a string (one cache miss
    /// fewer per verify) and a new instance allocates no string; the first
    /// instance is held inline (see [`InstanceTable`]).
    instances: InstanceTable<Instance>,
}

/// An instance id as the key [`Seen`] counts instances by: a hash of the id
/// under a secret chosen per process (`RandomState`'s SipHash keys). Two
/// ids of one install would have to share all 64 bits to be counted as one;
/// with a key nobody outside knows, nobody can make them, and by chance it
/// takes billions of instances of one install.
fn instance_key(instance_id: &str) -> u64 {
    use std::hash::BuildHasher;
    static KEYS: LazyLock<RandomState> = LazyLock::new(RandomState::new);
    KEYS.hash_one(instance_id)
}

#[derive(Debug, Clone)]
struct Instance {
    last_seen: DateTime<Utc>,
    /// The domain (as [`domain_tag`]) and time of the last news queued for
    /// writing.
    queued: Option<(u64, DateTime<Utc>)>,
}

/// A domain as a number for telling "the same domain as last time" from a
/// change without following a pointer to its text (one cache miss fewer per
/// verify). Two domains sharing a tag would only delay writing the change
/// until the once-a-minute rewrite, which writes the current domain anyway.
fn domain_tag(domain: Option<&str>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    domain.hash(&mut hasher);
    hasher.finish()
}

/// What one request tells about an install's instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// Instances active within the window, the asking one included.
    pub active: u64,
    /// Whether this news should be queued for writing (new instance, new
    /// domain, or the last write is older than the instance's
    /// [`rewrite_after`]).
    pub write: bool,
}

impl InstallRecord {
    fn new(install_id: Arc<str>, quota: Option<Quota>) -> Self {
        Self {
            install_id,
            limiter: quota.map(DefaultDirectRateLimiter::direct),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// A record of its own, not shared through [`InstallRecords`], with no
    /// rate limit (for licenses decided outside the cache, e.g. the
    /// benchmark's floor).
    pub fn standalone(install_id: &str) -> Arc<Self> {
        Arc::new(Self::new(Arc::from(install_id), None))
    }

    /// Takes one request from the install's bucket.
    pub fn check_rate(&self) -> Result<(), RetryAfter> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check().map_err(|not_until| {
            RetryAfter(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }

    /// Records that `instance_id` of `install_id` (this record's install)
    /// asked at `now` from `domain` (as the deployment sent it: another
    /// spelling of the same domain only costs one extra write): how many
    /// instances are active (an instance not seen for `window` stops
    /// counting) and whether the news is worth a write. Reads the store only
    /// the first time this node sees the install.
    pub async fn observe(
        &self,
        store: &dyn Store,
        install_id: &InstallId,
        instance_id: &str,
        domain: Option<&str>,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<Observed, StoreError> {
        let since = now - window;
        {
            // The hot path: one lock, no store.
            let mut seen = self.lock();
            if seen.loaded {
                return Ok(seen.record(instance_id, domain, now, since));
            }
        }
        // Not under the lock: two first requests may both read, and merging
        // is idempotent (the later time wins).
        let stored = store.list_instances(install_id).await?;
        let mut seen = self.lock();
        for i in stored.into_iter().filter(|i| i.last_seen_at >= since) {
            let key = instance_key(&i.instance_id);
            match seen.instances.get_mut(key) {
                Some(held) => held.last_seen = held.last_seen.max(i.last_seen_at),
                None => {
                    seen.instances.insert_new(
                        key,
                        Instance {
                            last_seen: i.last_seen_at,
                            // Stored, so written: as good as queued at that time.
                            queued: Some((domain_tag(i.domain.as_deref()), i.last_seen_at)),
                        },
                    );
                }
            }
        }
        seen.loaded = true;
        Ok(seen.record(instance_id, domain, now, since))
    }

    /// Whether any instance was seen at or after `since` (a record without
    /// one holds nothing the store would not give back).
    fn active_since(&self, since: DateTime<Utc>) -> bool {
        self.lock().instances.values().any(|i| i.last_seen >= since)
    }

    fn lock(&self) -> MutexGuard<'_, Seen> {
        // A panic while holding the lock leaves plain timestamps behind: still usable.
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Seen {
    fn record(
        &mut self,
        instance_id: &str,
        domain: Option<&str>,
        now: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> Observed {
        let key = instance_key(instance_id);
        let instance = match self.instances.get_mut(key) {
            Some(i) => i,
            None => {
                // Drop stale instances before growing, so the table stays
                // the size of what is running.
                self.instances.retain(|i| i.last_seen >= since);
                self.instances.insert_new(
                    key,
                    Instance {
                        last_seen: now,
                        queued: None,
                    },
                )
            }
        };
        instance.last_seen = instance.last_seen.max(now);
        let tag = domain_tag(domain);
        let write = match instance.queued {
            Some((queued_tag, at)) => queued_tag != tag || now - at >= rewrite_after(key),
            None => true,
        };
        if write {
            instance.queued = Some((tag, now));
        }
        let active = self
            .instances
            .values()
            .filter(|i| i.last_seen >= since)
            .count() as u64;
        Observed { active, write }
    }
}

/// Every install's record on this node, handed to cache entries as they load.
#[derive(Debug)]
pub struct InstallRecords {
    quota: Option<Quota>,
    /// An instance not seen for this long stops counting.
    pub window: Duration,
    records: Mutex<Registry>,
}

#[derive(Debug, Default)]
struct Registry {
    by_install: HashMap<Arc<str>, Arc<InstallRecord>>,
    sweep_at: usize,
}

impl InstallRecords {
    /// `per_minute` verify requests per install (0: no limit); instances
    /// count for `window` after they were last seen.
    pub fn new(per_minute: u32, window: std::time::Duration) -> Self {
        Self {
            quota: NonZeroU32::new(per_minute).map(Quota::per_minute),
            window: Duration::from_std(window).unwrap_or(Duration::days(1)),
            records: Mutex::new(Registry {
                by_install: HashMap::new(),
                sweep_at: SWEEP_FROM,
            }),
        }
    }

    /// The record of `install_id`, made on first use.
    pub fn get(&self, install_id: &str) -> Arc<InstallRecord> {
        let mut registry = self.lock();
        if let Some(r) = registry.by_install.get(install_id) {
            return r.clone();
        }
        if registry.by_install.len() >= registry.sweep_at {
            self.sweep(&mut registry, Utc::now());
        }
        let record = Arc::new(InstallRecord::new(Arc::from(install_id), self.quota));
        registry
            .by_install
            .insert(record.install_id.clone(), record.clone());
        record
    }

    /// How many installs have a record.
    pub fn len(&self) -> usize {
        self.lock().by_install.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops records nothing else holds (no cache entry, no request in
    /// flight) whose instances have all gone quiet: the store gives back the
    /// same answer when such an install asks again.
    fn sweep(&self, registry: &mut Registry, now: DateTime<Utc>) {
        let since = now - self.window;
        registry
            .by_install
            .retain(|_, r| Arc::strong_count(r) > 1 || r.active_since(since));
        registry.sweep_at = (registry.by_install.len() * 2).max(SWEEP_FROM);
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observe(
        seen: &mut Seen,
        instance: &str,
        domain: Option<&str>,
        at: DateTime<Utc>,
    ) -> Observed {
        seen.record(instance, domain, at, at - Duration::hours(1))
    }

    #[test]
    fn instances_count_until_the_window_passes() {
        let mut seen = Seen::default();
        let now = Utc::now();
        assert_eq!(observe(&mut seen, "a", None, now).active, 1);
        assert_eq!(observe(&mut seen, "a", None, now).active, 1);
        assert_eq!(observe(&mut seen, "b", None, now).active, 2);
        let later = now + Duration::minutes(61);
        assert_eq!(observe(&mut seen, "c", None, later).active, 1);
        assert_eq!(seen.instances.len(), 1, "stale instances are dropped");
    }

    #[test]
    fn news_is_written_when_new_when_the_domain_changes_and_once_a_minute() {
        let mut seen = Seen::default();
        let t = Utc::now();
        let d = Some("app.example.com");
        assert!(observe(&mut seen, "a", d, t).write, "a new instance");
        assert!(!observe(&mut seen, "a", d, t + Duration::seconds(59)).write);
        assert!(
            observe(
                &mut seen,
                "a",
                Some("other.example.com"),
                t + Duration::seconds(59)
            )
            .write,
            "a new domain"
        );
        assert!(
            !observe(
                &mut seen,
                "a",
                Some("other.example.com"),
                t + Duration::seconds(60)
            )
            .write
        );
        // Written again once its own interval (60 to 90 s) has passed since
        // the last write (at t + 59 s), not before.
        let again = t + Duration::seconds(59) + rewrite_after(instance_key("a"));
        let other = Some("other.example.com");
        assert!(!observe(&mut seen, "a", other, again - Duration::milliseconds(1)).write);
        assert!(
            observe(&mut seen, "a", other, again).write,
            "its interval after the last write"
        );
        assert!(!observe(&mut seen, "a", other, again + Duration::seconds(1)).write);
        assert!(observe(&mut seen, "b", d, t).write, "another instance");
    }

    #[test]
    fn rewrite_intervals_are_spread_between_one_minute_and_ninety_seconds() {
        let intervals: Vec<Duration> = (0..1000)
            .map(|i| rewrite_after(instance_key(&format!("instance-{i}"))))
            .collect();
        assert!(intervals
            .iter()
            .all(|d| *d >= REWRITE_AFTER && *d < REWRITE_AFTER + REWRITE_SPREAD));
        // Instances seen together fall due over the whole spread: each
        // 3-second tenth of it holds some of the 1000 (about 100 each).
        for tenth in 0..10 {
            let from = REWRITE_AFTER + Duration::seconds(3 * tenth);
            let n = intervals
                .iter()
                .filter(|d| **d >= from && **d < from + Duration::seconds(3))
                .count();
            assert!((50..=150).contains(&n), "tenth {tenth}: {n} of 1000");
        }
        assert_eq!(
            rewrite_after(instance_key("same")),
            rewrite_after(instance_key("same")),
            "an instance keeps its interval"
        );
    }

    #[test]
    fn domain_tags_tell_domains_and_no_domain_apart() {
        let tags = [
            domain_tag(None),
            domain_tag(Some("")),
            domain_tag(Some("app.example.com")),
            domain_tag(Some("app.example.org")),
        ];
        for (i, a) in tags.iter().enumerate() {
            for b in &tags[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(domain_tag(Some("app.example.com")), tags[2], "stable");
    }

    #[test]
    fn one_record_per_install_and_its_own_bucket() {
        let records = InstallRecords::new(2, std::time::Duration::from_secs(3600));
        let a = records.get("install-a");
        assert!(Arc::ptr_eq(&a, &records.get("install-a")));
        assert!(a.check_rate().is_ok() && a.check_rate().is_ok());
        let wait = a.check_rate().unwrap_err();
        assert!(wait.secs() >= 1 && wait.secs() <= 30, "{wait:?}");
        assert!(records.get("install-b").check_rate().is_ok(), "own bucket");
        let unlimited = InstallRecords::new(0, std::time::Duration::from_secs(3600)).get("x");
        assert!((0..1000).all(|_| unlimited.check_rate().is_ok()));
    }

    #[test]
    fn sweeping_keeps_held_and_active_records() {
        let records = InstallRecords::new(0, std::time::Duration::from_secs(3600));
        let held = records.get("held");
        let active = records.get("active");
        active
            .lock()
            .record("i", None, Utc::now(), Utc::now() - Duration::hours(1));
        drop(active);
        records.get("idle");
        let mut registry = records.lock();
        records.sweep(&mut registry, Utc::now());
        let kept: Vec<&str> = {
            let mut k: Vec<&str> = registry.by_install.keys().map(|k| &**k).collect();
            k.sort();
            k
        };
        assert_eq!(kept, ["active", "held"]);
        drop(registry);
        drop(held);
    }
}
