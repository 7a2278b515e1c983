//! `/admin/invoices`: a month's invoices and credit notes with a status
//! filter, generating the month's drafts, issuing, recording payments,
//! voiding, PDF downloads and the CSV export (`invoices.js` calls the JSON
//! API; what a role may not do is not offered). `/admin/billing-profile`:
//! the vendor's details printed on invoices (`billing_profile.js` saves).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;

use calos_core::invoice::access::{allows, InvoiceAction};
use calos_core::invoice::{BillingProfile, InvoiceKind, InvoiceMonth, ShownStatus};
use calos_store::InvoiceQuery;

use super::format::money;
use super::render::{describe_store_error, html};
use super::session::PageAdmin;
use crate::app::AppState;
use crate::extract::Query;

struct Row {
    id: i64,
    number: String,
    credit_note: bool,
    status: &'static str,
    install_id: String,
    customer: String,
    total: String,
    due: String,
    pdf_url: String,
}

#[derive(Template)]
#[template(path = "invoices.html")]
struct InvoicesPage {
    username: String,
    csrf: String,
    month: String,
    status: String,
    statuses: [&'static str; 5],
    rows: Vec<Row>,
    /// Per currency: total of the month's invoices that are not void.
    billed: Vec<String>,
    csv_url: String,
    can_prepare: bool,
    can_settle: bool,
    profile_missing: bool,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    month: Option<String>,
    status: Option<String>,
}

pub async fn page(
    user: PageAdmin,
    State(state): State<AppState>,
    Query(filter): Query<Filter>,
) -> Response {
    let now = Utc::now();
    let month = filter
        .month
        .as_deref()
        .and_then(|m| InvoiceMonth::parse(m).ok())
        .unwrap_or_else(|| InvoiceMonth::of(now).previous());
    let status = filter
        .status
        .as_deref()
        .and_then(|s| ShownStatus::parse(s).ok());
    let today = now.date_naive();
    let query = InvoiceQuery {
        month: Some(month),
        ..InvoiceQuery::default()
    };
    let loaded = tokio::try_join!(
        state.store.list_invoices(&query),
        state.store.billing_profile(),
    );
    let (rows, billed, profile_missing, error) = match loaded {
        Ok((invoices, profile)) => {
            let mut billed: Vec<(String, i64)> = Vec::new();
            for inv in invoices.iter().filter(|i| {
                i.kind == InvoiceKind::Invoice && i.shown_status(today) != ShownStatus::Void
            }) {
                match billed.iter_mut().find(|(c, _)| c == inv.currency.as_str()) {
                    Some((_, sum)) => *sum += inv.total_minor(),
                    None => billed.push((inv.currency.as_str().to_owned(), inv.total_minor())),
                }
            }
            let rows = invoices
                .iter()
                .filter(|i| status.is_none_or(|s| i.shown_status(today) == s))
                .map(|inv| Row {
                    id: inv.id,
                    number: inv.number.clone().unwrap_or_default(),
                    credit_note: inv.kind == InvoiceKind::CreditNote,
                    status: inv.shown_status(today).as_str(),
                    install_id: inv.install_id.to_string(),
                    customer: inv
                        .document
                        .bill_to
                        .company
                        .clone()
                        .unwrap_or_else(|| inv.document.bill_to.name.clone()),
                    total: money(inv.total_minor(), inv.currency.as_str()),
                    due: inv.due_date.map(|d| d.to_string()).unwrap_or_default(),
                    pdf_url: format!("/api/enterprise/invoices/{}/pdf", inv.id),
                })
                .collect();
            let billed = billed.into_iter().map(|(c, sum)| money(sum, &c)).collect();
            (rows, billed, profile.is_none(), None)
        }
        Err(e) => {
            tracing::error!(error = %e, "invoices page: loading failed");
            (
                Vec::new(),
                Vec::new(),
                false,
                Some(format!(
                    "Failed to load invoices: {}",
                    describe_store_error(&e)
                )),
            )
        }
    };
    let status = status.map_or("", |s| s.as_str()).to_owned();
    let role = user.admin.role;
    html(
        StatusCode::OK,
        &InvoicesPage {
            username: user.admin.username.clone(),
            csrf: user.csrf.clone(),
            csv_url: format!("/api/enterprise/invoices.csv?month={month}&status={status}"),
            month: month.to_string(),
            status,
            statuses: ShownStatus::ALL.map(ShownStatus::as_str),
            rows,
            billed,
            can_prepare: allows(role, InvoiceAction::Prepare),
            can_settle: allows(role, InvoiceAction::Settle),
            profile_missing,
            error,
        },
    )
}

#[derive(Template)]
#[template(path = "billing_profile.html")]
struct BillingPage {
    username: String,
    csrf: String,
    p: BillingProfile,
    /// `Name basis-points` per line, as the form edits them.
    tax_rates: String,
    has_logo: bool,
    exists: bool,
    can_edit: bool,
    error: Option<String>,
}

fn blank_profile() -> BillingProfile {
    BillingProfile {
        legal_name: String::new(),
        address: String::new(),
        tax_id: None,
        email: None,
        bank: Default::default(),
        invoice_number_format: calos_core::invoice::NumberFormat::default_invoice(),
        credit_note_number_format: calos_core::invoice::NumberFormat::default_credit_note(),
        payment_terms_days: 30,
        currency: calos_core::money::Currency::usd(),
        tax_rates: Vec::new(),
        extra_seat_price_minor: 0,
        logo_png_base64: None,
        footer: None,
    }
}

pub async fn billing_page(user: PageAdmin, State(state): State<AppState>) -> Response {
    let (profile, error) = match state.store.billing_profile().await {
        Ok(p) => (p, None),
        Err(e) => (
            None,
            Some(format!(
                "Failed to load the billing profile: {}",
                describe_store_error(&e)
            )),
        ),
    };
    let exists = profile.is_some();
    let p = profile.unwrap_or_else(blank_profile);
    html(
        StatusCode::OK,
        &BillingPage {
            username: user.admin.username.clone(),
            csrf: user.csrf.clone(),
            tax_rates: p
                .tax_rates
                .iter()
                .map(|r| format!("{} {}", r.name, r.basis_points))
                .collect::<Vec<_>>()
                .join("\n"),
            has_logo: p.logo_png_base64.is_some(),
            p,
            exists,
            can_edit: allows(user.admin.role, InvoiceAction::EditBillingProfile),
            error,
        },
    )
}
