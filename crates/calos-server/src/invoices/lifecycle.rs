//! The lifecycle actions after generation: edit a draft, issue, record a
//! payment, void (with a credit note for an issued invoice). The store
//! refuses what the invoice's status does not allow (409).

use chrono::{DateTime, Duration, NaiveDate, Utc};

use calos_core::audit::AuditEntry;
use calos_core::invoice::document::{parse_notes, parse_short_text};
use calos_core::invoice::{Invoice, InvoiceStatus};
use calos_store::{CreditNoteTerms, IssueTerms, Store};

use crate::error::{ApiError, ApiResult};

pub async fn load(store: &dyn Store, id: i64) -> ApiResult<Invoice> {
    store
        .get_invoice(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("invoice {id}")))
}

/// What may change on a draft; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct DraftEdit {
    pub discount_minor: Option<i64>,
    pub discount_reason: Option<String>,
    pub notes: Option<String>,
}

fn refuse_unless_draft(inv: &Invoice) -> ApiResult<()> {
    if inv.status == InvoiceStatus::Draft {
        Ok(())
    } else {
        Err(ApiError::Conflict {
            message: format!(
                "status: invoice {} is {} and can no longer be edited",
                inv.number.as_deref().unwrap_or("(draft)"),
                inv.status.as_str()
            ),
        })
    }
}

pub async fn edit(
    store: &dyn Store,
    id: i64,
    edit: DraftEdit,
    audit: &AuditEntry,
    now: DateTime<Utc>,
) -> ApiResult<Invoice> {
    let current = load(store, id).await?;
    refuse_unless_draft(&current)?;
    let reason = match edit.discount_reason {
        Some(r) if r.trim().is_empty() => None,
        Some(r) => Some(parse_short_text("discountReason", &r)?),
        None => current.document.discount_reason.clone(),
    };
    let mut document = current.document.with_discount(
        edit.discount_minor
            .unwrap_or(current.document.discount_minor),
        reason,
    )?;
    if let Some(notes) = edit.notes {
        document.notes = parse_notes(&notes)?;
    }
    Ok(store.update_draft(id, &document, now, audit).await?)
}

pub async fn issue(
    store: &dyn Store,
    id: i64,
    audit: &AuditEntry,
    now: DateTime<Utc>,
) -> ApiResult<Invoice> {
    let current = load(store, id).await?;
    refuse_unless_draft(&current)?;
    let profile = super::profile(store).await?;
    let terms = IssueTerms {
        issued_at: now,
        due_date: (now + Duration::days(i64::from(current.document.payment_terms_days)))
            .date_naive(),
        number_format: profile.invoice_number_format.clone(),
        vendor: profile.snapshot(),
    };
    Ok(store.issue_invoice(id, &terms, audit).await?)
}

pub async fn pay(
    store: &dyn Store,
    id: i64,
    paid_on: NaiveDate,
    reference: &str,
    audit: &AuditEntry,
    now: DateTime<Utc>,
) -> ApiResult<Invoice> {
    let reference = parse_short_text("reference", reference)?;
    if paid_on > now.date_naive() {
        return Err(calos_core::InvalidValue::new("paidOn", "must not be in the future").into());
    }
    Ok(store
        .pay_invoice(id, paid_on, &reference, now, audit)
        .await?)
}

/// Voids an invoice; an issued one gets a credit note cancelling it.
pub async fn void(
    store: &dyn Store,
    id: i64,
    reason: &str,
    audit: &AuditEntry,
    now: DateTime<Utc>,
) -> ApiResult<(Invoice, Option<Invoice>)> {
    let reason = parse_short_text("reason", reason)?;
    let current = load(store, id).await?;
    let credit = if current.status == InvoiceStatus::Issued {
        let profile = super::profile(store).await?;
        let mut document = current.document.negated();
        document.vendor = Some(profile.snapshot());
        document.notes = Some(format!(
            "Cancels invoice {}: {reason}",
            current.number.as_deref().unwrap_or_default()
        ));
        Some(CreditNoteTerms {
            number_format: profile.credit_note_number_format.clone(),
            document,
        })
    } else {
        None
    };
    Ok(store
        .void_invoice(id, &reason, now, credit.as_ref(), audit)
        .await?)
}
