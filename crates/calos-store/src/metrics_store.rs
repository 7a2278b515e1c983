//! What the server's `/metrics` samples from the store at each scrape: the
//! notification outbox's backlog and the connection pool's use. Both are
//! cheap (one indexed count; the pool's own counters), so a scrape every
//! few seconds costs the database next to nothing.

use async_trait::async_trait;

use crate::StoreResult;

/// Outbox deliveries by the states an operator watches: `pending` (due or
/// waiting for a retry), `sending` (claimed by a node) and `failed` (given
/// up for good). Sent and skipped ones are history, not depth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxDepth {
    pub pending: u64,
    pub sending: u64,
    pub failed: u64,
}

/// The store's connection pool right now: `size` connections open, `idle`
/// of them free, at most `max`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

impl PoolStats {
    /// Connections lent out to a query or transaction.
    pub fn in_use(&self) -> u32 {
        self.size.saturating_sub(self.idle)
    }
}

/// Part of [`Store`](crate::Store).
#[async_trait]
pub trait MetricsStore: Send + Sync {
    /// How many outbox deliveries are pending, sending and failed.
    async fn outbox_depth(&self) -> StoreResult<OutboxDepth>;

    /// The connection pool's size, idle connections and maximum. No I/O.
    fn pool_stats(&self) -> PoolStats;
}
