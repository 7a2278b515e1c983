//! Finds periodic notification conditions: usage thresholds every
//! `scan_interval` (default 15 s, so a crossing is noticed well within a
//! minute), countdowns, silence, health and upsells every
//! `insight_interval`. Several nodes may scan at once: the outbox keeps one
//! notification per deduplication key.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::notify::scan::Scanner;

pub async fn run(
    scanner: Arc<Scanner>,
    usage_every: Duration,
    insight_every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut usage = tokio::time::interval(usage_every);
    usage.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut insights = tokio::time::interval(insight_every);
    insights.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = usage.tick() => match scanner.usage(Utc::now()).await {
                Ok(n) if n > 0 => tracing::info!(created = n, "usage notifications enqueued"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "usage scan failed; will retry"),
            },
            _ = insights.tick() => match scanner.insights(Utc::now()).await {
                Ok(n) if n > 0 => tracing::info!(created = n, "insight notifications enqueued"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "insight scan failed; will retry"),
            },
            _ = stop.changed() => break,
        }
    }
    tracing::debug!("notification scan worker stopped");
}
