//! The storage boundary: one async trait, implemented once per backend
//! (`calos-store-sqlite`, `calos-store-postgres`), held by the server as
//! `Arc<dyn Store>`. Every backend must pass the conformance suite in
//! [`conformance`] (compiled with the `conformance` feature).
//!
//! Each method is one transaction. Methods that change data take the audit
//! entry describing the change and write it in that same transaction, so a
//! change and its audit record exist together or not at all.

mod account_owner_store;
mod audit_filter_store;
mod branding_store;
mod culture_fold;
mod culture_store;
mod error;
mod ingest_store;
mod invoice_store;
mod metrics_store;
mod models;
mod outbox_store;
mod portal_store;
mod raw_retention_store;
mod security_store;
mod verify_store;
mod webhook_test_store;

#[cfg(feature = "conformance")]
pub mod conformance;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use calos_core::audit::{AuditEntry, AuditRecord};
use calos_core::auth::Role;
use calos_core::branding::Branding;
use calos_core::customer::{Customer, CustomerId, Email};
use calos_core::ids::InstallId;
use calos_core::license::License;
use calos_core::plan::{Plan, PlanSlug};
use calos_core::stats::LicenseFacts;
use calos_core::telemetry::{TelemetryEvent, UsageRecord};

pub use account_owner_store::{resolve_owner, AccountOwner, AccountOwnerStore, OwnerChoice};
pub use audit_filter_store::{AuditFilter, AuditFilterStore};
pub use branding_store::{BrandingStore, LogoFile};
pub use culture_fold::{
    culture_delta, totals_delta, users_delta, BucketCounts, CultureDelta, SessionDelta,
    TotalsDelta, UsersDelta,
};
pub use culture_store::{CultureData, CultureStore, CultureWindow, HealthScore};
pub use error::{StoreError, StoreResult};
pub use ingest_store::{
    DailyUsers, IngestBatch, IngestEvent, IngestOutcome, IngestStore, MeteringTerms, PeriodUsage,
    PruneReport, UsageDay,
};
pub use invoice_store::{CreditNoteTerms, InvoiceQuery, InvoiceStore, IssueTerms};
pub use metrics_store::{MetricsStore, OutboxDepth, PoolStats};
pub use models::*;
pub use outbox_store::{
    Channel, ClaimedDelivery, Delivery, DeliveryOutcome, DeliveryQuery, DeliveryStatus,
    DeliveryView, MeterTotal, Notification, OutboxStore, WebhookEndpoint, WebhookSettings,
};
pub use portal_store::{
    DomainClaim, HostOwner, PortalInvite, PortalSession, PortalStore, PortalUser,
};
pub use raw_retention_store::{RawMaintenance, RawRetentionStore};
pub use security_store::{SecurityStore, TotpFactor};
pub use verify_store::{
    DomainSeen, FoldedVerifications, Instance, SigningKeyRecord, VerifySeen, VerifyStore,
};
pub use webhook_test_store::WebhookTestStore;

