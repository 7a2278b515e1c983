//! The customer's issued invoices in the portal (drafts are the vendor's
//! work in progress and never shown), and their PDFs through the invoicing
//! module's own renderer: `/portal/{installId}/invoices/{id}/pdf`.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;

use calos_core::ids::InstallId;
use calos_core::invoice::usage::format_minor;
use calos_core::invoice::InvoiceStatus;
use calos_store::InvoiceQuery;

use super::render::{error, message, with_headers};
use super::scope::resolve;
use super::session::viewer;
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::invoices::download::pdf_response;

pub struct InvoiceRow {
    pub id: i64,
    pub number: String,
    pub month: String,
    pub status: &'static str,
    pub total: String,
    pub due: String,
}

/// The install's invoices a customer may see: every one but drafts, newest first.
pub async fn rows(state: &AppState, install_id: &InstallId) -> ApiResult<Vec<InvoiceRow>> {
    let query = InvoiceQuery {
        install_id: Some(install_id.clone()),
        ..InvoiceQuery::default()
    };
    let today = Utc::now().date_naive();
    let mut invoices = state.store.list_invoices(&query).await?;
    invoices.retain(|i| i.status != InvoiceStatus::Draft && i.install_id == *install_id);
    invoices.reverse();
    Ok(invoices
        .iter()
        .map(|i| InvoiceRow {
            id: i.id,
            number: i.number.clone().unwrap_or_default(),
            month: i.month.to_string(),
            status: i.shown_status(today).as_str(),
            total: format!("{} {}", format_minor(i.total_minor()), i.currency.as_str()),
            due: i.due_date.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect())
}

pub async fn pdf(
    State(state): State<AppState>,
    Path((raw_id, invoice_id)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let scope = match resolve(&state, &raw_id, &headers, &uri).await {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    match viewer(&state, &headers, scope.install_id()).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return message(
                StatusCode::UNAUTHORIZED,
                "Sign in first",
                "Sign in to the portal to download your invoices.",
            )
        }
        Err(e) => return error(e.into()),
    }
    let not_found = || ApiError::NotFound("invoice".to_owned());
    let Ok(id) = invoice_id.parse::<i64>() else {
        return error(not_found());
    };
    let invoice = match state.store.get_invoice(id).await {
        // Another customer's invoice, or a draft, is not there for this one.
        Ok(Some(i)) if i.install_id == *scope.install_id() && i.status != InvoiceStatus::Draft => i,
        Ok(_) => return error(not_found()),
        Err(e) => return error(e.into()),
    };
    match pdf_response(state.store.as_ref(), &invoice).await {
        Ok(res) => with_headers(res),
        Err(e) => error(e),
    }
}
