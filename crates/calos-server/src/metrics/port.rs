//! The separate metrics port (`metrics_addr`, `CALOS_METRICS_ADDR`,
//! `--metrics-addr`): plain HTTP serving only `GET /metrics`, without
//! authentication — bind it to an address only Prometheus can reach. While
//! it is configured, the main port has no `/metrics`.

use std::net::SocketAddr;

use anyhow::Context;
use axum::routing::get;
use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::connections::{self, Limits};
use crate::app::AppState;

/// Binds the configured metrics address now, so `calos serve` fails before
/// it starts when the port is taken; the worker serves it later. `None`
/// when no separate port is configured. Binding twice keeps the first.
pub fn bind(state: &AppState) -> anyhow::Result<Option<SocketAddr>> {
    let Some(wanted) = state.config.metrics_addr else {
        return Ok(None);
    };
    if let Some(addr) = state.metrics.port_addr() {
        return Ok(Some(addr));
    }
    let listener = std::net::TcpListener::bind(wanted)
        .with_context(|| format!("cannot listen for metrics on {wanted}"))?;
    listener
        .set_nonblocking(true)
        .context("metrics listener: non-blocking mode")?;
    let addr = listener
        .local_addr()
        .context("metrics listener has no local address")?;
    if let Ok(mut slot) = state.metrics.port_listener.lock() {
        *slot = Some(listener);
    }
    let _ = state.metrics.port_addr.set(addr);
    Ok(Some(addr))
}

/// Serves the metrics port until `stop` (binding it first if `bind` was
/// not called, as in tests). Nothing when no separate port is configured.
pub fn spawn(state: &AppState, mut stop: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
    state.config.metrics_addr?;
    if let Err(e) = bind(state) {
        tracing::error!(error = format!("{e:#}"), "metrics are not served");
        return None;
    }
    let listener = state
        .metrics
        .port_listener
        .lock()
        .ok()
        .and_then(|mut slot| slot.take())?;
    let app = router(state.clone());
    let limits = Limits::from_config(&state.config);
    Some(tokio::spawn(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "metrics listener unusable; metrics are not served");
                return;
            }
        };
        connections::serve(listener, app, None, limits, async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        })
        .await;
    }))
}

fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let routes = Router::new()
        .route("/metrics", get(super::route::scrape_open))
        .fallback(|| async { crate::error::ApiError::NoRoute });
    crate::app::router::with_request_layers(routes, &config).with_state(state)
}
