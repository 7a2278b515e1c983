//! The PostgreSQL backend of the CALOS [`Store`]: for production and for
//! several stateless `calos serve` nodes sharing one database.
//!
//! Queries are built at run time (`sqlx::query`), so building needs no
//! database. Each trait method runs in one transaction; mutations write their
//! audit entry in it. The work is split by area into the private modules
//! below; this file only connects and delegates.

mod account_owner;
mod admins;
mod audit;
mod branding;
mod culture;
mod culture_sessions;
mod customers;
mod error;
mod ingest;
mod invoices;
mod licenses;
mod list;
mod metrics;
mod outbox;
mod partitions;
mod plans;
mod portal;
mod rows;
mod security;
mod sessions;
mod telemetry;
mod tokens;
mod verify;
mod webhook_test;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use calos_core::audit::{AuditEntry, AuditRecord};
use calos_core::branding::Branding;
use calos_core::customer::{Customer, CustomerId, Email};
use calos_core::ids::InstallId;
use calos_core::license::License;
use calos_core::plan::{Plan, PlanSlug};
use calos_core::stats::LicenseFacts;
use calos_core::telemetry::{TelemetryEvent, UsageRecord};
use calos_store::{
    Admin, ApiToken, AuditQuery, EventCount, LicenseListItem, LicenseQuery, NewAdmin, NewApiToken,
    NewLicense, NewSession, Page, Session, Store, StoreError, StoreResult, UsageTotal,
};

use crate::error::DbResultExt;

/// How long a request waits for a pooled connection before the store reports
/// itself `Unavailable`: long enough for a brief spike, short enough that a
/// down database fails requests (and `/healthz`) quickly.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: u32 = 10;

