//! Request extractors that turn every rejection into our JSON error shape.

mod client_ip;
mod json;
mod query;

pub use client_ip::ClientIp;
pub use json::{Json, OptionalJson};
pub use query::Query;
