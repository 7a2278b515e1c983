//! The shared store conformance suite, run against PostgreSQL.

mod common;

calos_store::store_conformance_suite!(common::make_store);
