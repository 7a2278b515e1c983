//! `calos serve`: load the TLS certificate when one is configured (first, so
//! a bad path fails before anything else), migrate, seed plans, make sure an
//! admin exists, optionally load the demo, then serve until SIGTERM or Ctrl-C.

use std::net::SocketAddr;

use anyhow::Context;
use calos_core::audit::Actor;

use super::bootstrap::{ensure_first_admin, FirstAdmin, FIRST_ADMIN};
use super::setup::load_demo;
use crate::app::{self, AppState};
use crate::config::Config;

pub async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let tls = app::tls::from_config(&config)?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let (state, _) = AppState::open(config).await?;
    let first = ensure_first_admin(
        state.store.as_ref(),
        state.config.admin_password.as_ref(),
        Actor::System,
    )
    .await?;
    if demo {
        let summary = load_demo(&state, &mut |line: &str| eprintln!("demo: {line}")).await?;
        // The loader itself reports when the data was already there.
        if !summary.already_present {
            eprintln!(
                "demo: {} customers, {} licenses, {} events, {} usage records loaded",
                summary.customers, summary.licenses, summary.events, summary.usage_records
            );
        }
    }
    let (listener, addr) = app::bind(&state.config).await?;
    let metrics_addr = crate::metrics::port::bind(&state)?;
    print_banner(scheme, addr, &first, state.store.backend());
    print_metrics(scheme, addr, metrics_addr);
    app::run_with_tls(listener, state, tls, shutdown_signal()).await;
    println!("CALOS stopped");
    Ok(())
}

fn print_banner(scheme: &str, addr: SocketAddr, first: &FirstAdmin, backend: &str) {
    let host = if addr.ip().is_unspecified() {
        "localhost".to_owned()
    } else {
        addr.ip().to_string()
    };
    let base = format!("{scheme}://{host}:{}", addr.port());
    println!("CALOS Enterprise is running at {base} (store: {backend})");
    println!("  health:     {base}/healthz");
    println!("  admin API:  {base}/api/enterprise/stats");
    match first {
        FirstAdmin::Created {
            generated: Some(pw),
        } => {
            println!("  first admin created: username {FIRST_ADMIN:?}, password {pw} (shown once; change it with `calos admin reset-password --username admin`)");
        }
        FirstAdmin::Created { generated: None } => {
            println!("  first admin created: username {FIRST_ADMIN:?} with the password in CALOS_ADMIN_PASSWORD");
        }
        FirstAdmin::AlreadyThere => {}
    }
    println!("  log in:     curl -c cookies.txt -H 'Content-Type: application/json' -d '{{\"username\":\"admin\",\"password\":\"…\"}}' {base}/api/auth/login");
    println!("  scripts:    calos admin token create --name NAME, then send Authorization: Bearer <token>");
    println!("Stop with Ctrl-C or SIGTERM.");
}

/// Where Prometheus scrapes, printed after the banner.
fn print_metrics(scheme: &str, addr: SocketAddr, separate: Option<SocketAddr>) {
    match separate {
        Some(m) => println!("  metrics:    http://{m}/metrics (separate port, no authentication)"),
        None => println!(
            "  metrics:    {scheme}://{}:{}/metrics (Authorization: Bearer <API token>)",
            if addr.ip().is_unspecified() {
                "localhost".to_owned()
            } else {
                addr.ip().to_string()
            },
            addr.port()
        ),
    }
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` and systemd send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("SIGTERM handler")
        {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received"),
        () = term => tracing::info!("SIGTERM received"),
    }
}
