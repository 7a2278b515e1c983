//! The customer table's health filter. Health is the culture analyzer's
//! (cached) score, not a column the store can filter on, so a health filter
//! reads every license matching the other filters in pages, scores them in
//! one batch (`culture::health_for`) and keeps the label asked for.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use calos_core::ids::InstallId;
use calos_core::license::License;
use calos_core::plan::Plan;
use calos_store::{HealthScore, LicenseListItem, StoreResult};

use super::filters::Filter;
use crate::app::AppState;

/// Page size of the reads, and the most licenses one filtered view covers.
const READ_PAGE: u32 = 200;
const MAX_LICENSES: usize = 20_000;

/// The licenses matching `filter` (health included), in its sort order,
/// with their health scores.
pub async fn matching(
    state: &AppState,
    filter: &Filter,
    plans: &[Plan],
    now: DateTime<Utc>,
) -> StoreResult<(Vec<LicenseListItem>, BTreeMap<InstallId, HealthScore>)> {
    let mut items = Vec::new();
    for page in 1.. {
        let batch = state
            .store
            .list_licenses(&filter.query(page, READ_PAGE, now))
            .await?;
        let done = batch.items.is_empty()
            || u64::from(page) * u64::from(READ_PAGE) >= batch.total
            || items.len() + batch.items.len() >= MAX_LICENSES;
        items.extend(batch.items);
        if done {
            break;
        }
    }
    let licenses: Vec<&License> = items.iter().map(|i| &i.license).collect();
    let health = crate::culture::health_for(state.store.as_ref(), &licenses, plans, now).await?;
    let label_of =
        |i: &LicenseListItem| health.get(&i.license.install_id).map(|h| h.label.as_str());
    items.retain(|i| label_of(i) == Some(filter.health.as_str()));
    Ok((items, health))
}
