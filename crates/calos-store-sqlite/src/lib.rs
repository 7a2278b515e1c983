//! The SQLite backend of the CALOS store: the default for one machine.
//!
//! One database file in WAL mode (readers never block the writer), foreign
//! keys on, `busy_timeout` 5 s, and every write transaction opened with
//! `BEGIN IMMEDIATE` so concurrent writers queue instead of failing with
//! `SQLITE_BUSY` when they upgrade a read lock. Times are stored as INTEGER
//! unix microseconds. Migrations in `migrations/` run on [`SqliteStore::connect`].

mod account_owner;
mod admins;
mod audit;
mod branding;
mod culture;
mod culture_sessions;
mod customers;
mod db;
mod ingest;
mod invoices;
mod licenses;
mod list;
mod metrics;
mod outbox;
mod plans;
mod portal;
mod raw_retention;
mod security;
mod telemetry;
mod verify;
mod webhook_test;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

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

use crate::db::db_err;

/// Connections in the pool: readers run in parallel under WAL; writers queue
/// on the write lock.
const MAX_CONNECTIONS: u32 = 8;
/// Rows a read may buffer ahead of the task consuming them.
const ROW_BUFFER: usize = 4_096;

/// The SQLite store. Cheap to clone (it holds a connection pool).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://calos.db`,
    /// `sqlite:///abs/path.db`) and applies pending migrations. An in-memory
    /// URL (`sqlite::memory:`) works too, on a single connection.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Normal)
            // Rows cross from the connection's thread through a bounded
            // channel; at the default 50 a read of thousands of rows (the
            // culture read's hours) stalls the thread every few rows.
            .row_buffer_size(ROW_BUFFER);
        // Every connection to an in-memory database is a different database,
        // so such a store keeps exactly one connection open for its lifetime.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let mut pool = SqlitePoolOptions::new().acquire_timeout(Duration::from_secs(30));
        pool = if in_memory {
            pool.max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            pool.max_connections(MAX_CONNECTIONS)
                // A transaction SQLite rolled back by itself (a COMMIT that
                // failed on a full disk) still counts as open in sqlx, and
                // every later BEGIN on that connection would fail: such a
                // connection is closed rather than pooled.
                .after_release(|conn, _| {
                    let sound = !sqlx::Connection::is_in_transaction(conn);
                    Box::pin(async move { Ok(sound) })
                })
        };
        let pool = pool.connect_with(options).await.map_err(db_err)?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations that have not run yet (idempotent).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|e| match e {
                sqlx::migrate::MigrateError::Execute(e) => db_err(e),
                other => StoreError::Backend(format!("migration failed: {other}")),
            })
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn ensure_plans(&self, plans: &[Plan]) -> StoreResult<u64> {
        plans::ensure(&self.pool, plans).await
    }

    async fn list_plans(&self) -> StoreResult<Vec<Plan>> {
        plans::list(&self.pool).await
    }

    async fn get_plan(&self, slug: &PlanSlug) -> StoreResult<Option<Plan>> {
        plans::get_one(&self.pool, slug).await
    }

    async fn put_plan(&self, plan: &Plan, audit: &AuditEntry) -> StoreResult<()> {
        plans::put(&self.pool, plan, audit).await
    }

    async fn get_customer(&self, id: CustomerId) -> StoreResult<Option<Customer>> {
        customers::get_by_id(&self.pool, id).await
    }

    async fn find_customer_by_email(&self, email: &Email) -> StoreResult<Option<Customer>> {
        customers::find_by_email(&self.pool, email).await
    }

    async fn count_customers(&self) -> StoreResult<u64> {
        customers::count_all(&self.pool).await
    }

    async fn create_license(
        &self,
        new: &NewLicense,
        audit: &AuditEntry,
    ) -> StoreResult<(Customer, License)> {
        licenses::create(&self.pool, new, audit).await
    }

    async fn get_license(&self, install_id: &InstallId) -> StoreResult<Option<License>> {
        licenses::get_one(&self.pool, install_id).await
    }

    async fn license_key_hash(&self, install_id: &InstallId) -> StoreResult<Option<Vec<u8>>> {
        licenses::key_hash(&self.pool, install_id).await
    }

    async fn update_license(&self, next: &License, audit: &AuditEntry) -> StoreResult<License> {
        licenses::update(&self.pool, next, audit).await
    }

    async fn list_licenses(&self, query: &LicenseQuery) -> StoreResult<Page<LicenseListItem>> {
        list::list(&self.pool, query).await
    }

    async fn license_facts(&self) -> StoreResult<Vec<LicenseFacts>> {
        licenses::facts(&self.pool).await
    }

    async fn licenses_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<License>> {
        licenses::due(&self.pool, now, limit).await
    }

    async fn list_audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
        audit::list(&self.pool, query).await
    }

    async fn audit_chain(
        &self,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<calos_core::audit::chain::ChainedRecord>> {
        audit::chain(&self.pool, after_id, limit).await
    }

    async fn count_admins(&self) -> StoreResult<u64> {
        admins::count_all(&self.pool).await
    }

    async fn create_admin(&self, new: &NewAdmin, audit: &AuditEntry) -> StoreResult<Admin> {
        admins::create(&self.pool, new, audit).await
    }

    async fn get_admin(&self, id: i64) -> StoreResult<Option<Admin>> {
        admins::get_one(&self.pool, id).await
    }

    async fn get_admin_login(&self, username: &str) -> StoreResult<Option<(Admin, String)>> {
        admins::login(&self.pool, username).await
    }

    async fn list_admins(&self) -> StoreResult<Vec<Admin>> {
        admins::list(&self.pool).await
    }

    async fn set_admin_password(
        &self,
        id: i64,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        admins::set_password(&self.pool, id, password_hash, audit).await
    }

    async fn set_admin_role(
        &self,
        id: i64,
        role: calos_core::auth::Role,
        audit: &AuditEntry,
    ) -> StoreResult<Admin> {
        admins::change(&self.pool, id, Some(role), None, audit).await
    }

    async fn set_admin_disabled(
        &self,
        id: i64,
        disabled: bool,
        audit: &AuditEntry,
    ) -> StoreResult<Admin> {
        admins::change(&self.pool, id, None, Some(disabled), audit).await
    }

    async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        admins::create_session(&self.pool, session).await
    }

    async fn get_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(Session, Admin)>> {
        admins::get_session(&self.pool, token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        admins::delete_session(&self.pool, token_hash).await
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        admins::delete_expired_sessions(&self.pool, now).await
    }

    async fn create_api_token(
        &self,
        new: &NewApiToken,
        audit: &AuditEntry,
    ) -> StoreResult<ApiToken> {
        admins::create_token(&self.pool, new, audit).await
    }

    async fn find_api_token(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(ApiToken, Admin)>> {
        admins::find_token(&self.pool, token_hash, now).await
    }

    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        admins::list_tokens(&self.pool).await
    }

    async fn revoke_api_token(
        &self,
        id: i64,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        admins::revoke_token(&self.pool, id, now, audit).await
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
        branding::get_one(&self.pool, install_id).await
    }

    async fn put_branding(&self, branding: &Branding, audit: &AuditEntry) -> StoreResult<()> {
        branding::put(&self.pool, branding, audit).await
    }
}
