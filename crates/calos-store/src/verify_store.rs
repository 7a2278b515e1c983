//! Storage for the phone-home path: signing keys, deployment instances and
//! the batched writes the verify endpoint defers (issue 3).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use calos_core::audit::AuditEntry;
use calos_core::ids::InstallId;

use crate::StoreResult;

/// One Ed25519 signing key. The private half is only ever stored sealed
/// (AEAD under a subkey of the server's master key); the store never sees it
/// in the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// Key id, published in JWKS and in every token's header.
    pub kid: String,
    /// The 32-byte Ed25519 public key.
    pub public_key: Vec<u8>,
    /// The sealed private key and the nonce it was sealed with.
    pub sealed_private_key: Vec<u8>,
    pub nonce: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub activated_at: DateTime<Utc>,
    /// `None` while the key is the active one.
    pub retired_at: Option<DateTime<Utc>>,
    /// A retired key stays in JWKS until then (every lease it signed has ended).
    pub publish_until: Option<DateTime<Utc>>,
}

/// One verify request's facts, recorded later in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifySeen {
    pub install_id: InstallId,
    pub instance_id: String,
    pub domain: Option<String>,
    pub version: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub at: DateTime<Utc>,
}

/// A running deployment of one install, as verify requests have shown it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub install_id: InstallId,
    pub instance_id: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// What the most recent request said.
    pub domain: Option<String>,
    pub version: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A domain some deployment of an install reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainSeen {
    pub domain: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// Part of [`Store`](crate::Store); kept in its own trait so the phone-home
/// storage can grow without touching the admin-side methods.
#[async_trait]
pub trait VerifyStore: Send + Sync {
    /// Every signing key, oldest first (ties by kid).
    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;

    /// Stores `key` as the active key only when there is no active key yet
    /// (first start; several nodes may race). Returns whether it was stored.
    async fn insert_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool>;

    /// In one transaction: retires the active key at `key.activated_at`,
    /// keeping it published until `old_publish_until`, and makes `key` the
    /// active one. `Conflict` on a taken kid.
    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        old_publish_until: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;

    /// Records a batch of verify requests: upserts each instance (first seen
    /// kept, last seen and its details from the newest request), each domain
    /// seen, and moves each license's `last_seen_at` forward (never back).
    /// Entries for installs that do not exist are skipped.
    async fn record_verifications(&self, seen: &[VerifySeen]) -> StoreResult<()>;

    /// An install's instances, most recently seen first (ties by instance id).
    async fn list_instances(&self, install_id: &InstallId) -> StoreResult<Vec<Instance>>;

    /// Instances of an install seen at or after `since`.
    async fn count_active_instances(
        &self,
        install_id: &InstallId,
        since: DateTime<Utc>,
    ) -> StoreResult<u64>;

    /// Domains an install's deployments reported, sorted by domain.
    async fn list_domains_seen(&self, install_id: &InstallId) -> StoreResult<Vec<DomainSeen>>;

    /// Distinct domains an install reported at or after `since` (the `domains` meter).
    async fn count_domains_seen(
        &self,
        install_id: &InstallId,
        since: DateTime<Utc>,
    ) -> StoreResult<u64>;
}

/// A batch of [`VerifySeen`] folded to one row per instance, per domain and
/// per license, so a backend writes each row once however many requests the
/// batch holds (and PostgreSQL's multi-row upsert never meets a key twice).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FoldedVerifications {
    /// Per (install, instance): the earliest time and the newest request.
    pub instances: Vec<(DateTime<Utc>, VerifySeen)>,
    /// Per (install, domain): first and last time seen.
    pub domains: Vec<(InstallId, String, DateTime<Utc>, DateTime<Utc>)>,
    /// Per install: the newest time seen.
    pub licenses: Vec<(InstallId, DateTime<Utc>)>,
}

impl FoldedVerifications {
    pub fn fold(seen: &[VerifySeen]) -> Self {
        use std::collections::BTreeMap;
        let mut instances: BTreeMap<(&str, &str), (DateTime<Utc>, &VerifySeen)> = BTreeMap::new();
        type Span = (DateTime<Utc>, DateTime<Utc>);
        let mut domains: BTreeMap<(&InstallId, &str), Span> = BTreeMap::new();
        let mut licenses: BTreeMap<&InstallId, DateTime<Utc>> = BTreeMap::new();
        for s in seen {
            let slot = instances
                .entry((s.install_id.as_str(), s.instance_id.as_str()))
                .or_insert((s.at, s));
            slot.0 = slot.0.min(s.at);
            if s.at >= slot.1.at {
                slot.1 = s;
            }
            if let Some(d) = &s.domain {
                let slot = domains
                    .entry((&s.install_id, d.as_str()))
                    .or_insert((s.at, s.at));
                slot.0 = slot.0.min(s.at);
                slot.1 = slot.1.max(s.at);
            }
            let last = licenses.entry(&s.install_id).or_insert(s.at);
            *last = (*last).max(s.at);
        }
        Self {
            instances: instances
                .into_values()
                .map(|(first, s)| (first, s.clone()))
                .collect(),
            domains: domains
                .into_iter()
                .map(|((i, d), (first, last))| (i.clone(), d.to_owned(), first, last))
                .collect(),
            licenses: licenses.into_iter().map(|(i, t)| (i.clone(), t)).collect(),
        }
    }
}
