//! [`WebhookTestStore`] on PostgreSQL.

use async_trait::async_trait;

use calos_store::{StoreResult, WebhookTestStore};

use crate::error::DbResultExt;
use crate::PostgresStore;

#[async_trait]
impl WebhookTestStore for PostgresStore {
    async fn webhook_secret_salt(&self, id: i64) -> StoreResult<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT secret_salt FROM webhook_endpoints WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .db()
    }
}
