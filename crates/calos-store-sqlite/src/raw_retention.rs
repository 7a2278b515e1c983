//! [`RawRetentionStore`] for SQLite: raw events live in one table, so there
//! is no storage to make ahead or drop; `prune_raw_events` removes old rows.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use calos_store::{RawMaintenance, RawRetentionStore, StoreResult};

use crate::SqliteStore;

#[async_trait]
impl RawRetentionStore for SqliteStore {
    async fn maintain_raw_events(
        &self,
        _now: DateTime<Utc>,
        _months_ahead: u32,
        _cutoff: DateTime<Utc>,
    ) -> StoreResult<RawMaintenance> {
        Ok(RawMaintenance::default())
    }
}
