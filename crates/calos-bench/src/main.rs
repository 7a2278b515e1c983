//! `bench`: load scenarios over real HTTP on loopback. Each scenario prints
//! its figures; BENCHMARKS.md records them with the command that made them.
//!
//! `cargo run --release -p calos-bench --bin bench -- <scenario>`
//!
//! `verify` loads a `calos serve` process and the floor with `wrk` when it is
//! installed (`verify-wrk`), else falls back to the in-process load generator
//! (`verify-inprocess`). `floor` is not a scenario: it is the floor server
//! process `verify-wrk` starts.

mod backends;
mod child;
mod culture;
mod floor;
mod ingest;
mod load;
mod paired;
mod proxy;
mod report;
mod scale;
mod scale_load;
mod scale_seed;
mod side_by_side;
mod soak;
mod verify;
mod verify_wrk;
mod wrk;

/// The `calos` binary's allocator: the servers under test (in-process, and
/// the floor process) must allocate as it does in production.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const SCENARIOS: &[&str] = &[
    "verify",
    "verify-wrk",
    "verify-inprocess",
    "ingest",
    "culture",
    "scale",
    "soak",
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scenario = args.first().cloned().unwrap_or_default();
    let options = args.get(1..).unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match scenario.as_str() {
        "verify" if crate::wrk::ensure_installed().is_ok() => {
            runtime.block_on(verify_wrk::run(verify_wrk::Options::parse(options)?))
        }
        "verify" => {
            println!(
                "wrk is not installed (apt-get install -y wrk, or scripts/bench-verify.sh): \
                 measuring with the in-process load generator instead"
            );
            runtime.block_on(verify::run())
        }
        "verify-wrk" => runtime.block_on(verify_wrk::run(verify_wrk::Options::parse(options)?)),
        "verify-inprocess" => runtime.block_on(verify::run()),
        "floor" => runtime.block_on(floor::serve_process(options)),
        "ingest" => runtime.block_on(ingest::run()),
        "culture" => runtime.block_on(culture::run()),
        "scale" => runtime.block_on(scale::run(scale::Options::parse(options)?)),
        "soak" => runtime.block_on(soak::run(options.to_vec())),
        other => anyhow::bail!(
            "unknown scenario {other:?}; pick one of: {}",
            SCENARIOS.join(", ")
        ),
    }
}
