//! The in-memory license cache the verify and telemetry paths authenticate
//! against. A hit costs a map lookup and one HMAC; a license change
//! invalidates its entry at once (locally, and on PostgreSQL on every node via
//! `LISTEN/NOTIFY`, see [`super::notify`]); the TTL only bounds how stale an
//! entry can get if a notification was missed.
//!
//! Unknown install ids are cached too (briefly), and the key check runs
//! against a dummy hash for them, so "unknown install" and "wrong key" take
//! the same path and the same time.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use calos_core::ids::{InstallId, LicenseKey};
use calos_core::license::License;
use calos_core::plan::Plan;
use calos_store::{Store, StoreError};

use crate::secrets::LicenseKeyHasher;

use super::cache_entries::{Entries, Entry, Slot};
use super::installs::{InstallRecord, InstallRecords};

/// A license with what authenticating, deciding and signing a verdict need,
/// the parts that only change with the license or plan worked out once.
#[derive(Debug, Clone)]
pub struct CachedLicense {
    pub license: License,
    /// Shared by every cached license on the plan (see `LicenseCache::share_plan`).
    pub plan: Arc<Plan>,
    /// The stored license-key hash, inline: one pointer fewer to follow
    /// (and one cache miss fewer) on every verify.
    pub key_hash: KeyHash,
    /// What this node keeps about the install (instances, rate-limit bucket,
    /// queued writes), reached from here without another lookup.
    pub install: Arc<InstallRecord>,
    /// What a valid verdict entitles to (`Plan::entitled_features`), shared
    /// like the plan.
    pub features: Arc<[String]>,
    /// The license's allowed domains as the claims carry them.
    pub allowed_domains: Vec<String>,
    /// The install's branding version (`BrandingStore::brand_version`), read
    /// with the entry; a brand change drops the entry (or all of them).
    pub branding_version: u64,
    /// Until when `license.advance_time` is known to change nothing (see
    /// [`Self::current`]); `None` when it already changes something.
    unchanged_until: Option<DateTime<Utc>>,
}

impl CachedLicense {
    /// An entry outside any cache, with a record of its own (see
    /// [`InstallRecord::standalone`]).
    pub fn new(license: License, plan: Plan, key_hash: Vec<u8>) -> Self {
        let install = InstallRecord::standalone(license.install_id.as_str());
        Self::loaded_at(license, shareable(plan), key_hash, install, Utc::now())
    }

    fn loaded_at(
        license: License,
        (plan, features): SharedPlan,
        key_hash: Vec<u8>,
        install: Arc<InstallRecord>,
        now: DateTime<Utc>,
    ) -> Self {
        let key_hash = inline_hash(&key_hash, &license.install_id);
        // `advance_time` looks at the clock only by comparing it with these
        // three times, so an answer of "nothing to do" holds until the next
        // of them is reached.
        let unchanged_until = license.advance_time(now).is_none().then(|| {
            [
                license.trial_ends_at,
                license.ends_at,
                Some(license.current_period_end),
            ]
            .into_iter()
            .flatten()
            .filter(|t| *t > now)
            .min()
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
        });
        Self {
            unchanged_until,
            install,
            features,
            allowed_domains: license.domains.iter().map(|d| d.to_string()).collect(),
            branding_version: 0,
            license,
            plan,
            key_hash,
        }
    }

    /// The same entry with the install's branding version.
    pub fn with_branding_version(mut self, version: u64) -> Self {
        self.branding_version = version;
        self
    }

    /// The license as of `now`: the cached one, or (when a trial, contract or
    /// billing period has ended since it was stored) a copy moved on by
    /// `License::advance_time`. Copies only in the latter case.
    pub fn current(&self, now: DateTime<Utc>) -> Cow<'_, License> {
        if self.unchanged_until.is_some_and(|until| now < until) {
            return Cow::Borrowed(&self.license);
        }
        match self.license.advance_time(now) {
            Some(moved) => Cow::Owned(moved),
            None => Cow::Borrowed(&self.license),
        }
    }
}

