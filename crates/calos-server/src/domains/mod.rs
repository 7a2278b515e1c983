//! Many domains, one server (the seed's domain router, done so it never
//! swallows a request): the `Host` header picks the customer whose portal
//! and brand `/` shows; customers' domains and their DNS ownership checks
//! are managed under `/api/enterprise/customers/{installId}/domains`.

pub mod api;
pub mod host;
pub mod resolver;
pub mod router;

pub use host::{request_host, HostKind};
pub use resolver::{SystemResolver, TxtResolver};
