//! CALOS domain: plain types and pure rules, no I/O and no async.
//!
//! Everything here is unit-tested without a database; the store and server
//! crates only move these values in and out of storage and HTTP.

pub mod audit;
pub mod auth;
pub mod branding;
pub mod culture;
pub mod customer;
pub mod host;
pub mod ids;
pub mod ingest;
pub mod invoice;
pub mod license;
pub mod metering;
pub mod money;
pub mod notify;
pub mod plan;
pub mod protocol;
pub mod rollup;
pub mod stats;
pub mod telemetry;
pub mod text;
pub mod verdict;

/// A rejected value, with a message fit to show to whoever sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidValue {
    pub field: &'static str,
    pub message: String,
}

impl InvalidValue {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
