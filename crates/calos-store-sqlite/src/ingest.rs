//! [`IngestStore`] for sqlite: raw events, rollups, metered usage.

use async_trait::async_trait;
use calos_store::IngestStore;

use crate::SqliteStore;

#[async_trait]
impl IngestStore for SqliteStore {}