#[async_trait]
pub trait Store:
    VerifyStore
    + IngestStore
    + CultureStore
    + InvoiceStore
    + AuditFilterStore
    + SecurityStore
    + OutboxStore
    + BrandingStore
    + PortalStore
    + AccountOwnerStore
    + WebhookTestStore
    + MetricsStore
    + RawRetentionStore
    + Send
    + Sync
    + 'static
{
    /// Which backend this is (`sqlite` or `postgres`), for logs and `/healthz`.
    fn backend(&self) -> &'static str;

    /// Cheap round trip to the database, for `/healthz`.
    async fn ping(&self) -> StoreResult<()>;

    // ----- plans -----

    /// Inserts each plan whose slug does not exist yet; existing plans (which
    /// admins may have edited) are left alone. Returns how many were inserted.
    async fn ensure_plans(&self, plans: &[Plan]) -> StoreResult<u64>;
    async fn list_plans(&self) -> StoreResult<Vec<Plan>>;
    async fn get_plan(&self, slug: &PlanSlug) -> StoreResult<Option<Plan>>;
    /// Creates or replaces a plan.
    async fn put_plan(&self, plan: &Plan, audit: &AuditEntry) -> StoreResult<()>;

    // ----- customers and licenses -----

    async fn get_customer(&self, id: CustomerId) -> StoreResult<Option<Customer>>;
    async fn find_customer_by_email(&self, email: &Email) -> StoreResult<Option<Customer>>;
    async fn count_customers(&self) -> StoreResult<u64>;

    /// Creates a license, and its customer when `new.customer` is
    /// [`CustomerRef::New`] (the license's `customer_id` is then replaced by the
    /// new customer's id). `Conflict` on a taken install id, e-mail or domain;
    /// `NotFound` when an existing customer id does not exist.
    async fn create_license(
        &self,
        new: &NewLicense,
        audit: &AuditEntry,
    ) -> StoreResult<(Customer, License)>;

    async fn get_license(&self, install_id: &InstallId) -> StoreResult<Option<License>>;

    /// The keyed hash of the license key, for verifying a deployment.
    async fn license_key_hash(&self, install_id: &InstallId) -> StoreResult<Option<Vec<u8>>>;

    /// Stores `next` if the stored license still has `next.version`; the stored
    /// version becomes `next.version + 1` and the stored license is returned.
    /// `Conflict` when someone else changed it first or a domain is taken,
    /// `NotFound` when it does not exist.
    async fn update_license(&self, next: &License, audit: &AuditEntry) -> StoreResult<License>;

    /// One page of licenses with their customers and usage, filtered and sorted.
    async fn list_licenses(&self, query: &LicenseQuery) -> StoreResult<Page<LicenseListItem>>;

    /// Every license, reduced to what the dashboard stats need.
    async fn license_facts(&self) -> StoreResult<Vec<LicenseFacts>>;

    /// Licenses that time may have changed by `now`: trials past their end,
    /// active licenses past their contract end or current period end.
    async fn licenses_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<License>>;

    // ----- audit -----

    async fn list_audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>>;
    /// Audit records with `id > after_id`, oldest first, at most `limit`, with
    /// their hash-chain links (for `calos audit verify`). There are no methods
    /// to change or delete audit records: the log is append-only.
    async fn audit_chain(
        &self,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<calos_core::audit::chain::ChainedRecord>>;

    // ----- admins, sessions, tokens -----

    async fn count_admins(&self) -> StoreResult<u64>;
    /// `Conflict` when the username is taken.
    async fn create_admin(&self, new: &NewAdmin, audit: &AuditEntry) -> StoreResult<Admin>;
    async fn get_admin(&self, id: i64) -> StoreResult<Option<Admin>>;
    /// The admin and its password hash, for login.
    async fn get_admin_login(&self, username: &str) -> StoreResult<Option<(Admin, String)>>;
    async fn list_admins(&self) -> StoreResult<Vec<Admin>>;
    /// Also ends every session of that admin. `NotFound` for an unknown admin id.
    async fn set_admin_password(
        &self,
        id: i64,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> StoreResult<()>;

    /// Changes an admin's role. `NotFound` for an unknown id; `Conflict`
    /// (field `role`) when that would leave no enabled owner.
    async fn set_admin_role(&self, id: i64, role: Role, audit: &AuditEntry) -> StoreResult<Admin>;
    /// Disables (ending its sessions) or re-enables an admin. `NotFound` for
    /// an unknown id; `Conflict` (field `disabled`) when that would leave no
    /// enabled owner.
    async fn set_admin_disabled(
        &self,
        id: i64,
        disabled: bool,
        audit: &AuditEntry,
    ) -> StoreResult<Admin>;

    async fn create_session(&self, session: &NewSession) -> StoreResult<()>;
    /// A session that exists and has not expired at `now`, with its admin.
    async fn get_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(Session, Admin)>>;
    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()>;
    /// Removes expired sessions; returns how many.
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;

    async fn create_api_token(
        &self,
        new: &NewApiToken,
        audit: &AuditEntry,
    ) -> StoreResult<ApiToken>;
    /// A token that exists, is not revoked and has not expired at `now`, with its admin.
    async fn find_api_token(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(ApiToken, Admin)>>;
    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>>;
    /// `NotFound` for an unknown token id; revoking twice keeps the first time.
    async fn revoke_api_token(
        &self,
        id: i64,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;

    // ----- telemetry and usage -----

    /// Stores events, skipping any whose (install, event id) is already
    /// stored. Returns how many were new.
    async fn insert_events(&self, events: &[TelemetryEvent]) -> StoreResult<u64>;
    async fn insert_usage(&self, records: &[UsageRecord]) -> StoreResult<u64>;
    /// Usage per type for one install in `[from, to)`.
    async fn usage_totals(
        &self,
        install_id: &InstallId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<UsageTotal>>;
    /// Event counts per (type, feature) for one install since `since`, most first.
    async fn event_counts(
        &self,
        install_id: &InstallId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<EventCount>>;

    // ----- branding -----

    async fn get_branding(&self, install_id: &InstallId) -> StoreResult<Option<Branding>>;
    /// Creates or replaces a license's branding. `NotFound` when the license does not exist.
    async fn put_branding(&self, branding: &Branding, audit: &AuditEntry) -> StoreResult<()>;
}
