//! Changing invoices: `POST /api/enterprise/invoices/generate`,
//! `PATCH …/invoices/{id}` (drafts only), `POST …/invoices/{id}/issue`,
//! `…/pay`, `…/void`. Owners and admins may do all; sales generates, edits
//! and issues; paying and voiding is for owners and admins.

use axum::extract::{Path, State};
use axum::Json as JsonResponse;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use calos_core::invoice::access::InvoiceAction;
use calos_core::invoice::InvoiceMonth;
use calos_core::InvalidValue;

use super::invoices::parse_id;
use super::mutate;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::invoices::generate::{generate as run_generate, Report};
use crate::invoices::lifecycle::{self, DraftEdit};
use crate::invoices::require;
use crate::invoices::view::InvoiceView;

#[derive(utoipa::ToSchema)]
#[schema(as = InvoiceGeneration)]
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateBody {
    month: String,
    install_id: Option<String>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = InvoiceGenerationResult)]
#[derive(Serialize)]
pub struct GenerateResponse {
    success: bool,
    #[serde(flatten)]
    report: Report,
}

#[utoipa::path(
    post,
    path = "/api/enterprise/invoices/generate",
    operation_id = "generateInvoices",
    tag = "invoices",
    summary = "Draft the invoices of a month",
    request_body = GenerateBody,
    responses((status = 200, description = "What was drafted and skipped", body = GenerateResponse))
)]
pub async fn generate(
    user: AdminUser,
    State(state): State<AppState>,
    Json(body): Json<GenerateBody>,
) -> ApiResult<JsonResponse<GenerateResponse>> {
    require(&user, InvoiceAction::Prepare)?;
    let now = Utc::now();
    let month = InvoiceMonth::parse_not_future(&body.month, now)?;
    let only = body
        .install_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(mutate::parse_install_id)
        .transpose()?;
    let audit = user.audit("invoice.generate", "invoice", "", None, None);
    let report = run_generate(state.store.as_ref(), month, only.as_ref(), &audit, now).await?;
    Ok(JsonResponse(GenerateResponse {
        success: true,
        report,
    }))
}

#[derive(utoipa::ToSchema)]
#[schema(as = InvoiceChange)]
#[derive(Serialize)]
pub struct InvoiceResponse {
    success: bool,
    #[schema(value_type = crate::invoices::view::InvoiceView)]
    invoice: serde_json::Value,
    #[serde(rename = "creditNote", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::invoices::view::InvoiceView>)]
    credit_note: Option<serde_json::Value>,
}

fn respond(
    invoice: &calos_core::invoice::Invoice,
    credit: Option<&calos_core::invoice::Invoice>,
) -> ApiResult<JsonResponse<InvoiceResponse>> {
    let today = Utc::now().date_naive();
    let to_value = |i| {
        serde_json::to_value(InvoiceView::detail(i, today))
            .map_err(crate::error::ApiError::internal)
    };
    Ok(JsonResponse(InvoiceResponse {
        success: true,
        invoice: to_value(invoice)?,
        credit_note: credit.map(to_value).transpose()?,
    }))
}

#[derive(utoipa::ToSchema)]
#[schema(as = InvoiceEdit)]
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditBody {
    discount_minor: Option<i64>,
    discount_reason: Option<String>,
    notes: Option<String>,
}

#[utoipa::path(
    patch,
    path = "/api/enterprise/invoices/{id}",
    operation_id = "editInvoice",
    tag = "invoices",
    summary = "Edit a draft's discount and notes",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    request_body = EditBody,
    responses((status = 200, description = "The edited invoice", body = InvoiceResponse))
)]
pub async fn edit(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Json(body): Json<EditBody>,
) -> ApiResult<JsonResponse<InvoiceResponse>> {
    require(&user, InvoiceAction::Prepare)?;
    let id = parse_id(&raw)?;
    let audit = user.audit("invoice.update", "invoice", "", None, None);
    let edit = DraftEdit {
        discount_minor: body.discount_minor,
        discount_reason: body.discount_reason,
        notes: body.notes,
    };
    let invoice = lifecycle::edit(state.store.as_ref(), id, edit, &audit, Utc::now()).await?;
    respond(&invoice, None)
}

#[utoipa::path(
    post,
    path = "/api/enterprise/invoices/{id}/issue",
    operation_id = "issueInvoice",
    tag = "invoices",
    summary = "Issue a draft (numbered, sent)",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    responses((status = 200, description = "The issued invoice", body = InvoiceResponse))
)]
pub async fn issue(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<JsonResponse<InvoiceResponse>> {
    require(&user, InvoiceAction::Prepare)?;
    let id = parse_id(&raw)?;
    let audit = user.audit("invoice.issue", "invoice", "", None, None);
    let invoice = lifecycle::issue(state.store.as_ref(), id, &audit, Utc::now()).await?;
    respond(&invoice, None)
}

#[derive(utoipa::ToSchema)]
#[schema(as = InvoicePayment)]
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PayBody {
    /// `YYYY-MM-DD`; today when left out.
    paid_on: Option<String>,
    reference: String,
}

#[utoipa::path(
    post,
    path = "/api/enterprise/invoices/{id}/pay",
    operation_id = "payInvoice",
    tag = "invoices",
    summary = "Record a payment",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    request_body = PayBody,
    responses((status = 200, description = "The paid invoice", body = InvoiceResponse))
)]
pub async fn pay(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Json(body): Json<PayBody>,
) -> ApiResult<JsonResponse<InvoiceResponse>> {
    require(&user, InvoiceAction::Settle)?;
    let id = parse_id(&raw)?;
    let now = Utc::now();
    let paid_on = match body
        .paid_on
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| InvalidValue::new("paidOn", "must be a date YYYY-MM-DD"))?,
        None => now.date_naive(),
    };
    let audit = user.audit("invoice.pay", "invoice", "", None, None);
    let invoice = lifecycle::pay(
        state.store.as_ref(),
        id,
        paid_on,
        &body.reference,
        &audit,
        now,
    )
    .await?;
    respond(&invoice, None)
}

#[derive(utoipa::ToSchema)]
#[schema(as = InvoiceVoid)]
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VoidBody {
    reason: String,
}

#[utoipa::path(
    post,
    path = "/api/enterprise/invoices/{id}/void",
    operation_id = "voidInvoice",
    tag = "invoices",
    summary = "Void an issued invoice",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    request_body = VoidBody,
    responses((status = 200, description = "The voided invoice", body = InvoiceResponse))
)]
pub async fn void(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Json(body): Json<VoidBody>,
) -> ApiResult<JsonResponse<InvoiceResponse>> {
    require(&user, InvoiceAction::Settle)?;
    let id = parse_id(&raw)?;
    let audit = user.audit("invoice.void", "invoice", "", None, None);
    let (invoice, credit) =
        lifecycle::void(state.store.as_ref(), id, &body.reason, &audit, Utc::now()).await?;
    respond(&invoice, credit.as_ref())
}
