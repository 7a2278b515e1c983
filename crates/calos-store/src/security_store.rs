//! Storage for login protection (issue 7): sessions with an idle timeout,
//! audited logins, TOTP second factors and the short-lived challenges that
//! sit between the password step and the code step of a login.
//!
//! Throttling of failed logins is not stored: it is kept in memory per
//! server node (see the server's `auth::throttle`).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use calos_core::audit::AuditEntry;

use crate::{Admin, NewSession, Session, StoreResult};

/// An admin's TOTP second factor. The secret is only ever stored sealed
/// (AEAD under a subkey of the server's master key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpFactor {
    pub admin_id: i64,
    /// Nonce followed by the sealed secret; opaque to the store.
    pub sealed_secret: Vec<u8>,
    /// `false` while enrolment waits for its first code.
    pub enabled: bool,
    /// The last 30-second time step a code was accepted for: a code is
    /// accepted at most once (no replay within its validity window).
    pub last_step: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait SecurityStore {
    /// Stores a new login session (last seen = its creation) and the audit
    /// record of the login, in one transaction.
    async fn start_session(&self, session: &NewSession, audit: &AuditEntry) -> StoreResult<()>;

    /// The session with `token_hash` and its admin, if it has neither expired
    /// (`expires_at > now`, the absolute timeout) nor been idle for `idle` or
    /// longer (`last_seen_at > now - idle`). When it was last seen more than
    /// `touch_after` ago, its last-seen time becomes `now` (so an active
    /// session costs at most one write per `touch_after`).
    async fn active_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
        idle: Duration,
        touch_after: Duration,
    ) -> StoreResult<Option<(Session, Admin)>>;

    /// Ends every session of one admin; returns how many.
    async fn end_admin_sessions(&self, admin_id: i64) -> StoreResult<u64>;

    /// Appends a security event that changes nothing else (a failed login).
    async fn record_security_event(&self, audit: &AuditEntry) -> StoreResult<()>;

    /// The admin's TOTP factor, enabled or waiting for confirmation.
    async fn totp_factor(&self, admin_id: i64) -> StoreResult<Option<TotpFactor>>;

    /// Starts (or restarts) enrolment with a new sealed secret, not enabled
    /// yet. `Conflict` (field `totp`) when a factor is already enabled;
    /// `NotFound` for an unknown admin.
    async fn begin_totp_enrolment(
        &self,
        admin_id: i64,
        sealed_secret: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Enables the pending factor, recording `step` as used. `NotFound` when
    /// no enrolment is pending (none started, or already enabled).
    async fn enable_totp(&self, admin_id: i64, step: i64, audit: &AuditEntry) -> StoreResult<()>;

    /// Removes the factor, enabled or pending. `NotFound` when there is none.
    async fn remove_totp(&self, admin_id: i64, audit: &AuditEntry) -> StoreResult<()>;

    /// Marks `step` used if it is later than the last used step of an enabled
    /// factor; `false` (nothing changed) for a replayed or older step.
    async fn claim_totp_step(&self, admin_id: i64, step: i64) -> StoreResult<bool>;

    /// Stores a challenge between the password and code steps of a login
    /// (and drops challenges that expired by `now`).
    async fn create_login_challenge(
        &self,
        token_hash: &[u8],
        admin_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Takes (deletes) a challenge: its admin when it existed and had not
    /// expired by `now`. A challenge is usable once.
    async fn take_login_challenge(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Admin>>;
}
