//! Monthly partitions of `telemetry_events` (migration 20250116000000): the
//! SQL functions that make and drop them live in the migration, so the
//! migration and the running server share one definition; this module calls
//! them. Every node makes the coming months' partitions at start and on each
//! retention tick, so an event normally never lands in the catch-all
//! default partition (it would still be stored if it did).

use async_trait::async_trait;
use chrono::{DateTime, Months, Utc};
use sqlx::PgPool;

use calos_store::{RawMaintenance, RawRetentionStore, StoreResult};

use crate::error::DbResultExt;
use crate::PostgresStore;

/// Months made ahead at start: this one and the next two.
pub(crate) const MONTHS_AHEAD: u32 = 2;

/// Makes the partitions of the months from `from`'s through `months_ahead`
/// months after `now`; returns how many were new.
pub(crate) async fn make_ahead(
    pool: &PgPool,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
    months_ahead: u32,
) -> StoreResult<u32> {
    let through = now
        .checked_add_months(Months::new(months_ahead))
        .unwrap_or(now);
    let made: i32 = sqlx::query_scalar("SELECT calos_make_telemetry_partitions($1, $2)")
        .bind(from.min(now))
        .bind(through)
        .fetch_one(pool)
        .await
        .db()?;
    Ok(u32::try_from(made).unwrap_or(0))
}

#[async_trait]
impl RawRetentionStore for PostgresStore {
    async fn maintain_raw_events(
        &self,
        now: DateTime<Utc>,
        months_ahead: u32,
        cutoff: DateTime<Utc>,
    ) -> StoreResult<RawMaintenance> {
        // Every month still within retention gets its partition too, so
        // events of months that had none (kept in the default partition)
        // move into one and later go with it.
        let partitions_made = make_ahead(&self.pool, cutoff, now, months_ahead).await?;
        let (dropped, events): (i32, i64) =
            sqlx::query_as("SELECT partitions, events FROM calos_drop_telemetry_partitions($1)")
                .bind(cutoff)
                .fetch_one(&self.pool)
                .await
                .db()?;
        Ok(RawMaintenance {
            partitions_made,
            partitions_dropped: u32::try_from(dropped).unwrap_or(0),
            events_dropped: u64::try_from(events).unwrap_or(0),
        })
    }
}
