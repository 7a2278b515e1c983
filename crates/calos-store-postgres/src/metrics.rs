//! What `/metrics` samples from the store: outbox depth and pool use.

use async_trait::async_trait;

use calos_store::{MetricsStore, OutboxDepth, PoolStats, StoreResult};

use crate::error::DbResultExt;
use crate::PostgresStore;

#[async_trait]
impl MetricsStore for PostgresStore {
    async fn outbox_depth(&self) -> StoreResult<OutboxDepth> {
        // Served by the (status, next_attempt_at) index; sent and skipped
        // rows, the bulk of the table, are never read.
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM notification_deliveries \
             WHERE status IN ('pending', 'sending', 'failed') GROUP BY status",
        )
        .fetch_all(&self.pool)
        .await
        .db()?;
        let mut depth = OutboxDepth::default();
        for (status, n) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            match status.as_str() {
                "pending" => depth.pending = n,
                "sending" => depth.sending = n,
                _ => depth.failed = n,
            }
        }
        Ok(depth)
    }

    fn pool_stats(&self) -> PoolStats {
        let size = self.pool.size();
        // Read apart from `size`; never report more idle than open.
        let idle = u32::try_from(self.pool.num_idle())
            .unwrap_or(u32::MAX)
            .min(size);
        PoolStats {
            size,
            idle,
            max: self.pool.options().get_max_connections(),
        }
    }
}
