//! The CALOS client SDK, embedded by a vendor in its self-hosted product.
//!
//! * License: verifies at startup (bounded by a timeout) and in the
//!   background; every answer is an Ed25519-signed token checked against
//!   pinned keys or the server's JWKS, bound to this install, instance and
//!   request nonce. The last signed answer is cached on disk (as the signed
//!   token itself) so a restart while offline works through the lease and
//!   grace. [`Client::state`] and [`Client::allows`] read memory only.
//! * Branding: [`Client::branding`] fetches the customer's brand (level,
//!   colours, logo, CSS variables) for the product to render.
//! * Telemetry: [`Client::track`] queues events (bounded), sent in batches
//!   with idempotent retries and kept on disk across a shutdown.
//!
//! ```no_run
//! # async fn demo() -> Result<(), calos_client::BuildError> {
//! use calos_client::{Client, Event};
//! let client = Client::builder()
//!     .server("https://license.vendor.example")
//!     .install_id("demo-install-abc123456789abcdef")
//!     .license_key("…")
//!     .data_dir("/var/lib/myapp/calos")
//!     .build()?;
//! client.start().await;
//! if client.allows("crypto") {
//!     client.track(Event::feature_used("crypto"));
//! }
//! client.shutdown().await;
//! # Ok(()) }
//! ```

pub mod backoff;
mod branding;
mod builder;
mod client;
pub mod clock;
mod datadir;
mod error;
mod http;
pub mod keys;
mod refresh;
mod state;
pub mod telemetry;
mod timebase;
pub mod token;

pub use branding::Branding;
pub use builder::ClientBuilder;
pub use client::Client;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{BuildError, CallError, TokenError};
pub use http::parse_retry_after;
pub use jsonwebtoken::jwk::JwkSet;
pub use state::{Diagnostics, LicenseState, TelemetryStats, UnlicensedCode};
pub use telemetry::event::{Event, EventType};
pub use telemetry::user::{HashedUser, UserHasher};
pub use timebase::SKEW_TOLERANCE_SECS;
