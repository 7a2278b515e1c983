//! `GET`/`PUT /api/enterprise/billing-profile`: the vendor's details printed
//! on every invoice. Everyone may read it; owners and admins edit it.

use axum::extract::State;
use axum::Json as JsonResponse;
use serde::Serialize;

use calos_core::invoice::access::InvoiceAction;
use calos_core::invoice::BillingProfile;

use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::invoices::require;

#[derive(utoipa::ToSchema)]
#[schema(as = BillingProfileResult)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileResponse {
    success: bool,
    /// `null` until an admin sets it up.
    billing_profile: Option<BillingProfile>,
}

#[utoipa::path(
    get,
    path = "/api/enterprise/billing-profile",
    operation_id = "getBillingProfile",
    tag = "invoices",
    summary = "The vendor's billing profile",
    responses((status = 200, description = "The profile", body = ProfileResponse))
)]
pub async fn show(
    user: AdminUser,
    State(state): State<AppState>,
) -> ApiResult<JsonResponse<ProfileResponse>> {
    require(&user, InvoiceAction::Read)?;
    Ok(JsonResponse(ProfileResponse {
        success: true,
        billing_profile: state.store.billing_profile().await?,
    }))
}

#[utoipa::path(
    put,
    path = "/api/enterprise/billing-profile",
    operation_id = "putBillingProfile",
    tag = "invoices",
    summary = "Set the vendor's billing profile",
    request_body = calos_core::invoice::BillingProfile,
    responses((status = 200, description = "Saved", body = ProfileResponse))
)]
pub async fn put(
    user: AdminUser,
    State(state): State<AppState>,
    Json(profile): Json<BillingProfile>,
) -> ApiResult<JsonResponse<ProfileResponse>> {
    require(&user, InvoiceAction::EditBillingProfile)?;
    let profile = profile.normalised()?;
    if let Some(png) = profile.logo_png()? {
        // Refuse a logo the PDF writer could not draw now, not at the first invoice.
        crate::invoice_pdf::check_logo(&png)?;
    }
    let before = state.store.billing_profile().await?;
    let audit = user.audit(
        "billing_profile.update",
        "billing_profile",
        "1",
        before
            .as_ref()
            .and_then(|p| serde_json::to_value(redacted(p)).ok()),
        serde_json::to_value(redacted(&profile)).ok(),
    );
    state.store.put_billing_profile(&profile, &audit).await?;
    Ok(JsonResponse(ProfileResponse {
        success: true,
        billing_profile: Some(profile),
    }))
}

/// The profile as audited: the logo's bytes are replaced by their size.
fn redacted(p: &BillingProfile) -> BillingProfile {
    BillingProfile {
        logo_png_base64: p
            .logo_png_base64
            .as_ref()
            .map(|l| format!("<{} base64 characters>", l.len())),
        ..p.clone()
    }
}
