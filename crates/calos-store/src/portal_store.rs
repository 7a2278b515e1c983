//! Storage for the customer portal and customer domains (issue 8): the
//! customer's own portal accounts (separate from vendor admins), their
//! sessions, and domain ownership checks (DNS TXT tokens).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use calos_core::audit::AuditEntry;
use calos_core::customer::{Domain, Email};
use calos_core::ids::InstallId;

use crate::StoreResult;

/// A customer's portal account: scoped to one install.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortalUser {
    pub id: i64,
    pub install_id: InstallId,
    pub email: Email,
    /// `false` until the invitation was accepted and a password set.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// An invitation (or a new one for an existing account: a reset link).
#[derive(Debug, Clone)]
pub struct PortalInvite {
    pub install_id: InstallId,
    pub email: Email,
    /// SHA-256 of the one-time token in the link; the token itself is never stored.
    pub token_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    pub token_hash: Vec<u8>,
    pub user_id: i64,
    pub install_id: InstallId,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A customer's claim on a domain and its DNS ownership check.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainClaim {
    pub domain: Domain,
    pub install_id: InstallId,
    /// Published as `calos-verify=<token>` in a TXT record.
    pub token: String,
    pub created_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub checked_at: Option<DateTime<Utc>>,
}

/// The customer a host belongs to, found by the domain router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostOwner {
    pub install_id: InstallId,
    /// The license entry that matched (the host, or a `*.` wildcard).
    pub matched: Domain,
    pub verified: bool,
}

#[async_trait]
pub trait PortalStore {
    /// Creates the account (inactive) or, for an existing one, replaces its
    /// invitation token (which then works as a password reset link).
    /// `NotFound` for an unknown license.
    async fn invite_portal_user(
        &self,
        invite: &PortalInvite,
        audit: &AuditEntry,
    ) -> StoreResult<PortalUser>;

    /// Sets the password of the account of `install_id` whose unexpired
    /// invitation token hashes to `token_hash`, uses the token up and ends the
    /// account's sessions. `None` for an unknown, used or expired token, or
    /// one of another install.
    async fn accept_portal_invite(
        &self,
        install_id: &InstallId,
        token_hash: &[u8],
        password_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<Option<PortalUser>>;

    async fn list_portal_users(&self, install_id: &InstallId) -> StoreResult<Vec<PortalUser>>;

    /// The account and its password hash (`None` while inactive), for login.
    async fn get_portal_login(
        &self,
        install_id: &InstallId,
        email: &Email,
    ) -> StoreResult<Option<(PortalUser, Option<String>)>>;

    /// Stores a session and marks the account's last login.
    async fn create_portal_session(&self, session: &PortalSession) -> StoreResult<()>;

    /// An unexpired session with its account.
    async fn get_portal_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(PortalSession, PortalUser)>>;

    async fn delete_portal_session(&self, token_hash: &[u8]) -> StoreResult<()>;

    /// The verification record of `domain` for `install_id`, created with
    /// `token` when there is none (or when it was another install's).
    async fn ensure_domain_claim(
        &self,
        install_id: &InstallId,
        domain: &Domain,
        token: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<DomainClaim>;

    /// Verification records of one install, by domain.
    async fn list_domain_claims(&self, install_id: &InstallId) -> StoreResult<Vec<DomainClaim>>;

    /// Records a DNS check of a claim: `verified` sets `verified_at` (kept
    /// from the first success), always `checked_at`. `NotFound` without a claim.
    async fn record_domain_check(
        &self,
        install_id: &InstallId,
        domain: &Domain,
        verified: bool,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<DomainClaim>;

    /// The license whose domains contain `host` exactly, else one with a
    /// `*.` wildcard among `wildcards` (the host's parents, nearest first).
    async fn find_host_owner(
        &self,
        host: &Domain,
        wildcards: &[String],
    ) -> StoreResult<Option<HostOwner>>;
}
