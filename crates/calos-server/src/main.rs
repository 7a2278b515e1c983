//! The `calos` binary: everything lives in the library so tests can reach it.

/// jemalloc instead of glibc malloc or mimalloc (see BENCHMARKS.md, Verify).
/// With the server's long-lived heap (license cache, instance and rate-limit
/// records for thousands of installs), glibc's allocator went down its slow
/// path on many short-lived request allocations, and mimalloc, which reuses
/// a freed block only after the rest of its page's free list, handed out
/// blocks the CPU no longer had cached. jemalloc's per-thread caches reuse
/// the block freed last: a request's allocations stay in cached memory.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    calos_server::cli::run()
}