/// A [`Store`] on a PostgreSQL connection pool.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Where analytics reads go (culture, stats, dashboard lists): a read
    /// replica when `DATABASE_READ_URL` names one, else the primary's pool.
    read_pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and applies pending
    /// migrations. A server that cannot be reached is `StoreError::Unavailable`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .db()?;
        Self::from_pool(pool).await
    }

    /// [`connect`](Self::connect) for a server: a request waits at most
    /// `acquire_timeout` for a pooled connection, so while PostgreSQL is down
    /// requests fail that fast (as `Unavailable`) instead of queueing. Start-up
    /// itself still waits up to [`ACQUIRE_TIMEOUT`] for a database that is
    /// just coming up.
    pub async fn connect_with_acquire_timeout(
        url: &str,
        acquire_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(acquire_timeout)
            .connect_lazy_with(options);
        let deadline = tokio::time::Instant::now() + ACQUIRE_TIMEOUT;
        loop {
            match Self::from_pool(pool.clone()).await {
                Err(StoreError::Unavailable(_)) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                other => return other,
            }
        }
    }

    /// Wraps an existing pool, applying pending migrations first.
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        // sqlx takes an advisory lock here, so nodes starting together migrate once.
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(error::map_migrate)?;
        // The coming months' telemetry partitions exist before any event
        // needs them; the retention worker keeps making them ahead.
        let now = Utc::now();
        partitions::make_ahead(&pool, now, now, partitions::MONTHS_AHEAD).await?;
        Ok(Self {
            read_pool: pool.clone(),
            pool,
        })
    }

    /// Sends analytics reads (culture, stats, dashboard lists) to the read
    /// replica at `url` from now on; everything else stays on the primary.
    /// The replica is never migrated (it follows the primary) and must be
    /// reachable now, so a wrong URL stops start-up instead of every page.
    /// Reads there may lag the primary by the replication delay.
    pub async fn with_read_replica(
        mut self,
        url: &str,
        acquire_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL read URL: {e}")))?;
        self.read_pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(acquire_timeout)
            .connect_with(options)
            .await
            .db()?;
        Ok(self)
    }

    /// The pool analytics reads use (the primary's unless a replica is set).
    pub fn read_pool(&self) -> &PgPool {
        &self.read_pool
    }

    /// The underlying pool, for work outside the trait (e.g. `LISTEN/NOTIFY`).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection; later calls fail as `Unavailable`.
    pub async fn close(&self) {
        self.pool.close().await;
        self.read_pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.db()?;
        Ok(())
    }

    async fn ensure_plans(&self, plans: &[Plan]) -> StoreResult<u64> {
        plans::ensure_plans(&self.pool, plans).await
    }

    async fn list_plans(&self) -> StoreResult<Vec<Plan>> {
        plans::list_plans(&self.pool).await
    }

    async fn get_plan(&self, slug: &PlanSlug) -> StoreResult<Option<Plan>> {
        plans::get_plan(&self.pool, slug).await
    }

    async fn put_plan(&self, plan: &Plan, audit: &AuditEntry) -> StoreResult<()> {
        plans::put_plan(&self.pool, plan, audit).await
    }

    async fn get_customer(&self, id: CustomerId) -> StoreResult<Option<Customer>> {
        customers::get_customer(&self.pool, id).await
    }

    async fn find_customer_by_email(&self, email: &Email) -> StoreResult<Option<Customer>> {
        customers::find_customer_by_email(&self.pool, email).await
    }

    async fn count_customers(&self) -> StoreResult<u64> {
        customers::count_customers(&self.read_pool).await
    }

    async fn create_license(
        &self,
        new: &NewLicense,
        audit: &AuditEntry,
    ) -> StoreResult<(Customer, License)> {
        licenses::create_license(&self.pool, new, audit).await
    }

    async fn get_license(&self, install_id: &InstallId) -> StoreResult<Option<License>> {
        licenses::get_license(&self.pool, install_id).await
    }

    async fn license_key_hash(&self, install_id: &InstallId) -> StoreResult<Option<Vec<u8>>> {
        licenses::license_key_hash(&self.pool, install_id).await
    }

    async fn update_license(&self, next: &License, audit: &AuditEntry) -> StoreResult<License> {
        licenses::update_license(&self.pool, next, audit).await
    }

    async fn list_licenses(&self, query: &LicenseQuery) -> StoreResult<Page<LicenseListItem>> {
        list::list_licenses(&self.read_pool, query).await
    }

    async fn license_facts(&self) -> StoreResult<Vec<LicenseFacts>> {
        licenses::license_facts(&self.read_pool).await
    }

    async fn licenses_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<License>> {
        licenses::licenses_due(&self.pool, now, limit).await
    }

    async fn list_audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
        audit::list_audit(&self.pool, query).await
    }

    async fn audit_chain(
        &self,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<calos_core::audit::chain::ChainedRecord>> {
        audit::chain(&self.pool, after_id, limit).await
    }

    async fn count_admins(&self) -> StoreResult<u64> {
        admins::count_admins(&self.pool).await
    }

    async fn create_admin(&self, new: &NewAdmin, audit: &AuditEntry) -> StoreResult<Admin> {
        admins::create_admin(&self.pool, new, audit).await
    }

    async fn get_admin(&self, id: i64) -> StoreResult<Option<Admin>> {
        admins::get_admin(&self.pool, id).await
    }

    async fn get_admin_login(&self, username: &str) -> StoreResult<Option<(Admin, String)>> {
        admins::get_admin_login(&self.pool, username).await
    }

    async fn list_admins(&self) -> StoreResult<Vec<Admin>> {
        admins::list_admins(&self.pool).await
    }

    async fn set_admin_password(
        &self,
        id: i64,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        admins::set_admin_password(&self.pool, id, password_hash, audit).await
    }

    async fn set_admin_role(
        &self,
        id: i64,
        role: calos_core::auth::Role,
        audit: &AuditEntry,
    ) -> StoreResult<Admin> {
        admins::set_admin_role(&self.pool, id, role, audit).await
    }

    async fn set_admin_disabled(
        &self,
        id: i64,
        disabled: bool,
        audit: &AuditEntry,
    ) -> StoreResult<Admin> {
        admins::set_admin_disabled(&self.pool, id, disabled, audit).await
    }

    async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        sessions::create_session(&self.pool, session).await
    }

    async fn get_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(Session, Admin)>> {
        sessions::get_session(&self.pool, token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        sessions::delete_session(&self.pool, token_hash).await
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        sessions::delete_expired_sessions(&self.pool, now).await
    }

    async fn create_api_token(
        &self,
        new: &NewApiToken,
        audit: &AuditEntry,
    ) -> StoreResult<ApiToken> {
        tokens::create_api_token(&self.pool, new, audit).await
    }

    async fn find_api_token(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(ApiToken, Admin)>> {
        tokens::find_api_token(&self.pool, token_hash, now).await
    }

    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        tokens::list_api_tokens(&self.pool).await
    }

    async fn revoke_api_token(
        &self,
        id: i64,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        tokens::revoke_api_token(&self.pool, id, now, audit).await
    }

    async fn insert_events(&self, events: &[TelemetryEvent]) -> StoreResult<u64> {
        telemetry::insert_events(&self.pool, events).await
    }

    async fn insert_usage(&self, records: &[UsageRecord]) -> StoreResult<u64> {
        telemetry::insert_usage(&self.pool, records).await
    }

    async fn usage_totals(
        &self,
        install_id: &InstallId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<UsageTotal>> {
        telemetry::usage_totals(&self.pool, install_id, from, to).await
    }

    async fn event_counts(
        &self,
        install_id: &InstallId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<EventCount>> {
        telemetry::event_counts(&self.pool, install_id, since, limit).await
    }

    async fn get_branding(&self, install_id: &InstallId) -> StoreResult<Option<Branding>> {
        branding::get_branding(&self.pool, install_id).await
    }

    async fn put_branding(&self, branding: &Branding, audit: &AuditEntry) -> StoreResult<()> {
        branding::put_branding(&self.pool, branding, audit).await
    }
}
