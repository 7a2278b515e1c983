//! Analyzer tests over synthetic customers (no database).

mod examples;
mod flaws;
mod recover;
mod scoring;
mod synth;
