//! The `calos` binary: everything lives in the library so tests can reach it.

/// mimalloc instead of glibc malloc: the server's long-lived heap (license
/// cache, instance and rate-limit maps) sent glibc's allocator down its slow
/// path on many short-lived request allocations; see BENCHMARKS.md (Verify).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    calos_server::cli::run()
}
