//! The one integration-test binary: the real server over real HTTP, on
//! SQLite and PostgreSQL (see `both_backends!`), plus the built `calos` binary.

// Test support code outside `#[test]` fns: a panic is how a test fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binary;
mod client;
mod faults_pg_cluster;
mod faults_support;
mod helpers;
mod login_support;
mod notify_support;

mod account_owner;
mod admin_pages;
mod admins;
mod audit_chain;
mod auth;
mod bad_input;
mod branding;
mod cli;
mod culture;
mod culture_demo;
mod domains;
mod email;
mod faults_disk_flood;
mod faults_disk_full;
mod faults_kill9;
mod faults_pg_disk_full;
mod faults_postgres_outage;
mod faults_shutdown;
mod hardening;
mod injection;
mod invoices;
mod invoices_cli;
mod invoices_demo;
mod invoices_roles;
mod licenses;
mod listing;
mod login_throttle;
mod metrics;
mod misc;
mod notify;
mod notify_restart;
mod openapi;
mod pages;
mod portal;
mod read_replica;
mod read_replica_streaming;
mod roles;
mod sdk;
mod security;
mod sessions;
mod stats;
mod telemetry;
mod tenant_isolation;
mod tls;
mod totp;
mod verify;
mod verify_attacks;
mod verify_keys;
mod verify_nodes;
mod verify_processes;
mod verify_support;
mod webhook_actions;
mod webhooks;
