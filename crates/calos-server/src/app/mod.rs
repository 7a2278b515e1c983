//! Application state, start-up and the serve loop. `build` binds the listener
//! (port 0 in tests) and `run` serves until the shutdown future resolves;
//! background workers stop with the same signal.

pub mod connections;
mod middleware;
pub mod router;
pub mod security;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use calos_core::plan::default_plans;
use calos_store::Store;

use crate::config::Config;
use crate::ingest::limits::TelemetryLimits;
use crate::licensing::{LicenseCache, Licensing};
use crate::secrets::{KeySource, LicenseKeyHasher, MasterKey};
use crate::store::open_server_store;
use crate::workers;

pub use router::router;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub hasher: Arc<LicenseKeyHasher>,
    pub config: Arc<Config>,
    /// Authenticated licenses for the public API (verify, telemetry).
    pub license_cache: Arc<LicenseCache>,
    /// Signing keys, instances, batched writes and limits of the verify endpoint.
    pub licensing: Arc<Licensing>,
    /// Telemetry events per minute per install, by plan.
    pub telemetry_limits: Arc<TelemetryLimits>,
    /// Seals admins' TOTP secrets; derived once from the master key.
    pub totp_sealer: Arc<crate::auth::totp::TotpSealer>,
    /// Webhook endpoints' signing secrets; derived once from the master key.
    pub webhook_secrets: Arc<crate::notify::secret::WebhookSecrets>,
    /// Prometheus metrics of this server (`/metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    /// Opens the store (applying migrations), seeds the default plans where
    /// missing and loads the master key. Each failure names its step.
    pub async fn open(config: Config) -> anyhow::Result<(AppState, OpenReport)> {
        let store = open_server_store(&config).await?;
        let plans_inserted = store
            .ensure_plans(&default_plans())
            .await
            .context("cannot seed the default plans")?;
        let (master, key_source) =
            MasterKey::load(&config).context("cannot load the master key")?;
        let hasher = Arc::new(LicenseKeyHasher::new(&master)?);
        let state = AppState::from_parts(store, hasher, &master, config)?;
        state
            .licensing
            .keys
            .load(state.store.as_ref())
            .await
            .context("cannot load the signing keys")?;
        Ok((
            state,
            OpenReport {
                plans_inserted,
                key_source,
            },
        ))
    }
}

impl AppState {
    /// The state over an opened store and a loaded key: builds the caches
    /// and limiters every handler shares.
    pub fn from_parts(
        store: Arc<dyn Store>,
        hasher: Arc<LicenseKeyHasher>,
        master: &MasterKey,
        config: Config,
    ) -> anyhow::Result<AppState> {
        let licensing = Arc::new(Licensing::new(master, &config)?);
        let license_cache = Arc::new(LicenseCache::new(
            store.clone(),
            hasher.clone(),
            licensing.installs.clone(),
            config.license_cache_ttl,
        ));
        let config_limits = config.telemetry_events_per_minute;
        let totp_sealer = Arc::new(crate::auth::totp::TotpSealer::new(master)?);
        let webhook_secrets = Arc::new(crate::notify::secret::WebhookSecrets::new(master)?);
        Ok(AppState {
            store,
            hasher,
            config: Arc::new(config),
            license_cache,
            licensing,
            telemetry_limits: Arc::new(TelemetryLimits::new(config_limits)),
            totp_sealer,
            webhook_secrets,
            metrics: Arc::new(crate::metrics::Metrics::new()),
        })
    }
}

/// What `AppState::open` did, for `setup` and `serve` to report.
#[derive(Debug)]
pub struct OpenReport {
    pub plans_inserted: u64,
    pub key_source: KeySource,
}

/// Opens the state and binds the listener on the configured address.
pub async fn build(config: Config) -> anyhow::Result<(TcpListener, SocketAddr, AppState)> {
    let (state, _) = AppState::open(config).await?;
    let (listener, addr) = bind(&state.config).await?;
    Ok((listener, addr, state))
}

pub async fn bind(config: &Config) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let wanted = SocketAddr::new(config.bind, config.port);
    let listener = TcpListener::bind(wanted)
        .await
        .with_context(|| format!("cannot listen on {wanted}"))?;
    let addr = listener
        .local_addr()
        .context("listener has no local address")?;
    Ok((listener, addr))
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish
/// (for at most `shutdown_grace`) and only then stops the background
/// workers, so the batched writes those requests made are flushed by the
/// workers' last round. HTTPS when the configuration names a certificate
/// (loaded here; `serve` loads it earlier to fail before binding).
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let tls = tls::from_config(&state.config)?;
    run_with_tls(listener, state, tls, shutdown).await;
    Ok(())
}

/// [`run`] with the TLS acceptor already loaded (`None`: plain HTTP).
pub async fn run_with_tls(
    listener: TcpListener,
    state: AppState,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let workers = workers::spawn(&state, stop_rx);
    let limits = connections::Limits::from_config(&state.config);
    let app = router(state);
    connections::serve(listener, app, tls, limits, async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
    })
    .await;
    // After the drain: a verify answered during it still had its
    // last-seen news queued, and the writes worker flushes once more on stop.
    let _ = stop_tx.send(true);
    workers.join().await;
    tracing::info!("stopped: requests drained, batched writes flushed");
}
