//! What the "send test event" action of a webhook endpoint needs besides
//! the endpoint itself: the salt its signing secret is derived from (the
//! secret is never stored). A test event is sent directly, not through the
//! outbox, so it writes nothing.

use async_trait::async_trait;

use crate::StoreResult;

/// Part of [`Store`](crate::Store).
#[async_trait]
pub trait WebhookTestStore: Send + Sync {
    /// The salt of an endpoint's signing secret; `None` for an unknown id.
    async fn webhook_secret_salt(&self, id: i64) -> StoreResult<Option<Vec<u8>>>;
}
