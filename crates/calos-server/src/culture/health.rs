//! Health scores for the customer list. Scores are cached in the store;
//! the ones missing or older than [`MAX_AGE`] are recomputed together —
//! one batched read per input kind for all of them, one write — so a page
//! of N customers never costs N analyses' worth of queries. The write is
//! best effort: when it fails the scores are still shown, and recomputed
//! next time.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use calos_core::ids::InstallId;
use calos_core::license::License;
use calos_core::plan::Plan;
use calos_store::{HealthScore, Store, StoreResult};

use super::gather::analyze_licenses;

/// How old a cached score may be before the list recomputes it: activity
/// moves slowly against a 90-day window.
pub const MAX_AGE: TimeDelta = TimeDelta::minutes(15);

/// The health score of each license (fresh from the cache, or recomputed
/// in one batch), keyed by install.
pub async fn health_for(
    store: &dyn Store,
    licenses: &[&License],
    plans: &[Plan],
    now: DateTime<Utc>,
) -> StoreResult<BTreeMap<InstallId, HealthScore>> {
    let ids: Vec<InstallId> = licenses.iter().map(|l| l.install_id.clone()).collect();
    let mut scores: BTreeMap<InstallId, HealthScore> = store
        .health_scores(&ids)
        .await?
        .into_iter()
        .filter(|s| now - s.computed_at < MAX_AGE && s.computed_at <= now)
        .map(|s| (s.install_id.clone(), s))
        .collect();
    let stale: Vec<&License> = licenses
        .iter()
        .copied()
        .filter(|l| !scores.contains_key(&l.install_id))
        .collect();
    if stale.is_empty() {
        return Ok(scores);
    }
    let fresh: Vec<HealthScore> = analyze_licenses(store, &stale, plans, now)
        .await?
        .into_iter()
        .map(|(install_id, p)| HealthScore {
            install_id,
            score: p.health.score,
            label: p.health.label,
            computed_at: now,
        })
        .collect();
    // Only a cache: a write refused (data disk full, primary down while the
    // list reads a replica) must not fail the read that computed the scores.
    if let Err(e) = store.put_health_scores(&fresh).await {
        tracing::warn!(error = %e, "could not cache health scores");
    }
    scores.extend(fresh.into_iter().map(|s| (s.install_id.clone(), s)));
    Ok(scores)
}
