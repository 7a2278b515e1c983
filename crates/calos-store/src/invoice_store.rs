//! Storage for invoices (issue 9): the vendor's billing profile, invoices
//! and credit notes with their lifecycle, gap-free numbering, and the
//! billable usage an invoice bills.
//!
//! Each method is one transaction that writes its audit record last. Audit
//! entries are passed as templates: the store sets `target_id` to the
//! invoice id and `before`/`after` to the invoice as it was and is (the
//! number only exists once the issuing transaction assigned it).
//!
//! Numbers: issuing takes the next value of a counter row (one row per
//! series and, for formats showing the year, per year) in the issuing
//! transaction — an upsert that locks the row on PostgreSQL and runs under
//! SQLite's write lock — so two concurrent issues get consecutive numbers
//! and a rolled-back issue gives its number back: no gaps, no duplicates.
//! Issued invoices are immutable: the methods refuse with `Conflict`
//! (field `status`), and the database refuses changes to an issued
//! invoice's number, document or total (triggers).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use calos_core::audit::AuditEntry;
use calos_core::ids::InstallId;
use calos_core::invoice::{
    BillableUsage, BillingProfile, Invoice, InvoiceDocument, InvoiceKind, InvoiceMonth, NewInvoice,
    NumberFormat, VendorSnapshot,
};

use crate::StoreResult;

/// Which invoices to list (every filter optional), by id.
#[derive(Debug, Clone, Default)]
pub struct InvoiceQuery {
    pub month: Option<InvoiceMonth>,
    pub install_id: Option<InstallId>,
    pub kind: Option<InvoiceKind>,
}

/// What issuing sets.
#[derive(Debug, Clone)]
pub struct IssueTerms {
    pub issued_at: DateTime<Utc>,
    pub due_date: NaiveDate,
    pub number_format: NumberFormat,
    pub vendor: VendorSnapshot,
}

/// The credit note made when an issued invoice is voided.
#[derive(Debug, Clone)]
pub struct CreditNoteTerms {
    pub number_format: NumberFormat,
    pub document: InvoiceDocument,
}

/// Part of [`Store`](crate::Store).
#[async_trait]
pub trait InvoiceStore: Send + Sync {
    async fn billing_profile(&self) -> StoreResult<Option<BillingProfile>>;
    /// Creates or replaces the billing profile.
    async fn put_billing_profile(
        &self,
        profile: &BillingProfile,
        audit: &AuditEntry,
    ) -> StoreResult<()>;

    /// Billable usage per type of one install with `from <= at < to`, as
    /// metered at ingest: billable units and the money amount of those
    /// units (a record only partly billable counts its amount pro rata,
    /// rounded half up). Types without billable units are left out.
    async fn billable_usage(
        &self,
        install_id: &InstallId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<BillableUsage>>;

    /// Stores a new draft. `Conflict` (field `month`) when the install
    /// already has an invoice for the month that is not void (so two
    /// concurrent generations make one draft); `NotFound` for an unknown
    /// install.
    async fn create_invoice(
        &self,
        new: &NewInvoice,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<Invoice>;

    async fn get_invoice(&self, id: i64) -> StoreResult<Option<Invoice>>;

    async fn list_invoices(&self, query: &InvoiceQuery) -> StoreResult<Vec<Invoice>>;

    /// Replaces a draft's document. `Conflict` (field `status`) unless draft.
    async fn update_draft(
        &self,
        id: i64,
        document: &InvoiceDocument,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<Invoice>;

    /// Issues a draft: next number, issue time, due date, vendor snapshot.
    /// `Conflict` (field `status`) unless draft.
    async fn issue_invoice(
        &self,
        id: i64,
        terms: &IssueTerms,
        audit: &AuditEntry,
    ) -> StoreResult<Invoice>;

    /// Records the payment of an issued invoice. `Conflict` (field
    /// `status`) unless issued.
    async fn pay_invoice(
        &self,
        id: i64,
        paid_on: NaiveDate,
        reference: &str,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<Invoice>;

    /// Voids a draft, or an issued invoice together with its credit note
    /// (`credit` is required for issued invoices, issued at `now` with the
    /// next credit-note number). `Conflict` (field `status`) when paid or
    /// void already. Returns the voided invoice and the credit note.
    async fn void_invoice(
        &self,
        id: i64,
        reason: &str,
        now: DateTime<Utc>,
        credit: Option<&CreditNoteTerms>,
        audit: &AuditEntry,
    ) -> StoreResult<(Invoice, Option<Invoice>)>;
}
