//! Prunes raw telemetry events older than the retention window. Rollups,
//! daily users and usage records are kept, so analysis (which reads
//! rollups) is unaffected. Several nodes may run this at once: deleting an
//! already deleted row is simply nothing.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use calos_store::{PruneReport, Store, StoreResult};

/// Events deleted per statement, so one pass never holds a long lock.
const BATCH: u32 = 5_000;
/// Upper bound on statements per tick, so one tick always ends.
const MAX_BATCHES: usize = 200;
/// Months of raw-event storage kept made ahead (PostgreSQL partitions):
/// each tick makes them, so a node that ran for months still has them.
const MONTHS_AHEAD: u32 = 2;

pub async fn run(
    store: Arc<dyn Store>,
    retention_days: u32,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                match tick(store.as_ref(), retention_days, Utc::now()).await {
                    Ok(r) if r.events + r.memberships > 0 => {
                        tracing::info!(events = r.events, memberships = r.memberships, "retention pruned raw telemetry");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "retention tick failed; will retry"),
                }
            }
            // Either a stop was sent or the sender is gone: both mean stop.
            _ = stop.changed() => break,
        }
    }
    tracing::debug!("retention worker stopped");
}

/// One pass at `now`: everything with `ts < now - retention_days`.
pub async fn tick(
    store: &dyn Store,
    retention_days: u32,
    now: DateTime<Utc>,
) -> StoreResult<PruneReport> {
    let cutoff = now - chrono::Duration::days(i64::from(retention_days));
    // Whole months before the cutoff go at once (a partition drop); the
    // batches below delete the rest of the cutoff's month row by row.
    let kept = store.maintain_raw_events(now, MONTHS_AHEAD, cutoff).await?;
    if kept.partitions_made + kept.partitions_dropped > 0 {
        tracing::info!(
            made = kept.partitions_made,
            dropped = kept.partitions_dropped,
            events_dropped = kept.events_dropped,
            "retention maintained raw telemetry partitions"
        );
    }
    let mut total = PruneReport::default();
    for _ in 0..MAX_BATCHES {
        let r = store.prune_raw_events(cutoff, BATCH).await?;
        total.events += r.events;
        total.memberships += r.memberships;
        if r.events < u64::from(BATCH) {
            break;
        }
    }
    Ok(total)
}
