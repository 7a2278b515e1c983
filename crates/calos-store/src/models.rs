//! Values that exist only at the storage boundary: queries, pages, accounts.

use chrono::{DateTime, Utc};
use serde::Serialize;

use calos_core::auth::Role;
use calos_core::customer::{Customer, CustomerId, NewCustomer};
use calos_core::license::{License, LicenseStatus};
use calos_core::plan::{PlanSlug, UsageType};
use calos_core::telemetry::EventType;

/// The customer a new license belongs to.
#[derive(Debug, Clone)]
pub enum CustomerRef {
    Existing(CustomerId),
    New(NewCustomer),
}

#[derive(Debug, Clone)]
pub struct NewLicense {
    pub customer: CustomerRef,
    pub license: License,
    /// Keyed hash of the license key; the key itself is never stored.
    pub key_hash: Vec<u8>,
    /// The customer's account owner, set in the license's own transaction
    /// so that the `license.created` notification already finds it.
    pub owner: Option<crate::OwnerChoice>,
}

/// Sort orders for the customer list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LicenseSort {
    #[default]
    CreatedDesc,
    CreatedAsc,
    NameAsc,
    NameDesc,
    LastSeenDesc,
    LastSeenAsc,
    TierAsc,
    StatusAsc,
    EventsDesc,
}

#[derive(Debug, Clone, Default)]
pub struct LicenseQuery {
    pub status: Option<LicenseStatus>,
    pub plan: Option<PlanSlug>,
    /// Case-insensitive substring of customer name, e-mail, company, install id or domain.
    pub search: Option<String>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
    pub sort: LicenseSort,
    /// "Now" for the usage windows (current period, last 30 days).
    pub now: DateTime<Utc>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Clone)]
pub struct LicenseListItem {
    pub license: License,
    pub customer: Customer,
    /// API requests metered in the license's current billing period.
    pub api_requests_this_period: i64,
    pub events_last_30_days: i64,
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// Newest first; at most this many.
    pub limit: u32,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Admin {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewAdmin {
    pub username: String,
    pub email: Option<String>,
    pub role: Role,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the cookie value; the value itself is never stored.
    pub token_hash: Vec<u8>,
    pub admin_id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub admin_id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub admin_id: i64,
    pub name: String,
    /// The recognisable start of the token (e.g. `calos_at_1a2b3c4d`), kept to show in lists.
    pub prefix: String,
    pub token_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Caps what the token may do below its admin's role (`None`: the admin's role).
    pub role: Option<Role>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    pub id: i64,
    pub admin_id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub role: Option<Role>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageTotal {
    pub usage_type: UsageType,
    pub quantity: i64,
    pub amount_minor: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCount {
    pub event_type: EventType,
    pub feature: Option<String>,
    pub count: i64,
}
