//! Invoices as stored: the document (who is billed, lines, totals) and the
//! lifecycle around it.
//!
//! ```text
//!   draft ──issue──▶ issued ──pay──▶ paid
//!     │                │ (due date passed: shown as overdue, still payable)
//!     └──void──▶ void ◀┘ (voiding an issued invoice issues a credit note)
//! ```
//!
//! A draft may be edited (discount, notes) and voided; issuing assigns the
//! next number and freezes the document; nothing but the payment or void
//! fields changes afterwards. `overdue` is not stored: an issued invoice is
//! overdue on any day after its due date.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::customer::CustomerId;
use crate::ids::InstallId;
use crate::money::Currency;
use crate::InvalidValue;

use super::month::InvoiceMonth;
use super::totals::{compute_totals, Line, LineKind, TaxRate, Totals};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceKind {
    Invoice,
    CreditNote,
}

impl InvoiceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceKind::Invoice => "invoice",
            InvoiceKind::CreditNote => "credit_note",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        match raw {
            "invoice" => Ok(InvoiceKind::Invoice),
            "credit_note" => Ok(InvoiceKind::CreditNote),
            other => Err(InvalidValue::new("kind", format!("unknown kind {other:?}"))),
        }
    }

    /// The counter series its numbers come from.
    pub fn series(self) -> &'static str {
        self.as_str()
    }
}

/// The status as stored.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Draft,
    Issued,
    Paid,
    Void,
}

impl InvoiceStatus {
    pub const ALL: [InvoiceStatus; 4] = [
        InvoiceStatus::Draft,
        InvoiceStatus::Issued,
        InvoiceStatus::Paid,
        InvoiceStatus::Void,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Issued => "issued",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| InvalidValue::new("status", format!("unknown status {raw:?}")))
    }
}

/// The status an admin sees: the stored one, with `overdue` for an issued
/// invoice past its due date.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShownStatus {
    Draft,
    Issued,
    Overdue,
    Paid,
    Void,
}

impl ShownStatus {
    pub const ALL: [ShownStatus; 5] = [
        ShownStatus::Draft,
        ShownStatus::Issued,
        ShownStatus::Overdue,
        ShownStatus::Paid,
        ShownStatus::Void,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ShownStatus::Draft => "draft",
            ShownStatus::Issued => "issued",
            ShownStatus::Overdue => "overdue",
            ShownStatus::Paid => "paid",
            ShownStatus::Void => "void",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                InvalidValue::new(
                    "status",
                    format!("unknown status {raw:?} (draft, issued, overdue, paid, void)"),
                )
            })
    }
}

/// Who the invoice is addressed to, copied from the customer when made.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillTo {
    pub name: String,
    pub company: Option<String>,
    pub email: String,
}

/// The vendor's details as they were when the invoice was issued, so a
/// later change of the billing profile does not change an issued invoice.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VendorSnapshot {
    pub legal_name: String,
    pub address: String,
    pub tax_id: Option<String>,
    pub email: Option<String>,
    /// Payment instructions, one line per entry (`IBAN: …`).
    pub payment_lines: Vec<String>,
    pub footer: Option<String>,
}

/// Everything printed on an invoice besides its number and dates.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceDocument {
    pub bill_to: BillTo,
    pub lines: Vec<Line>,
    pub discount_minor: i64,
    pub discount_reason: Option<String>,
    pub tax_rates: Vec<TaxRate>,
    pub totals: Totals,
    pub notes: Option<String>,
    pub payment_terms_days: u32,
    /// Set when issued.
    pub vendor: Option<VendorSnapshot>,
}

impl InvoiceDocument {
    pub fn new(
        bill_to: BillTo,
        lines: Vec<Line>,
        tax_rates: Vec<TaxRate>,
        payment_terms_days: u32,
    ) -> Result<Self, InvalidValue> {
        let totals = compute_totals(&lines, 0, &tax_rates)?;
        Ok(Self {
            bill_to,
            lines,
            discount_minor: 0,
            discount_reason: None,
            tax_rates,
            totals,
            notes: None,
            payment_terms_days,
            vendor: None,
        })
    }

