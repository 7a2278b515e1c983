//! `bench`: load scenarios over real HTTP on loopback. Each scenario prints
//! its figures; BENCHMARKS.md records them with the command that made them.
//!
//! `cargo run --release -p calos-bench --bin bench -- <scenario>`

mod backends;
mod culture;
mod ingest;
mod load;
mod verify;

/// The `calos` binary's allocator: the server under test runs in this
/// process, so it must allocate as it does in production.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SCENARIOS: &[&str] = &["verify", "ingest", "culture"];

fn main() -> anyhow::Result<()> {
    let scenario = std::env::args().nth(1).unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match scenario.as_str() {
        "verify" => runtime.block_on(verify::run()),
        "ingest" => runtime.block_on(ingest::run()),
        "culture" => runtime.block_on(culture::run()),
        other => anyhow::bail!(
            "unknown scenario {other:?}; pick one of: {}",
            SCENARIOS.join(", ")
        ),
    }
}
