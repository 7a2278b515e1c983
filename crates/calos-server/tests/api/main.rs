//! The one integration-test binary: the real server over real HTTP, on
//! SQLite and PostgreSQL (see `both_backends!`), plus the built `calos` binary.

// Test support code outside `#[test]` fns: a panic is how a test fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binary;
mod client;
mod helpers;

mod admins;
mod audit_chain;
mod auth;
mod bad_input;
mod cli;
mod culture;
mod culture_demo;
mod licenses;
mod listing;
mod misc;
mod pages;
mod roles;
mod sdk;
mod security;
mod stats;
mod telemetry;
mod verify;
mod verify_attacks;
mod verify_keys;
mod verify_nodes;
mod verify_processes;
mod verify_support;
