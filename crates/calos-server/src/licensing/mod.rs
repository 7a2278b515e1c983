//! The phone-home side of licensing: the license cache, signing keys and
//! signed verdicts, instance tracking and the writes the verify path defers.

pub mod cache;
mod cache_entries;
pub mod installs;
mod instance_table;
pub mod keys;
pub mod notify;
pub mod verdict;
pub mod writes;

use std::net::IpAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use calos_core::verdict::VerifyPolicy;
use calos_store::Store;

use crate::config::Config;
use crate::ratelimit::KeyedLimiter;
use crate::secrets::MasterKey;
use crate::store::{backend_for, Backend};

pub use cache::{AuthFailure, CachedLicense, LicenseCache};
pub use installs::{InstallRecord, InstallRecords};
pub use keys::{KeyRing, KeySealer};
pub use writes::VerifyWrites;

/// How often a node re-reads the signing keys, so a `calos keys rotate`
/// run elsewhere reaches it.
const KEY_RELOAD: Duration = Duration::from_secs(30);

/// What the verify endpoint needs besides the store and the cache.
#[derive(Debug)]
pub struct Licensing {
    pub keys: KeyRing,
    /// Per-install instances, rate-limit buckets and queued writes; the
    /// license cache hands each entry its install's record.
    pub installs: Arc<InstallRecords>,
    pub writes: Arc<VerifyWrites>,
    /// Keyed by the peer address (`None`: unknown, one bucket for all such).
    pub per_ip: KeyedLimiter<Option<IpAddr>>,
    pub policy: VerifyPolicy,
    /// True while this node LISTENs for license changes (PostgreSQL only).
    pub listening: Arc<AtomicBool>,
}

impl Licensing {
    pub fn new(master: &MasterKey, config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            keys: KeyRing::new(KeySealer::new(master)?),
            installs: Arc::new(InstallRecords::new(
                config.verify_per_install_per_minute,
                config.instance_active_window,
            )),
            writes: Arc::new(VerifyWrites::default()),
            per_ip: KeyedLimiter::per_minute(config.verify_per_ip_per_minute),
            policy: VerifyPolicy::default(),
            listening: Arc::new(AtomicBool::new(false)),
        })
    }
}

/// The licensing workers: batched writes, key reloads and (on PostgreSQL)
/// the change listener. All stop with `stop`.
pub fn spawn_workers(
    licensing: &Arc<Licensing>,
    cache: &Arc<LicenseCache>,
    store: &Arc<dyn Store>,
    config: &Config,
    stop: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let mut handles = vec![
        tokio::spawn(writes::run(
            licensing.writes.clone(),
            store.clone(),
            config.verify_flush_interval,
            stop.clone(),
        )),
        tokio::spawn(reload_keys(licensing.clone(), store.clone(), stop.clone())),
    ];
    if matches!(backend_for(&config.database_url), Ok(Backend::Postgres)) {
        handles.push(tokio::spawn(notify::run(
            config.database_url.clone(),
            cache.clone(),
            stop.clone(),
            licensing.listening.clone(),
        )));
    }
    handles
}

async fn reload_keys(
    licensing: Arc<Licensing>,
    store: Arc<dyn Store>,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(KEY_RELOAD);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if let Err(e) = licensing.keys.load(store.as_ref()).await {
                    tracing::warn!(error = format!("{e:#}"), "cannot reload signing keys; keeping the current one");
                }
            }
            _ = stop.changed() => break,
        }
    }
}
