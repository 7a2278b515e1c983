//! `Client::builder()`: settings with safe defaults, checked once in `build()`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;

use crate::clock::{Clock, SystemClock};
use crate::error::BuildError;
use crate::keys::KeyRing;

/// Everything a client runs with (after `build`).
#[derive(Clone)]
pub(crate) struct Config {
    pub server: String,
    pub install_id: String,
    pub license_key: String,
    /// Pinned keys; `None` = fetch the server's JWKS.
    pub pinned: Option<KeyRing>,
    pub domain: Option<String>,
    pub product_version: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub startup_timeout: Duration,
    pub request_timeout: Duration,
    pub min_refresh: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub queue_capacity: usize,
    pub batch_size: usize,
    pub flush_interval: Duration,
    pub shutdown_timeout: Duration,
    pub user_salt: Option<[u8; 32]>,
    pub clock: Arc<dyn Clock>,
}

/// Builds a [`crate::Client`]. Required: `server`, `install_id`, `license_key`.
#[derive(Clone)]
pub struct ClientBuilder {
    server: Option<String>,
    install_id: Option<String>,
    license_key: Option<String>,
    keys: Option<Result<KeyRing, String>>,
    domain: Option<String>,
    product_version: Option<String>,
    data_dir: Option<PathBuf>,
    startup_timeout: Duration,
    request_timeout: Duration,
    min_refresh: Duration,
    backoff_base: Duration,
    backoff_max: Duration,
    queue_capacity: usize,
    batch_size: usize,
    flush_interval: Duration,
    shutdown_timeout: Duration,
    user_salt: Option<[u8; 32]>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("server", &self.server)
            .field("install_id", &self.install_id)
            .field(
                "license_key",
                &self.license_key.as_ref().map(|_| "<redacted>"),
            )
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            server: None,
            install_id: None,
            license_key: None,
            keys: None,
            domain: None,
            product_version: None,
            data_dir: None,
            startup_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
            min_refresh: Duration::from_secs(30),
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(3600),
            queue_capacity: 10_000,
            batch_size: crate::telemetry::MAX_BATCH_EVENTS,
            flush_interval: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(5),
            user_salt: None,
            clock: Arc::new(SystemClock),
        }
    }
}

impl ClientBuilder {
    /// The CALOS server's base URL (`https://license.vendor.example`).
    pub fn server(mut self, url: &str) -> Self {
        self.server = Some(url.trim().trim_end_matches('/').to_owned());
        self
    }

    pub fn install_id(mut self, id: &str) -> Self {
        self.install_id = Some(id.trim().to_owned());
        self
    }

    pub fn license_key(mut self, key: &str) -> Self {
        self.license_key = Some(key.trim().to_owned());
        self
    }

    /// Pins the keys tokens must be signed with (the vendor ships them in its
    /// product). Without pinned keys the SDK fetches the server's JWKS.
    pub fn trusted_keys(mut self, keys: &JwkSet) -> Self {
        self.keys = Some(Ok(KeyRing::from_jwks(keys)));
        self
    }

    /// [`Self::trusted_keys`] from a JWKS document.
    pub fn trusted_keys_json(mut self, json: &str) -> Self {
        self.keys = Some(KeyRing::from_json(json.as_bytes()));
        self
    }

    /// The domain this deployment serves (checked against the license's allowed domains).
    pub fn domain(mut self, domain: &str) -> Self {
        self.domain = Some(domain.trim().to_owned());
        self
    }

    pub fn product_version(mut self, version: &str) -> Self {
        self.product_version = Some(version.trim().to_owned());
        self
    }

    /// Where the instance id, the last signed answer and unsent telemetry are
    /// kept. Without it the instance id is new each run and nothing survives a restart.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// The longest `start()` waits for the first answer (default 3 s).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// The longest one HTTP exchange may take (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The shortest delay between two successful refreshes (default 30 s).
    pub fn min_refresh(mut self, delay: Duration) -> Self {
        self.min_refresh = delay;
        self
    }

    /// First retry delay and the cap of the exponential backoff (defaults 5 s, 1 h).
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_max = max;
        self
    }

    /// Most events held in memory (default 10,000); the oldest are dropped beyond it.
    pub fn telemetry_queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// Events per batch (at most 1,000).
    pub fn telemetry_batch_size(mut self, size: usize) -> Self {
        self.batch_size = size;
        self
    }

    /// How often queued events are sent even when a batch is not full (default 10 s).
    pub fn telemetry_flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// The longest `shutdown()` spends sending what is left (default 5 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Overrides the salt of user-id hashing (default: derived from the license key).
    pub fn user_salt(mut self, salt: [u8; 32]) -> Self {
        self.user_salt = Some(salt);
        self
    }

    /// The clock (tests move it by hand; the default is the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the settings and builds the client; reads the data directory
    /// (instance id, cached answer, saved events) but makes no network call.
    pub fn build(self) -> Result<crate::Client, BuildError> {
        let server = self.server.ok_or(BuildError::Missing("server"))?;
        let parsed =
            reqwest::Url::parse(&server).map_err(|e| BuildError::BadServer(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(BuildError::BadServer(format!(
                "{server}: not an http(s) URL"
            )));
        }
        let install_id = self
            .install_id
            .filter(|s| !s.is_empty())
            .ok_or(BuildError::Missing("install_id"))?;
        let license_key = self
            .license_key
            .filter(|s| !s.is_empty())
            .ok_or(BuildError::Missing("license_key"))?;
        let pinned = match self.keys {
            None => None,
            Some(Err(e)) => return Err(BuildError::BadKeys(e)),
            Some(Ok(ring)) if ring.is_empty() => {
                return Err(BuildError::BadKeys(
                    "no Ed25519 signing key with a kid".to_owned(),
                ))
            }
            Some(Ok(ring)) => Some(ring),
        };
        let cfg = Config {
            server,
            install_id,
            license_key,
            pinned,
            domain: self.domain.filter(|s| !s.is_empty()),
            product_version: self.product_version.filter(|s| !s.is_empty()),
            data_dir: self.data_dir,
            startup_timeout: self.startup_timeout,
            request_timeout: self.request_timeout.max(Duration::from_millis(10)),
            min_refresh: self.min_refresh,
            backoff_base: self.backoff_base,
            backoff_max: self.backoff_max,
            queue_capacity: self.queue_capacity.max(1),
            batch_size: self.batch_size.clamp(1, crate::telemetry::MAX_BATCH_EVENTS),
            flush_interval: self.flush_interval.max(Duration::from_millis(10)),
            shutdown_timeout: self.shutdown_timeout,
            user_salt: self.user_salt,
            clock: self.clock,
        };
        crate::client::Client::from_config(cfg)
    }
}
