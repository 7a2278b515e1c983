//! Keeping the raw telemetry store in shape for the months ahead and behind
//! (issue 11). On PostgreSQL raw events are partitioned by month: this makes
//! the partitions of the coming months before any event needs them and drops
//! whole months that lie before the retention cutoff, which costs a catalog
//! change instead of millions of row deletes. SQLite keeps one table and has
//! nothing to do here (its rows go through `IngestStore::prune_raw_events`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreResult;

/// What one maintenance pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawMaintenance {
    /// Monthly partitions made for the months ahead (or moved out of the
    /// catch-all partition).
    pub partitions_made: u32,
    /// Monthly partitions dropped because they ended before the cutoff.
    pub partitions_dropped: u32,
    /// Raw events those dropped partitions held.
    pub events_dropped: u64,
}

/// Part of [`Store`](crate::Store).
#[async_trait]
pub trait RawRetentionStore: Send + Sync {
    /// Makes storage ready for events from `cutoff` up to `months_ahead`
    /// months after `now`, and drops storage that only holds events older
    /// than `cutoff`.
    /// Never removes an event at or after `cutoff`; the rows of the month the
    /// cutoff falls in are left to `prune_raw_events`. Safe to run on several
    /// nodes at once.
    async fn maintain_raw_events(
        &self,
        now: DateTime<Utc>,
        months_ahead: u32,
        cutoff: DateTime<Utc>,
    ) -> StoreResult<RawMaintenance>;
}
