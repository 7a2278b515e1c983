//! [`IngestStore`] for postgres: raw events, rollups, metered usage.

use async_trait::async_trait;
use calos_store::IngestStore;

use crate::PostgresStore;

#[async_trait]
impl IngestStore for PostgresStore {}