    /// The same document with another discount, totals recomputed.
    pub fn with_discount(
        &self,
        discount_minor: i64,
        reason: Option<String>,
    ) -> Result<Self, InvalidValue> {
        let totals = compute_totals(&self.lines, discount_minor, &self.tax_rates)?;
        Ok(Self {
            totals,
            discount_minor,
            discount_reason: reason,
            ..self.clone()
        })
    }

    /// The credit note cancelling this document: every line and total negated.
    pub fn negated(&self) -> Self {
        let lines = self
            .lines
            .iter()
            .map(|l| Line {
                kind: LineKind::Credit,
                amount_minor: -l.amount_minor,
                ..l.clone()
            })
            .collect();
        let t = &self.totals;
        Self {
            lines,
            discount_minor: -self.discount_minor,
            totals: Totals {
                subtotal_minor: -t.subtotal_minor,
                discount_minor: -t.discount_minor,
                taxable_minor: -t.taxable_minor,
                taxes: t
                    .taxes
                    .iter()
                    .map(|x| super::totals::TaxLine {
                        amount_minor: -x.amount_minor,
                        ..x.clone()
                    })
                    .collect(),
                tax_minor: -t.tax_minor,
                total_minor: -t.total_minor,
            },
            ..self.clone()
        }
    }
}

/// A new invoice (or credit note) to store as a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice {
    pub kind: InvoiceKind,
    pub install_id: InstallId,
    pub customer_id: CustomerId,
    pub month: InvoiceMonth,
    pub currency: Currency,
    pub document: InvoiceDocument,
    /// For a credit note: the invoice it cancels.
    pub credits_invoice_id: Option<i64>,
}

/// A stored invoice or credit note.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    pub id: i64,
    pub kind: InvoiceKind,
    /// Assigned when issued.
    pub number: Option<String>,
    pub install_id: InstallId,
    pub customer_id: CustomerId,
    pub month: InvoiceMonth,
    pub status: InvoiceStatus,
    pub currency: Currency,
    pub document: InvoiceDocument,
    pub issued_at: Option<DateTime<Utc>>,
    pub due_date: Option<NaiveDate>,
    pub paid_on: Option<NaiveDate>,
    pub payment_reference: Option<String>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    pub credits_invoice_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Invoice {
    pub fn total_minor(&self) -> i64 {
        self.document.totals.total_minor
    }

    /// The status shown on `today`: issued past its due date is overdue.
    pub fn shown_status(&self, today: NaiveDate) -> ShownStatus {
        match self.status {
            InvoiceStatus::Draft => ShownStatus::Draft,
            InvoiceStatus::Issued if self.due_date.is_some_and(|d| d < today) => {
                ShownStatus::Overdue
            }
            InvoiceStatus::Issued => ShownStatus::Issued,
            InvoiceStatus::Paid => ShownStatus::Paid,
            InvoiceStatus::Void => ShownStatus::Void,
        }
    }
}

/// A payment reference or void reason: trimmed, 1-200 characters, no control characters.
pub fn parse_short_text(field: &'static str, raw: &str) -> Result<String, InvalidValue> {
    let text = raw.trim();
    if !crate::text::short_printable(text, 200) {
        return Err(InvalidValue::new(
            field,
            "must be 1-200 characters without control characters",
        ));
    }
    Ok(text.to_owned())
}

/// Free notes printed on an invoice: at most 1000 characters (newlines allowed).
pub fn parse_notes(raw: &str) -> Result<Option<String>, InvalidValue> {
    let text = raw.trim();
    if text.chars().count() > 1000
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(InvalidValue::new(
            "notes",
            "must be at most 1000 characters without control characters",
        ));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}
