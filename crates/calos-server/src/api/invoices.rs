//! Reading invoices: `GET /api/enterprise/invoices?month=&status=&installId=`,
//! `GET …/invoices/{id}`, `GET …/invoices/{id}/pdf` and the accountant's
//! `GET …/invoices.csv?month=&status=` — every role may read.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json as JsonResponse;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use calos_core::invoice::access::InvoiceAction;
use calos_core::invoice::{Invoice, InvoiceMonth, ShownStatus};
use calos_store::InvoiceQuery;

use super::mutate;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::invoices::view::InvoiceView;
use crate::invoices::{csv_export, download, lifecycle, require};

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListParams {
    month: Option<String>,
    status: Option<String>,
    install_id: Option<String>,
}

/// The invoices `params` select (shown status filtered after reading, since
/// `overdue` is computed).
pub async fn select(state: &AppState, params: &ListParams) -> ApiResult<Vec<Invoice>> {
    let present = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let month = present(&params.month)
        .map(|m| InvoiceMonth::parse(&m))
        .transpose()
        .map_err(|e| ApiError::InvalidQuery(e.to_string()))?;
    let status = present(&params.status)
        .map(|s| ShownStatus::parse(&s))
        .transpose()
        .map_err(|e| ApiError::InvalidQuery(e.to_string()))?;
    let install_id = present(&params.install_id)
        .map(|raw| mutate::parse_install_id(&raw))
        .transpose()?;
    let today = Utc::now().date_naive();
    let invoices = state
        .store
        .list_invoices(&InvoiceQuery {
            month,
            install_id,
            kind: None,
        })
        .await?;
    Ok(invoices
        .into_iter()
        .filter(|i| status.is_none_or(|s| i.shown_status(today) == s))
        .collect())
}

#[derive(utoipa::ToSchema)]
#[schema(as = InvoiceList)]
#[derive(Serialize)]
pub struct ListResponse<'a> {
    success: bool,
    invoices: Vec<InvoiceView<'a>>,
}

#[utoipa::path(
    get,
    path = "/api/enterprise/invoices",
    operation_id = "listInvoices",
    tag = "invoices",
    summary = "Invoices by month, status or customer",
    params(ListParams),
    responses((status = 200, description = "The invoices", body = ListResponse))
)]
pub async fn list(
    user: AdminUser,
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> ApiResult<Response> {
    require(&user, InvoiceAction::Read)?;
    let invoices = select(&state, &params).await?;
    let today = Utc::now().date_naive();
    Ok(JsonResponse(ListResponse {
        success: true,
        invoices: invoices
            .iter()
            .map(|i| InvoiceView::summary(i, today))
            .collect(),
    })
    .into_response())
}

/// An invoice id from the path: anything but a positive integer names no invoice.
pub fn parse_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::NotFound(format!("invoice {raw:?}")))
}

#[derive(utoipa::ToSchema)]
#[schema(as = InvoiceResult)]
#[derive(Serialize)]
pub struct ShowResponse<'a> {
    success: bool,
    invoice: InvoiceView<'a>,
}

#[utoipa::path(
    get,
    path = "/api/enterprise/invoices/{id}",
    operation_id = "showInvoice",
    tag = "invoices",
    summary = "One invoice with its lines",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    responses((status = 200, description = "The invoice", body = ShowResponse))
)]
pub async fn show(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    require(&user, InvoiceAction::Read)?;
    let invoice = lifecycle::load(state.store.as_ref(), parse_id(&raw)?).await?;
    Ok(JsonResponse(ShowResponse {
        success: true,
        invoice: InvoiceView::detail(&invoice, Utc::now().date_naive()),
    })
    .into_response())
}

#[utoipa::path(
    get,
    path = "/api/enterprise/invoices/{id}/pdf",
    operation_id = "invoicePdf",
    tag = "invoices",
    summary = "The invoice as PDF",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    responses((status = 200, description = "The PDF", body = Vec<u8>, content_type = "application/pdf"))
)]
pub async fn pdf(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    require(&user, InvoiceAction::Read)?;
    let invoice = lifecycle::load(state.store.as_ref(), parse_id(&raw)?).await?;
    download::pdf_response(state.store.as_ref(), &invoice).await
}

#[utoipa::path(
    get,
    path = "/api/enterprise/invoices.csv",
    operation_id = "invoicesCsv",
    tag = "invoices",
    summary = "The same list as CSV",
    params(ListParams),
    responses((status = 200, description = "CSV, one invoice a line", body = String, content_type = "text/csv"))
)]
pub async fn csv(
    user: AdminUser,
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> ApiResult<Response> {
    require(&user, InvoiceAction::Read)?;
    let invoices = select(&state, &params).await?;
    let body = csv_export::csv(&invoices, Utc::now().date_naive()).map_err(ApiError::internal)?;
    let name = match params
        .month
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        Some(m) => format!(
            "invoices-{}.csv",
            m.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
        ),
        None => "invoices.csv".to_owned(),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}
