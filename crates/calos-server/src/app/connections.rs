//! The accept loop: HTTP/1.1 over plain TCP or rustls, with the limits that
//! keep one client from tying the server up (axum's own `serve` exposes none
//! of them):
//!
//! * a request head over `max_header_bytes`, or with more than `max_headers`
//!   fields, gets hyper's empty 431 and the connection is closed;
//! * a client that has not finished its TLS handshake, or sent a whole
//!   request head, within `header_read_timeout` is disconnected — so
//!   slowloris connections trickling bytes, and idle keep-alive ones, free
//!   their slot (a slow *body* is bounded by the request timeout);
//! * at most `max_connections` connections are served at once; more wait in
//!   the kernel's accept queue rather than costing memory here.
//!
//! Shutdown closes the listener (new connections are refused), lets
//! in-flight requests finish and closes idle connections (hyper-util's
//! `GracefulShutdown`) — for at most `shutdown_grace`, after which whatever
//! is still running is abandoned so a stuck client cannot hold the process.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::Config;

/// Per-connection limits, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_header_bytes: usize,
    pub max_headers: usize,
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
}

impl Limits {
    pub fn from_config(config: &Config) -> Self {
        Limits {
            // The config refuses less; hyper would panic below its minimum.
            max_header_bytes: config.max_header_bytes.max(crate::config::MIN_HEADER_BYTES),
            max_headers: config.max_headers,
            header_read_timeout: config.header_read_timeout,
            max_connections: config.max_connections.max(1),
            shutdown_grace: config.shutdown_grace,
        }
    }

    fn http1(&self) -> http1::Builder {
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_buf_size(self.max_header_bytes)
            .max_headers(self.max_headers)
            .keep_alive(true);
        builder
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then waits (at most
/// `limits.shutdown_grace`) for the open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let http = Arc::new(limits.http1());
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                // The semaphore is never closed; stop serving if it were.
                Err(_) => break,
            },
        };
        let (stream, remote) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        let connection = Connection {
            app: app.clone(),
            http: http.clone(),
            remote,
            watcher: graceful.watcher(),
            _permit: permit,
        };
        let tls = tls.clone();
        let handshake_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            // Nagle would hold back small responses waiting for the next write.
            let _ = stream.set_nodelay(true);
            match tls {
                None => connection.run(stream).await,
                Some(acceptor) => {
                    match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => connection.run(stream).await,
                        Ok(Err(e)) => tracing::debug!(%remote, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    // Closed now, not after the drain: new clients are refused at once and
    // go to another node rather than waiting for a server that is leaving.
    drop(listener);
    drain(graceful, limits.shutdown_grace).await;
}

/// Waits for the open connections to finish their requests, up to `grace`.
async fn drain(graceful: GracefulShutdown, grace: Duration) {
    let open = graceful.count();
    if open > 0 {
        tracing::info!(connections = open, "draining connections");
    }
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = grace.as_secs_f64(),
            "shutdown grace over; abandoning the requests still running"
        );
    }
}

/// One accepted connection and what it holds until it closes.
struct Connection {
    app: Router,
    http: Arc<http1::Builder>,
    remote: SocketAddr,
    watcher: Watcher,
    /// Its slot among `max_connections`, given back on drop.
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    async fn run<S>(self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let remote = self.remote;
        // Handlers read the peer address as `ConnectInfo`, as under axum::serve.
        let app = self
            .app
            .map_request(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(remote));
                req
            });
        let conn = self
            .http
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
        if let Err(e) = self.watcher.watch(conn).await {
            // Timeouts, oversized heads and clients going away end up here:
            // the client's doing, so not worth more than debug.
            tracing::debug!(%remote, error = %e, "connection closed with an error");
        }
    }
}

/// Accept errors that concern one connection (it was reset before we took
/// it) are skipped; anything else, like running out of file descriptors,
/// is logged and retried after a pause rather than spinning.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_never_go_below_what_hyper_accepts() {
        let config = Config {
            max_header_bytes: 10,
            max_connections: 0,
            ..Config::default()
        };
        let limits = Limits::from_config(&config);
        assert_eq!(limits.max_header_bytes, crate::config::MIN_HEADER_BYTES);
        assert_eq!(limits.max_connections, 1);
        // Would panic on a buffer under hyper's minimum.
        let _ = limits.http1();
    }
}
