//! The client handle a host application keeps: cheap to clone, every read
//! (`state`, `allows`) from memory, all network work in background tasks.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use calos_core::protocol::LicenseClaims;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::builder::{ClientBuilder, Config};
use crate::datadir::{self, DataDir};
use crate::error::{BuildError, CallError};
use crate::http::Http;
use crate::keys::KeyRing;
use crate::state::{evaluate, Diagnostics, LicenseState};
use crate::telemetry::event::Event;
use crate::telemetry::queue::BoundedQueue;
use crate::telemetry::user::{HashedUser, UserHasher};
use crate::telemetry::{persist, sender};
use crate::timebase::TimeBase;
use crate::token::{self, Expect};

/// The SDK. Create with [`Client::builder`], call [`Client::start`] once at
/// startup and [`Client::shutdown`] before exit.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("install_id", &self.inner.cfg.install_id)
            .field("instance_id", &self.inner.instance_id)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub cfg: Config,
    pub http: Http,
    pub data: Option<DataDir>,
    pub instance_id: String,
    pub keys: RwLock<KeyRing>,
    pub license: Mutex<LicenseMemory>,
    pub telemetry: Mutex<TelemetryMemory>,
    pub telemetry_wake: Notify,
    pub stop: watch::Sender<bool>,
    /// Counts finished verify attempts, so `start` can wait for the first.
    pub attempts: watch::Sender<u64>,
    pub tasks: Mutex<Vec<JoinHandle<()>>>,
    pub started: Mutex<bool>,
    /// One verify exchange at a time (background refresh and `refresh_now`).
    pub verify_lock: tokio::sync::Mutex<()>,
    pub hasher: UserHasher,
}

pub(crate) struct LicenseMemory {
    pub held: Option<LicenseClaims>,
    pub time: TimeBase,
    pub diag: Diagnostics,
}

pub(crate) struct TelemetryMemory {
    pub queue: BoundedQueue,
    pub stats: crate::state::TelemetryStats,
}

