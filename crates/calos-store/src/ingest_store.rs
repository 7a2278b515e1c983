//! Storage for telemetry ingest: raw events, hourly rollups and metered
//! usage (issue 4).

use async_trait::async_trait;

/// Part of [`Store`](crate::Store); kept in its own trait so ingest storage
/// can grow without touching the admin-side methods.
#[async_trait]
pub trait IngestStore: Send + Sync {}
