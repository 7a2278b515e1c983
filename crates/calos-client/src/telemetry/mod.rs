//! Telemetry: events tracked by the host application, queued in memory
//! (bounded), sent in batches with retries that re-send the same `eventId`s,
//! and kept on disk across a shutdown.

pub mod event;
pub mod persist;
pub mod queue;
pub(crate) mod sender;
pub mod user;

/// Most events per batch the server takes.
pub const MAX_BATCH_EVENTS: usize = 1_000;
/// Byte budget of a batch's events, under the server's 1 MiB body limit with
/// room for the envelope (install id, key).
pub const MAX_BATCH_BYTES: usize = 1_000_000;