/// Locks a mutex, recovering from poisoning (a panic elsewhere must not
/// spread to the host application).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Client {
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub(crate) fn from_config(cfg: Config) -> Result<Self, BuildError> {
        let http = Http::new(&cfg.server, cfg.request_timeout)
            .map_err(|e| BuildError::Http(e.to_string()))?;
        let data = cfg.data_dir.as_deref().map(DataDir::open).transpose()?;
        let instance_id = match &data {
            Some(dir) => dir.instance_id()?,
            None => datadir::new_instance_id(),
        };
        let keys = match (&cfg.pinned, &data) {
            (Some(ring), _) => ring.clone(),
            (None, Some(dir)) => dir
                .read(datadir::JWKS)
                .ok()
                .flatten()
                .and_then(|b| KeyRing::from_json(&b).ok())
                .unwrap_or_default(),
            (None, None) => KeyRing::default(),
        };

        let mut diag = Diagnostics {
            instance_id: instance_id.clone(),
            ..Diagnostics::default()
        };
        let mut held = None;
        let mut floor = 0;
        if let Some(dir) = &data {
            floor = dir.read_watermark().unwrap_or(0);
            match load_cached(dir, &keys, &cfg.install_id, &instance_id) {
                Ok(Some(claims)) => {
                    floor = floor.max(claims.iat);
                    diag.code = Some(claims.code);
                    diag.message = Some(claims.message.clone());
                    diag.warning = claims.warning.clone();
                    held = Some(claims);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "calos: cached license token rejected");
                    diag.last_error = Some(format!("cached token rejected: {e}"));
                }
            }
        }

        let mut queue = BoundedQueue::new(cfg.queue_capacity);
        if let Some(dir) = &data {
            queue.push_front_all(persist::load(dir));
        }
        let hasher = match cfg.user_salt {
            Some(salt) => UserHasher::with_salt(salt),
            None => UserHasher::new(&cfg.install_id, &cfg.license_key),
        };
        let (stop, _) = watch::channel(false);
        let (attempts, _) = watch::channel(0);
        let inner = Inner {
            http,
            data,
            instance_id,
            keys: RwLock::new(keys),
            license: Mutex::new(LicenseMemory {
                held,
                time: TimeBase::with_floor(floor),
                diag,
            }),
            telemetry: Mutex::new(TelemetryMemory {
                queue,
                stats: Default::default(),
            }),
            telemetry_wake: Notify::new(),
            stop,
            attempts,
            tasks: Mutex::new(Vec::new()),
            started: Mutex::new(false),
            verify_lock: tokio::sync::Mutex::new(()),
            hasher,
            cfg,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Starts the background refresh and telemetry tasks and waits for the
    /// first verify answer — at most the startup timeout. When the server
    /// does not answer in time, the state comes from the disk cache (or is
    /// `Unlicensed`) and the refresh goes on in the background. Calling it
    /// again does nothing.
    pub async fn start(&self) {
        {
            let mut started = lock(&self.inner.started);
            if *started {
                return;
            }
            *started = true;
        }
        let mut attempts = self.inner.attempts.subscribe();
        let refresh = tokio::spawn(crate::refresh::run(
            self.inner.clone(),
            self.inner.stop.subscribe(),
        ));
        let telemetry = tokio::spawn(sender::run(self.inner.clone(), self.inner.stop.subscribe()));
        lock(&self.inner.tasks).extend([refresh, telemetry]);
        let first = async {
            while *attempts.borrow_and_update() == 0 {
                if attempts.changed().await.is_err() {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(self.inner.cfg.startup_timeout, first).await;
    }

    /// The license state now, from memory (never waits on the network).
    pub fn state(&self) -> LicenseState {
        let mut mem = lock(&self.inner.license);
        let now = self.inner.cfg.clock.now();
        let eff = mem.time.observe(now);
        evaluate(mem.held.as_ref(), eff)
    }

    /// Whether `feature` may be used now.
    pub fn allows(&self, feature: &str) -> bool {
        self.state().allows(feature)
    }

    /// What the SDK last saw (errors, clock skew, telemetry counters).
    pub fn diagnostics(&self) -> Diagnostics {
        let mut diag = {
            let mut mem = lock(&self.inner.license);
            let now = self.inner.cfg.clock.now();
            mem.time.observe(now);
            let mut d = mem.diag.clone();
            d.clock_moved_back_secs = mem.time.moved_back();
            d
        };
        let tel = lock(&self.inner.telemetry);
        diag.telemetry = tel.stats.clone();
        diag.telemetry.queued = tel.queue.len();
        diag.telemetry.dropped = tel.queue.dropped();
        diag
    }

    /// This deployment's stable instance id.
    pub fn instance_id(&self) -> &str {
        &self.inner.instance_id
    }

    /// Verifies now (one exchange, bounded by the request timeout) and
    /// returns the resulting state; on failure the state is unchanged.
    pub async fn refresh_now(&self) -> Result<LicenseState, CallError> {
        self.inner.verify_once().await?;
        Ok(self.state())
    }

    /// Queues an event; never blocks and never fails. When the queue is
    /// full the oldest event is dropped (and counted).
    pub fn track(&self, event: Event) {
        let now = crate::state::to_time(self.inner.cfg.clock.now());
        let wire = event.into_wire(now);
        let full = {
            let mut tel = lock(&self.inner.telemetry);
            tel.queue.push(wire);
            tel.queue.len() >= self.inner.cfg.batch_size
        };
        if full {
            self.inner.telemetry_wake.notify_one();
        }
    }

    /// The pseudonym to put in events for a raw user id or e-mail.
    pub fn hash_user(&self, raw: &str) -> HashedUser {
        self.inner.hasher.hash(raw)
    }

    /// Stops the background tasks: sends what is queued (at most the
    /// shutdown timeout), saves what could not be sent to the data directory
    /// and the clock watermark with it.
    pub async fn shutdown(&self) {
        let _ = self.inner.stop.send(true);
        let tasks: Vec<_> = lock(&self.inner.tasks).drain(..).collect();
        let grace = self.inner.cfg.shutdown_timeout + self.inner.cfg.request_timeout;
        for task in tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout(grace, task).await.is_err() {
                abort.abort();
            }
        }
        let started = *lock(&self.inner.started);
        if !started {
            // Never started: the queue still holds what was tracked.
            if let Some(dir) = &self.inner.data {
                let events = lock(&self.inner.telemetry).queue.drain_all();
                if let Err(e) = persist::save(dir, &events) {
                    tracing::warn!(error = %e, "calos: could not save telemetry");
                }
            }
        }
        self.inner.persist_watermark().await;
    }
}

/// The cached answer, verified again (signature, install, instance).
fn load_cached(
    dir: &DataDir,
    keys: &KeyRing,
    install_id: &str,
    instance_id: &str,
) -> Result<Option<LicenseClaims>, String> {
    let Some(bytes) = dir.read(datadir::LICENSE).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let token = String::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
    let expect = Expect {
        install_id,
        instance_id,
        nonce: None,
    };
    token::verify(token.trim(), keys, &expect)
        .map(Some)
        .map_err(|e| e.to_string())
}
