//! Delivers the notification outbox: every `deliver_interval` (and at once
//! again after a full batch) it claims due deliveries and sends them. Safe
//! on any number of nodes: claims never overlap (see `OutboxStore`).

use std::sync::Arc;

use tokio::sync::watch;

use calos_store::Store;

use crate::config::Config;
use crate::notify::deliver::Deliverer;
use crate::notify::email::Mailer;
use crate::notify::secret::WebhookSecrets;

/// Builds the deliverer (SMTP transport, webhook secrets) from the
/// configuration; an unusable `SMTP_URL` or master key is an error at start.
pub fn deliverer(
    store: Arc<dyn Store>,
    config: &Config,
    secrets: WebhookSecrets,
) -> anyhow::Result<Deliverer> {
    let mailer = Mailer::from_config(&config.notify)?;
    if mailer.is_none() {
        tracing::info!("SMTP_URL is not set: e-mail notifications are recorded as skipped");
    }
    Ok(Deliverer::new(
        store,
        config.notify.clone(),
        mailer,
        secrets,
    ))
}

pub async fn run(
    deliverer: Deliverer,
    every: std::time::Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                // Drain what is due, batch after batch, unless told to stop.
                loop {
                    match deliverer.round().await {
                        Ok(0) => break,
                        Ok(_) if *stop.borrow() => break,
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "notification delivery round failed; will retry");
                            break;
                        }
                    }
                }
            }
            _ = stop.changed() => break,
        }
    }
    tracing::debug!("notification delivery worker stopped");
}
