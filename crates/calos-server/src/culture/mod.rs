//! The culture analyzer wired to the store: [`gather`] assembles
//! [`CultureInput`](calos_core::culture::CultureInput) for any number of
//! licenses from rollups only (a fixed number of queries, never raw
//! events) and runs the analyzer; [`health`] keeps the customer list's
//! health column cheap with a cache refreshed in batches.

pub mod gather;
pub mod health;

pub use gather::{analyze_licenses, analyze_one};
pub use health::health_for;
