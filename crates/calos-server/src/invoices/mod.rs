//! Invoicing (issue 9), shared by the admin API, the dashboard and the CLI
//! (and, later, the customer portal): generating a month's drafts, the
//! lifecycle actions with their audit records, the JSON view, the CSV
//! export and the PDF download. Callers authorise first (see
//! [`calos_core::invoice::access`]) and pass the audit entry describing who
//! acts; the maths lives in [`calos_core::invoice`].

pub mod csv_export;
pub mod download;
pub mod generate;
pub mod lifecycle;
pub mod view;

use calos_core::auth::Role;
use calos_core::invoice::access::{allows, InvoiceAction};
use calos_core::invoice::BillingProfile;
use calos_store::Store;

use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};

/// Refuses with 403 unless the admin's role may do `action` with invoices.
pub fn require(user: &AdminUser, action: InvoiceAction) -> ApiResult<()> {
    role_allows(user.admin.role, action)
}

pub fn role_allows(role: Role, action: InvoiceAction) -> ApiResult<()> {
    if allows(role, action) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The billing profile, which issuing and generating need.
pub async fn profile(store: &dyn Store) -> ApiResult<BillingProfile> {
    store.billing_profile().await?.ok_or_else(|| ApiError::Conflict {
        message: "billing_profile: set up the billing profile first (PUT /api/enterprise/billing-profile or Dashboard → Billing profile)".to_owned(),
    })
}