/// A license-key hash as the cache holds it (HMAC-SHA-256: 32 bytes).
pub type KeyHash = [u8; 32];

/// `stored` as a [`KeyHash`]. A stored hash of another length cannot come
/// from our hasher: it is logged, and an all-zero hash (which no key's HMAC
/// equals) stands in, so the install's key checks fail instead of the load.
fn inline_hash(stored: &[u8], install_id: &InstallId) -> KeyHash {
    KeyHash::try_from(stored).unwrap_or_else(|_| {
        tracing::error!(%install_id, length = stored.len(), "stored license-key hash has the wrong length; no key will match");
        [0; 32]
    })
}

/// A plan and its entitled features, shared by the cache entries on it.
type SharedPlan = (Arc<Plan>, Arc<[String]>);

/// A plan and its entitled features, ready to be shared by cache entries.
fn shareable(plan: Plan) -> SharedPlan {
    let features = plan.entitled_features().into();
    (Arc::new(plan), features)
}

/// `plan` as `plans` already holds it when unchanged; else a new shared copy.
fn share(plans: &mut HashMap<String, SharedPlan>, plan: Plan) -> SharedPlan {
    if let Some((shared, features)) = plans.get(plan.slug.as_str()) {
        if **shared == plan {
            return (shared.clone(), features.clone());
        }
    }
    let fresh = shareable(plan);
    plans.insert(fresh.0.slug.as_str().to_owned(), fresh.clone());
    fresh
}

/// Why a deployment could not be authenticated. `UnknownInstall` and
/// `BadKey` are for logs; outside they must look the same.
#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    #[error("unknown install")]
    UnknownInstall,
    #[error("wrong license key")]
    BadKey,
    #[error(transparent)]
    Store(StoreError),
}

/// Unknown installs are remembered for at most this long, so a license
/// created on another node is found soon even without a notification.
const MISSING_TTL: Duration = Duration::from_secs(10);
/// Above this many entries, expired ones are swept before inserting.
const SWEEP_ABOVE: usize = 100_000;

pub struct LicenseCache {
    store: Arc<dyn Store>,
    hasher: Arc<LicenseKeyHasher>,
    /// Where loaded entries get their install's record.
    installs: Arc<InstallRecords>,
    ttl: Duration,
    entries: RwLock<Entries>,
    /// Bumped by every invalidation: a load that started before one must not
    /// put back what the invalidation removed.
    generation: AtomicU64,
    /// The hash unknown installs are checked against.
    dummy_hash: KeyHash,
    /// One copy of each plan for all its licenses (see [`Self::share_plan`]).
    plans: Mutex<HashMap<String, SharedPlan>>,
    /// Lookups answered from memory and lookups that read the store, for
    /// `/metrics` (relaxed atomics: one uncontended add per lookup).
    hits: AtomicU64,
    misses: AtomicU64,
}

/// The cache's counters and size, as `/metrics` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: usize,
}

