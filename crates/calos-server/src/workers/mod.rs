//! Background work that runs beside the HTTP server and stops with it.

pub mod expiry;
pub mod notify_deliver;
pub mod notify_scan;
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
    let notify = spawn_notify(state, &stop);
    // The separate metrics port, when configured, stops with the workers.
    let metrics_port = crate::metrics::port::spawn(state, stop.clone());
    let expiry = tokio::spawn(expiry::run(
        state.store.clone(),
        state.config.expiry_interval,
        stop,
    ));
    let mut handles = vec![expiry, retention];
    handles.extend(licensing);
    handles.extend(notify);
    handles.extend(metrics_port);
    Workers { handles }
}

/// The notification workers: delivery of the outbox and the scans.
fn spawn_notify(state: &AppState, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let notify = &state.config.notify;
    let scanner = std::sync::Arc::new(crate::notify::scan::Scanner::new(
        state.store.clone(),
        notify.clone(),
    ));
    let mut handles = vec![tokio::spawn(notify_scan::run(
        scanner,
        notify.scan_interval,
        notify.insight_interval,
        stop.clone(),
    ))];
    match notify_deliver::deliverer(
        state.store.clone(),
        &state.config,
        state.webhook_secrets.as_ref().clone(),
    ) {
        Ok(d) => handles.push(tokio::spawn(notify_deliver::run(
            d,
            notify.deliver_interval,
            stop.clone(),
        ))),
        // The configuration was checked at load: only the master key can fail here.
        Err(e) => tracing::error!(error = format!("{e:#}"), "notifications are not delivered"),
    }
    handles
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
