//! The conformance suite every `Store` backend must pass. Each public async
//! function here exercises one area of the trait against a fresh, empty store;
//! [`store_conformance_suite!`](crate::store_conformance_suite) turns every one
//! of them into a `#[tokio::test]` for a backend's test binary, so a backend
//! cannot skip a check by leaving it out of a list.
//!
//! Together the checks call every method of the trait, including its refusals
//! (`NotFound` against `Conflict`, nothing written and no audit row when a
//! change is refused). Where the trait leaves an order or a boundary open, the
//! check pins one down so the two backends cannot drift apart:
//!
//! * times are compared at microsecond precision (what PostgreSQL keeps);
//! * a customer created with its license gets the license's `created_at`;
//! * `set_admin_password`, `revoke_api_token` and `put_branding` on an unknown
//!   id are `NotFound`; sessions and tokens expire at `expires_at` (exclusive);
//! * a license's domains come back sorted by byte order;
//! * admins and API tokens are listed by id, audit records newest first;
//! * `list_licenses` sorts names case-insensitively, puts never-seen licenses
//!   last in both `LastSeen` orders, orders tiers by monthly price then slug,
//!   statuses in lifecycle order (trial, active, suspended, revoked, expired),
//!   and breaks every tie by install id;
//! * usage "this period" is `[current_period_start, current_period_end)`,
//!   "last 30 days" is `ts >= now - 30 days`.

// This module is test code compiled into the library only for backends' test
// binaries: a failed assertion or an unexpected error is how a check fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account_owner;
mod accounts;
mod admin_management;
mod audit_chain;
mod audit_filter;
mod branding;
mod culture;
mod culture_sessions;
mod culture_totals;
mod facts;
mod ingest;
mod invoices;
mod license_update;
mod licenses;
mod list;
mod list_order;
mod login_security;
mod metrics;
mod misc;
mod outbox;
mod plans;
mod portal;
mod raw_retention;
mod support;
mod telemetry;
mod verify;
mod webhook_test;

use std::future::Future;
use std::sync::Arc;

use futures::FutureExt as _;

use crate::Store;

pub use account_owner::*;
pub use accounts::*;
pub use admin_management::*;
pub use audit_chain::*;
pub use audit_filter::*;
pub use branding::*;
pub use culture::*;
pub use culture_sessions::*;
pub use culture_totals::*;
pub use facts::*;
pub use ingest::*;
pub use invoices::*;
pub use license_update::*;
pub use licenses::*;
pub use list::*;
pub use list_order::*;
pub use login_security::*;
pub use metrics::*;
pub use misc::*;
pub use outbox::*;
pub use plans::*;
pub use portal::*;
pub use raw_retention::*;
pub use telemetry::*;
pub use verify::*;
pub use webhook_test::*;

/// A throwaway store for one test. `cleanup` removes whatever the store made
/// (a temporary file, a throwaway database) and is called even when the test fails.
#[async_trait::async_trait]
pub trait TestStore: Send + Sync {
    fn store(&self) -> Arc<dyn Store>;
    async fn cleanup(self);
}

/// Runs one check against a test store, cleans the store up whether or not
/// the check panicked, then lets the panic (if any) fail the test.
pub async fn run<T, F, Fut>(test_store: T, check: F)
where
    T: TestStore,
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let outcome = std::panic::AssertUnwindSafe(check(test_store.store()))
        .catch_unwind()
        .await;
    test_store.cleanup().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Expands to one `#[tokio::test]` per conformance check:
/// `calos_store::store_conformance_suite!(make_store);`.
///
/// `make_store` is an async fn returning `Option<impl TestStore>`; `None` means
/// the backend is not reachable and the test is skipped (the factory itself
/// prints why, and panics instead when `CI=true`). The list of checks lives
/// here, next to the checks, so every backend runs all of them.
#[macro_export]
macro_rules! store_conformance_suite {
    ($make:path $(,)?) => {
        $crate::store_conformance_suite!(@checks $make;
            ping_and_backend,
            plans_ensure_is_idempotent,
            plans_put_creates_and_replaces,
            create_license_with_new_and_existing_customer,
            create_license_refusals_write_nothing,
            update_license_bumps_version_and_replaces_domains,
            update_license_refusals_write_nothing,
            license_domains_come_back_sorted,
            list_licenses_filters,
            list_licenses_search_escapes_like_wildcards,
            list_licenses_paging,
            list_licenses_every_sort_order,
            list_licenses_usage_windows,
            license_facts_reflect_every_license,
            licenses_due_finds_what_time_changes,
            audit_list_filters_limits_and_orders,
            admins_create_get_list_and_password,
            sessions_honour_expiry,
            api_tokens_expired_or_revoked_are_not_found,
            events_deduplicate_and_count,
            usage_totals_sum_within_window,
            ingest_rollups_equal_recomputation,
            ingest_meters_usage_in_its_period,
            prune_keeps_rollups,
            branding_put_get_and_refusal,
            unicode_and_sql_metacharacters_round_trip,
            signing_keys_first_rotate_and_list,
            verify_writes_track_instances_and_domains,
            verify_writes_store_a_large_batch,
            culture_rollups_equal_recomputation,
            culture_timezone_and_health_cache,
            culture_totals_equal_recomputation,
            culture_session_sample_equals_reference,
            audit_chain_links_every_append,
            audit_chain_survives_concurrent_appends,
            admin_role_and_disable_keep_an_owner,
            concurrent_owner_demotions_keep_one_owner,
            api_token_role_round_trips,
            invoices_lifecycle_and_immutability,
            invoice_numbers_have_no_gaps_under_concurrency,
            billable_usage_sums_what_ingest_metered,
            outbox_enqueue_dedupes_and_plans_deliveries,
            outbox_license_changes_enqueue_in_their_transaction,
            outbox_claim_lease_finish_and_resend,
            outbox_concurrent_claimers_never_share,
            webhooks_crud_and_failure_count,
            outbox_meter_totals_and_subscriptions,
            audit_search_filters_pages_and_binds,
            sessions_idle_and_absolute_timeouts,
            admin_sessions_end_together,
            totp_factor_lifecycle,
            login_challenges_are_single_use,
            brands_version_logos_and_refusal,
            portal_invites_logins_and_sessions,
            domain_claims_and_host_owners,
            account_owner_set_resolve_and_refuse,
            webhook_secret_salt_follows_rotation,
            metrics_outbox_depth_and_pool_stats,
            raw_maintenance_keeps_what_retention_keeps,
        );
    };
    (@checks $make:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some(test_store) = $make().await else { return };
                $crate::conformance::run(test_store, $crate::conformance::$check).await;
            }
        )*
    };
}
