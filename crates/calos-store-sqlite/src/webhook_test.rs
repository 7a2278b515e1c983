//! [`WebhookTestStore`] on SQLite.

use async_trait::async_trait;

use calos_store::{StoreResult, WebhookTestStore};

use crate::db::db_err;
use crate::SqliteStore;

#[async_trait]
impl WebhookTestStore for SqliteStore {
    async fn webhook_secret_salt(&self, id: i64) -> StoreResult<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT secret_salt FROM webhook_endpoints WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)
    }
}
