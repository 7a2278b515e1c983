//! Background work that runs beside the HTTP server and stops with it.

pub mod expiry;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::AppState;

/// The running workers; `join` waits for them after the stop signal.
pub struct Workers {
    handles: Vec<JoinHandle<()>>,
}

pub fn spawn(state: &AppState, stop: watch::Receiver<bool>) -> Workers {
    let expiry = tokio::spawn(expiry::run(
        state.store.clone(),
        state.config.expiry_interval,
        stop,
    ));
    Workers {
        handles: vec![expiry],
    }
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
