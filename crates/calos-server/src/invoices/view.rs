//! The JSON shape of an invoice in the admin API (and the portal later):
//! the stored invoice with `status` as shown (issued past its due date is
//! `overdue`) and the totals at the top level.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use calos_core::invoice::{Invoice, InvoiceDocument};

#[derive(utoipa::ToSchema, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceView<'a> {
    pub id: i64,
    pub number: Option<&'a str>,
    pub kind: &'static str,
    pub install_id: &'a str,
    pub customer_id: i64,
    pub customer_name: &'a str,
    pub company: Option<&'a str>,
    pub month: String,
    /// `draft`, `issued`, `overdue`, `paid` or `void`.
    pub status: &'static str,
    pub currency: &'a str,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub issued_at: Option<DateTime<Utc>>,
    pub due_date: Option<NaiveDate>,
    pub paid_on: Option<NaiveDate>,
    pub payment_reference: Option<&'a str>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<&'a str>,
    pub credits_invoice_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub pdf_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<&'a InvoiceDocument>,
}

impl<'a> InvoiceView<'a> {
    /// The list form (without the document).
    pub fn summary(inv: &'a Invoice, today: NaiveDate) -> Self {
        let t = &inv.document.totals;
        InvoiceView {
            id: inv.id,
            number: inv.number.as_deref(),
            kind: inv.kind.as_str(),
            install_id: inv.install_id.as_str(),
            customer_id: inv.customer_id,
            customer_name: &inv.document.bill_to.name,
            company: inv.document.bill_to.company.as_deref(),
            month: inv.month.to_string(),
            status: inv.shown_status(today).as_str(),
            currency: inv.currency.as_str(),
            subtotal_minor: t.subtotal_minor,
            discount_minor: t.discount_minor,
            tax_minor: t.tax_minor,
            total_minor: t.total_minor,
            issued_at: inv.issued_at,
            due_date: inv.due_date,
            paid_on: inv.paid_on,
            payment_reference: inv.payment_reference.as_deref(),
            voided_at: inv.voided_at,
            void_reason: inv.void_reason.as_deref(),
            credits_invoice_id: inv.credits_invoice_id,
            created_at: inv.created_at,
            updated_at: inv.updated_at,
            pdf_url: format!("/api/enterprise/invoices/{}/pdf", inv.id),
            document: None,
        }
    }

    /// The detail form, with lines, taxes, bill-to and vendor.
    pub fn detail(inv: &'a Invoice, today: NaiveDate) -> Self {
        InvoiceView {
            document: Some(&inv.document),
            ..Self::summary(inv, today)
        }
    }
}
