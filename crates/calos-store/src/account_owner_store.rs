//! The vendor's account owner of each customer (issue 10): a vendor admin,
//! or a plain e-mail address for an owner without an admin account. The
//! owner receives that customer's vendor-side notifications; a customer
//! without a reachable owner falls back to the vendor address.

use async_trait::async_trait;
use serde::Serialize;

use calos_core::audit::AuditEntry;
use calos_core::customer::{CustomerId, Email};
use calos_core::ids::InstallId;

use crate::StoreResult;

/// Who is made the owner of a customer account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerChoice {
    /// A vendor admin (by id): notifications follow the admin's e-mail.
    Admin(i64),
    /// An address without an admin account.
    Email(Email),
}

/// A customer's account owner as stored, with what it resolves to now.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountOwner {
    pub customer_id: CustomerId,
    /// The owning admin, when the owner is an admin.
    pub admin_id: Option<i64>,
    pub admin_username: Option<String>,
    /// Whether the owning admin is disabled (then it receives nothing).
    pub admin_disabled: bool,
    /// Where the owner's notifications go: the admin's e-mail while the
    /// admin is enabled and has one, else the stored address. `None`: the
    /// owner cannot be reached, so the vendor address receives them.
    pub email: Option<String>,
}

/// Part of [`Store`](crate::Store).
#[async_trait]
pub trait AccountOwnerStore: Send + Sync {
    /// The owner of a customer; `None` when it has none. `NotFound` for an
    /// unknown customer.
    async fn account_owner(&self, customer_id: CustomerId) -> StoreResult<Option<AccountOwner>>;

    /// The owner of the customer holding a license; `None` when the license
    /// is unknown or its customer has no owner (the delivery worker's
    /// question: one statement).
    async fn account_owner_of_install(
        &self,
        install_id: &InstallId,
    ) -> StoreResult<Option<AccountOwner>>;

    /// Sets (or with `None` clears) a customer's owner, with its audit
    /// record in the same transaction; returns the new owner. `NotFound`
    /// for an unknown customer or admin (nothing written then).
    async fn set_account_owner(
        &self,
        customer_id: CustomerId,
        owner: Option<&OwnerChoice>,
        audit: &AuditEntry,
    ) -> StoreResult<Option<AccountOwner>>;
}

/// Builds the owner from the stored columns (shared by both backends):
/// `(owner_admin_id, admin username, admin e-mail, admin disabled, owner_email)`.
pub fn resolve_owner(
    customer_id: CustomerId,
    admin_id: Option<i64>,
    username: Option<String>,
    admin_email: Option<String>,
    admin_disabled: bool,
    owner_email: Option<String>,
) -> Option<AccountOwner> {
    let usable = |e: Option<String>| e.filter(|e| !e.trim().is_empty());
    match (admin_id, owner_email) {
        (Some(id), _) => Some(AccountOwner {
            customer_id,
            admin_id: Some(id),
            admin_username: username,
            admin_disabled,
            email: if admin_disabled {
                None
            } else {
                usable(admin_email)
            },
        }),
        (None, Some(email)) => Some(AccountOwner {
            customer_id,
            admin_id: None,
            admin_username: None,
            admin_disabled: false,
            email: usable(Some(email)),
        }),
        (None, None) => None,
    }
}
