//! Lets time act on licenses: trials and contracts run out, open-ended paid
//! periods roll forward (`License::advance_time`). Also prunes expired
//! sessions. Several server nodes may run this at once: the store's version
//! check makes a second writer get `Conflict`, which is simply skipped.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use calos_core::audit::{Actor, AuditEntry};
use calos_core::license::LicenseStatus;
use calos_store::{Store, StoreError, StoreResult};

const BATCH: u32 = 500;
/// Upper bound on batches per tick, so one tick always ends.
const MAX_BATCHES: usize = 20;

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickReport {
    pub updated: u64,
    pub skipped: u64,
    pub sessions_pruned: u64,
}

pub async fn run(store: Arc<dyn Store>, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                match tick(store.as_ref(), Utc::now()).await {
                    Ok(r) if r.updated + r.skipped + r.sessions_pruned > 0 => {
                        tracing::info!(updated = r.updated, skipped = r.skipped, sessions_pruned = r.sessions_pruned, "expiry tick");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "expiry tick failed; will retry"),
                }
            }
            // Either a stop was sent or the sender is gone: both mean stop.
            _ = stop.changed() => break,
        }
    }
    tracing::debug!("expiry worker stopped");
}

/// One pass at `now`.
pub async fn tick(store: &dyn Store, now: DateTime<Utc>) -> StoreResult<TickReport> {
    let mut report = TickReport::default();
    for _ in 0..MAX_BATCHES {
        let due = store.licenses_due(now, BATCH).await?;
        let full = due.len() == BATCH as usize;
        let mut progressed = false;
        for license in due {
            let Some(next) = license.advance_time(now) else {
                continue;
            };
            let action = if next.status == LicenseStatus::Expired {
                "license.expire"
            } else {
                "license.period_rollover"
            };
            let audit = AuditEntry {
                at: now,
                actor: Actor::System,
                action: action.to_owned(),
                target_type: "license".to_owned(),
                target_id: license.install_id.to_string(),
                before: serde_json::to_value(&license).ok(),
                after: serde_json::to_value(&next).ok(),
                ip: None,
            };
            match store.update_license(&next, &audit).await {
                Ok(_) => {
                    report.updated += 1;
                    progressed = true;
                }
                // Changed by someone else since we read it; the next tick sees the new state.
                Err(StoreError::Conflict { .. } | StoreError::NotFound(_)) => report.skipped += 1,
                Err(e) => return Err(e),
            }
        }
        if !full || !progressed {
            break;
        }
    }
    report.sessions_pruned = store.delete_expired_sessions(now).await?;
    Ok(report)
}