impl std::fmt::Debug for LicenseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LicenseCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl LicenseCache {
    pub fn new(
        store: Arc<dyn Store>,
        hasher: Arc<LicenseKeyHasher>,
        installs: Arc<InstallRecords>,
        ttl: Duration,
    ) -> Self {
        // Random bytes: as unmatchable as the hash of a random key, and
        // already the right shape.
        let dummy_hash: KeyHash = rand::random();
        Self {
            store,
            hasher,
            installs,
            ttl,
            entries: RwLock::new(Entries::default()),
            generation: AtomicU64::new(0),
            dummy_hash,
            plans: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Checks a deployment's credentials and returns its license and plan.
    pub async fn authenticate(
        &self,
        install_id: &str,
        license_key: &str,
    ) -> Result<Arc<CachedLicense>, AuthFailure> {
        let key = LicenseKey::parse(license_key).ok();
        // Only well-formed ids are ever cached, so a hit needs no parsing.
        let found = match self.fresh_counted(install_id) {
            Some(hit) => hit,
            None => match InstallId::parse(install_id) {
                Ok(id) => self.fill(&id).await.map_err(AuthFailure::Store)?,
                Err(_) => None,
            },
        };
        let hash = found.as_ref().map_or(&self.dummy_hash, |c| &c.key_hash);
        // Always run the constant-time check, even when the answer is already
        // known, so every failure costs the same.
        let key_ok = match &key {
            Some(k) => self.hasher.verify(k, hash),
            None => {
                let filler = LicenseKey::from_random_bytes([0; 32]);
                let _ = self.hasher.verify(&filler, hash);
                false
            }
        };
        match found {
            Some(cached) if key_ok => Ok(cached),
            Some(_) => Err(AuthFailure::BadKey),
            None => Err(AuthFailure::UnknownInstall),
        }
    }

    /// The cached license for `id`, loading it on a miss. `None` for an unknown install.
    pub async fn lookup(&self, id: &InstallId) -> Result<Option<Arc<CachedLicense>>, StoreError> {
        if let Some(hit) = self.fresh_counted(id.as_str()) {
            return Ok(hit);
        }
        self.fill(id).await
    }

    /// Loads `id` from the store and caches what it found.
    async fn fill(&self, id: &InstallId) -> Result<Option<Arc<CachedLicense>>, StoreError> {
        let generation = self.generation.load(Ordering::Acquire);
        let loaded = self.load(id).await?;
        self.insert(id.as_str(), loaded.clone(), generation);
        Ok(loaded)
    }

    /// Forgets one install, so its next request reads the store.
    pub fn invalidate(&self, install_id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(install_id);
        }
    }

    /// Forgets everything (a plan changed, or notifications may have been missed).
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    /// How many installs are cached (known or missing).
    pub fn len(&self) -> usize {
        self.entries.read().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hits, misses and size so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.len(),
        }
    }

    /// [`Self::fresh`], counted as a hit or a miss.
    fn fresh_counted(&self, install_id: &str) -> Option<Option<Arc<CachedLicense>>> {
        let found = self.fresh(install_id);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn fresh(&self, install_id: &str) -> Option<Option<Arc<CachedLicense>>> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(install_id)?;
        let age = entry.loaded.elapsed();
        match &entry.slot {
            Slot::Known(c) if age < self.ttl => Some(Some(c.clone())),
            Slot::Missing(_) if age < MISSING_TTL.min(self.ttl) => Some(None),
            _ => None,
        }
    }

    async fn load(&self, id: &InstallId) -> Result<Option<Arc<CachedLicense>>, StoreError> {
        let Some(license) = self.store.get_license(id).await? else {
            return Ok(None);
        };
        let Some(key_hash) = self.store.license_key_hash(id).await? else {
            return Ok(None);
        };
        let Some(plan) = self.store.get_plan(&license.plan).await? else {
            // A license whose plan was deleted cannot be decided; treat it as
            // unknown and say why in the log.
            tracing::error!(install_id = %id, plan = %license.plan.as_str(), "license refers to a missing plan");
            return Ok(None);
        };
        // Read once per cache fill, never per verify.
        let branding_version = self.store.brand_version(id).await?;
        Ok(Some(Arc::new(
            CachedLicense::loaded_at(
                license,
                self.share_plan(plan),
                key_hash,
                self.installs.get(id.as_str()),
                Utc::now(),
            )
            .with_branding_version(branding_version),
        )))
    }

    /// The cache's one copy of `plan` and its entitled features. Every
    /// license on a plan points at the same memory, so the verify path reads
    /// plan data the CPU has cached: with a copy per license (10 000 in the
    /// benchmark) the plan lookups and the claims' features and limits missed
    /// the CPU cache on every request. A plan that changed gets a new copy.
    fn share_plan(&self, plan: Plan) -> SharedPlan {
        let mut plans = self.plans.lock().unwrap_or_else(PoisonError::into_inner);
        share(&mut plans, plan)
    }

