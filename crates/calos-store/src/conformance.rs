//! The conformance suite every `Store` backend must pass. Each public async
//! function here exercises one area of the trait against a fresh, empty store;
//! [`store_conformance_suite!`](crate::store_conformance_suite) turns them into
//! one `#[tokio::test]` each for a backend's test binary.

use std::sync::Arc;

use crate::Store;

/// A throwaway store for one test. `cleanup` removes whatever the store made
/// (a temporary file, a throwaway database) and is called even when the test fails.
#[async_trait::async_trait]
pub trait TestStore: Send + Sync {
    fn store(&self) -> Arc<dyn Store>;
    async fn cleanup(self);
}

/// Expands to one `#[tokio::test]` per conformance check. `$make` is an async
/// fn returning `Option<impl TestStore>`; `None` means the backend is not
/// reachable and the test is skipped (the factory itself prints why, and
/// panics instead when `CI=true`).
#[macro_export]
macro_rules! store_conformance_suite {
    ($make:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                use $crate::conformance::TestStore as _;
                use ::futures::FutureExt as _;
                let Some(t) = $make().await else { return };
                let outcome = ::std::panic::AssertUnwindSafe(
                    $crate::conformance::$check(t.store()),
                )
                .catch_unwind()
                .await;
                t.cleanup().await;
                if let Err(panic) = outcome {
                    ::std::panic::resume_unwind(panic);
                }
            }
        )*
    };
}
