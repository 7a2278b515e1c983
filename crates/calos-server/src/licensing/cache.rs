//! The in-memory license cache the verify and telemetry paths authenticate
//! against. A hit costs a map lookup and one HMAC; a license change
//! invalidates its entry at once (locally, and on PostgreSQL on every node via
//! `LISTEN/NOTIFY`, see [`super::notify`]); the TTL only bounds how stale an
//! entry can get if a notification was missed.
//!
//! Unknown install ids are cached too (briefly), and the key check runs
//! against a dummy hash for them, so "unknown install" and "wrong key" take
//! the same path and the same time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use calos_core::ids::{InstallId, LicenseKey};
use calos_core::license::License;
use calos_core::plan::Plan;
use calos_store::{Store, StoreError};

use crate::secrets::LicenseKeyHasher;

/// A license with what authenticating and deciding a verdict need.
#[derive(Debug, Clone)]
pub struct CachedLicense {
    pub license: License,
    pub plan: Plan,
    pub key_hash: Vec<u8>,
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

enum Slot {
    Known(Arc<CachedLicense>),
    /// No such install (or its plan is gone): remembered so probing random
    /// ids neither reaches the database nor answers faster than a wrong key.
    Missing,
}

struct Entry {
    slot: Slot,
    loaded: Instant,
}

/// Unknown installs are remembered for at most this long, so a license
/// created on another node is found soon even without a notification.
const MISSING_TTL: Duration = Duration::from_secs(10);
/// Above this many entries, expired ones are swept before inserting.
const SWEEP_ABOVE: usize = 100_000;

pub struct LicenseCache {
    store: Arc<dyn Store>,
    hasher: Arc<LicenseKeyHasher>,
    ttl: Duration,
    entries: RwLock<HashMap<String, Entry>>,
    /// Bumped by every invalidation: a load that started before one must not
    /// put back what the invalidation removed.
    generation: AtomicU64,
    /// The hash unknown installs are checked against.
    dummy_hash: Vec<u8>,
}

impl std::fmt::Debug for LicenseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LicenseCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl LicenseCache {
    pub fn new(store: Arc<dyn Store>, hasher: Arc<LicenseKeyHasher>, ttl: Duration) -> Self {
        let dummy_hash = hasher.hash(&LicenseKey::from_random_bytes(rand::random()));
        Self {
            store,
            hasher,
            ttl,
            entries: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            dummy_hash,
        }
    }

    /// Checks a deployment's credentials and returns its license and plan.
    pub async fn authenticate(
        &self,
        install_id: &str,
        license_key: &str,
    ) -> Result<Arc<CachedLicense>, AuthFailure> {
        let key = LicenseKey::parse(license_key).ok();
        let found = match InstallId::parse(install_id) {
            Ok(id) => self.lookup(&id).await.map_err(AuthFailure::Store)?,
            Err(_) => None,
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
        if let Some(hit) = self.fresh(id.as_str()) {
            return Ok(hit);
        }
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

    fn fresh(&self, install_id: &str) -> Option<Option<Arc<CachedLicense>>> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(install_id)?;
        let age = entry.loaded.elapsed();
        match &entry.slot {
            Slot::Known(c) if age < self.ttl => Some(Some(c.clone())),
            Slot::Missing if age < MISSING_TTL.min(self.ttl) => Some(None),
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
        Ok(Some(Arc::new(CachedLicense {
            license,
            plan,
            key_hash,
        })))
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
            entries.retain(|_, e| match e.slot {
                Slot::Known(_) => e.loaded.elapsed() < ttl,
                Slot::Missing => false,
            });
        }
        let slot = match loaded {
            Some(c) => Slot::Known(c),
            None => Slot::Missing,
        };
        entries.insert(
            install_id.to_owned(),
            Entry {
                slot,
                loaded: Instant::now(),
            },
        );
    }
}