    fn insert(&self, install_id: &str, loaded: Option<Arc<CachedLicense>>, generation: u64) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        // Checked under the write lock: an invalidation after our read wins.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= SWEEP_ABOVE {
            let ttl = self.ttl;
            entries.retain(|e| match e.slot {
                Slot::Known(_) => e.loaded.elapsed() < ttl,
                Slot::Missing(_) => false,
            });
        }
        let slot = match loaded {
            Some(c) => Slot::Known(c),
            None => Slot::Missing(install_id.into()),
        };
        entries.insert(Entry {
            slot,
            loaded: Instant::now(),
        });
    }
}

#[cfg(test)]
mod tests {
    use calos_core::customer::Notes;
    use calos_core::license::{BillingPeriod, LicenseStatus, LicenseTerms};
    use calos_core::plan::{default_plans, PlanSlug};
    use chrono::Duration;

    use super::*;

    fn cached(trial_days: u32, now: DateTime<Utc>) -> CachedLicense {
        let license = License::create(
            LicenseTerms {
                install_id: InstallId::parse("cache-test-0001").unwrap(),
                customer_id: 1,
                plan: PlanSlug::parse("pro").unwrap(),
                billing_period: BillingPeriod::Monthly,
                trial_days,
                notes: Notes::parse("").unwrap(),
                domains: Vec::new(),
            },
            now,
        );
        let plan = default_plans().into_iter().next().unwrap();
        let install = InstallRecord::standalone(license.install_id.as_str());
        CachedLicense::loaded_at(license, shareable(plan), vec![9; 32], install, now)
    }

    #[test]
    fn the_key_hash_is_held_inline_and_a_malformed_one_matches_nothing() {
        let id = InstallId::parse("cache-test-0002").unwrap();
        assert_eq!(inline_hash(&[7; 32], &id), [7; 32]);
        for malformed in [&[][..], &[7; 31][..], &[7; 33][..]] {
            // All zeros: no HMAC-SHA-256 output equals it.
            assert_eq!(inline_hash(malformed, &id), [0; 32]);
        }
        assert_eq!(cached(0, Utc::now()).key_hash, [9; 32]);
    }

    #[test]
    fn licenses_on_one_plan_share_one_copy_until_it_changes() {
        let mut plans = HashMap::new();
        let pro = || {
            default_plans()
                .into_iter()
                .find(|p| p.slug.as_str() == "pro")
                .unwrap()
        };
        let (a, fa) = share(&mut plans, pro());
        let (b, fb) = share(&mut plans, pro());
        assert!(Arc::ptr_eq(&a, &b) && Arc::ptr_eq(&fa, &fb), "one copy");
        assert_eq!(*fa, *pro().entitled_features());
        let mut changed = pro();
        changed.name = "Pro 2".into();
        let (c, _) = share(&mut plans, changed.clone());
        assert!(!Arc::ptr_eq(&a, &c), "a changed plan is not the old copy");
        assert_eq!(c.name, "Pro 2");
        let (d, _) = share(&mut plans, changed);
        assert!(Arc::ptr_eq(&c, &d), "and is shared from then on");
    }

    #[test]
    fn the_cached_license_moves_on_exactly_when_advance_time_would() {
        let now = Utc::now();
        for trial_days in [0, 14] {
            let c = cached(trial_days, now);
            for later in [0, 1, 13, 14, 15, 29, 30, 31, 32, 61, 400] {
                let at = now + Duration::days(later) + Duration::seconds(1);
                let expected = c.license.advance_time(at).unwrap_or(c.license.clone());
                assert_eq!(*c.current(at), expected, "trial {trial_days}, day {later}");
            }
        }
        let trial = cached(14, now);
        let ended = trial.current(now + Duration::days(15));
        assert_eq!(ended.status, LicenseStatus::Expired, "a trial ends on time");
        assert!(
            matches!(trial.current(now), Cow::Borrowed(_)),
            "no copy while nothing changes"
        );
    }
}
