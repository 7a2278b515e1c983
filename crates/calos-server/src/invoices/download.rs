//! The PDF of an invoice as an HTTP response, for any route that has
//! already decided the caller may see this invoice (the admin API today,
//! the customer portal later).

use axum::http::header;
use axum::response::{IntoResponse, Response};

use calos_core::invoice::Invoice;
use calos_store::Store;

use crate::error::{ApiError, ApiResult};
use crate::invoice_pdf;

/// Renders `invoice`: vendor details as snapshotted at issue (the current
/// profile for drafts), logo from the current profile.
pub async fn pdf_response(store: &dyn Store, invoice: &Invoice) -> ApiResult<Response> {
    let profile = super::profile(store).await?;
    let vendor = invoice
        .document
        .vendor
        .clone()
        .unwrap_or_else(|| profile.snapshot());
    let logo = profile.logo_png()?;
    let invoice = invoice.clone();
    // Layout and font subsetting take a few milliseconds of CPU: off the async threads.
    let bytes = tokio::task::spawn_blocking(move || {
        invoice_pdf::render(&invoice, &vendor, logo.as_deref())
            .map(|b| (b, invoice_pdf::file_name(&invoice)))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let (body, name) = bytes;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}
