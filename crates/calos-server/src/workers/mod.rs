//! Background work that runs beside the HTTP server and stops with it.

pub mod expiry;
pub mod retention;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::AppState;

/// The running workers; `join` waits for them after the stop signal.
pub struct Workers {
    handles: Vec<JoinHandle<()>>,
}

pub fn spawn(state: &AppState, stop: watch::Receiver<bool>) -> Workers {
    let licensing = crate::licensing::spawn_workers(
        &state.licensing,
        &state.license_cache,
        &state.store,
        &state.config,
        &stop,
    );
    let retention = tokio::spawn(retention::run(
        state.store.clone(),
        state.config.telemetry_retention_days,
        state.config.retention_interval,
        stop.clone(),
    ));
    let expiry = tokio::spawn(expiry::run(
        state.store.clone(),
        state.config.expiry_interval,
        stop,
    ));
    let mut handles = vec![expiry, retention];
    handles.extend(licensing);
    Workers { handles }
}

impl Workers {
    pub async fn join(self) {
        for handle in self.handles {
            if let Err(e) = handle.await {
                tracing::error!(error = %e, "background worker panicked");
            }
        }
    }
}
