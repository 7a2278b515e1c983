//! The CALOS server: admin API, authentication, background workers and the
//! `calos` CLI. Handlers parse, authorise, call core/store and render.

pub mod api;
pub mod app;
pub mod auth;
pub mod charts;
pub mod cli;
pub mod config;
pub mod culture;
pub mod demo;
pub mod domains;
pub mod error;
pub mod extract;
pub mod ingest;
pub mod invoice_pdf;
pub mod invoices;
pub mod licensing;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod pages;
pub mod portal;
pub mod ratelimit;
pub mod secrets;
pub mod store;
pub mod workers;
