//! [`InvoiceStore`] for SQLite: every write runs under `BEGIN IMMEDIATE`
//! (SQLite's single write lock), which is what serialises number
//! assignment; the audit record is appended last in the same transaction.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::ids::InstallId;
use calos_core::invoice::{
    BillableUsage, BillingProfile, Invoice, InvoiceDocument, InvoiceKind, InvoiceMonth,
    InvoiceStatus, NewInvoice, NumberFormat,
};
use calos_core::money::Currency;
use calos_core::plan::UsageType;
use calos_store::{
    CreditNoteTerms, InvoiceQuery, InvoiceStore, IssueTerms, StoreError, StoreResult,
};

use crate::db::{
    commit, corrupt, db_err, from_json, get, insert_audit, micros, opt_time, time, to_json,
    write_tx,
};
use crate::SqliteStore;

type Tx = Transaction<'static, Sqlite>;

const COLUMNS: &str = "id, kind, number, install_id, customer_id, month, status, currency, \
    document_json, issued_at, due_date, paid_on, payment_reference, voided_at, void_reason, \
    credits_invoice_id, created_at, updated_at";

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn opt_day(row: &SqliteRow, column: &str) -> StoreResult<Option<NaiveDate>> {
    let raw: Option<String> = get(row, column)?;
    raw.map(|r| NaiveDate::parse_from_str(&r, "%Y-%m-%d").map_err(|e| corrupt(column, e)))
        .transpose()
}

fn invoice(row: &SqliteRow) -> StoreResult<Invoice> {
    Ok(Invoice {
        id: get(row, "id")?,
        kind: InvoiceKind::parse(&get::<String>(row, "kind")?).map_err(|e| corrupt("kind", e))?,
        number: get(row, "number")?,
        install_id: InstallId::parse(&get::<String>(row, "install_id")?)
            .map_err(|e| corrupt("install id", e))?,
        customer_id: get(row, "customer_id")?,
        month: InvoiceMonth::parse(&get::<String>(row, "month")?)
            .map_err(|e| corrupt("month", e))?,
        status: InvoiceStatus::parse(&get::<String>(row, "status")?)
            .map_err(|e| corrupt("status", e))?,
        currency: Currency::parse(&get::<String>(row, "currency")?)
            .map_err(|e| corrupt("currency", e))?,
        document: from_json(&get::<String>(row, "document_json")?, "invoice document")?,
        issued_at: opt_time(row, "issued_at")?,
        due_date: opt_day(row, "due_date")?,
        paid_on: opt_day(row, "paid_on")?,
        payment_reference: get(row, "payment_reference")?,
        voided_at: opt_time(row, "voided_at")?,
        void_reason: get(row, "void_reason")?,
        credits_invoice_id: get(row, "credits_invoice_id")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

async fn load(tx: &mut Tx, id: i64) -> StoreResult<Invoice> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM invoices WHERE id = ?"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("invoice"))?;
    invoice(&row)
}

fn refuse_unless(inv: &Invoice, allowed: &[InvoiceStatus], doing: &str) -> StoreResult<()> {
    if allowed.contains(&inv.status) {
        Ok(())
    } else {
        Err(StoreError::conflict(
            "status",
            format!("cannot {doing} an invoice that is {}", inv.status.as_str()),
        ))
    }
}

/// The next value of a number counter, in the caller's write transaction.
async fn next_number(
    tx: &mut Tx,
    format: &NumberFormat,
    kind: InvoiceKind,
    at: DateTime<Utc>,
) -> StoreResult<String> {
    let scope = format.counter_scope(kind.series(), at);
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO invoice_counters (scope, last_value) VALUES (?, 1) \
         ON CONFLICT (scope) DO UPDATE SET last_value = last_value + 1 RETURNING last_value",
    )
    .bind(&scope)
    .fetch_one(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(format.render(seq, at))
}

fn audited(audit: &AuditEntry, before: Option<&Invoice>, after: &Invoice) -> AuditEntry {
    AuditEntry {
        target_type: "invoice".to_owned(),
        target_id: after.id.to_string(),
        before: before.and_then(|b| serde_json::to_value(b).ok()),
        after: serde_json::to_value(after).ok(),
        ..audit.clone()
    }
}

/// The tail of every lifecycle step: reload the changed invoice, audit the
/// change from `before` and commit.
async fn finish(mut tx: Tx, before: &Invoice, audit: &AuditEntry) -> StoreResult<Invoice> {
    let after = load(&mut tx, before.id).await?;
    insert_audit(&mut tx, &audited(audit, Some(before), &after)).await?;
    commit(tx).await?;
    Ok(after)
}

async fn insert(tx: &mut Tx, new: &NewInvoice, now: DateTime<Utc>) -> StoreResult<i64> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM licenses WHERE install_id = ?")
        .bind(new.install_id.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?;
    if exists.is_none() {
        return Err(StoreError::NotFound("license"));
    }
    sqlx::query_scalar(
        "INSERT INTO invoices (kind, install_id, customer_id, month, status, currency, total_minor, \
         document_json, credits_invoice_id, created_at, updated_at) \
         VALUES (?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(new.kind.as_str())
    .bind(new.install_id.as_str())
    .bind(new.customer_id)
    .bind(new.month.to_string())
    .bind(new.currency.as_str())
    .bind(new.document.totals.total_minor)
    .bind(to_json(&new.document, "invoice document")?)
    .bind(new.credits_invoice_id)
    .bind(micros(now))
    .bind(micros(now))
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| match db_err(e) {
        StoreError::Conflict { .. } => StoreError::conflict(
            "month",
            format!(
                "{} already has an invoice for {} that is not void",
                new.install_id, new.month
            ),
        ),
        other => other,
    })
}

async fn set_issued(
    tx: &mut Tx,
    id: i64,
    number: &str,
    issued_at: DateTime<Utc>,
    due_date: NaiveDate,
    document: &InvoiceDocument,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE invoices SET status = 'issued', number = ?, issued_at = ?, due_date = ?, \
         document_json = ?, updated_at = ? WHERE id = ? AND status = 'draft'",
    )
    .bind(number)
    .bind(micros(issued_at))
    .bind(day_text(due_date))
    .bind(to_json(document, "invoice document")?)
    .bind(micros(issued_at))
    .bind(id)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl InvoiceStore for SqliteStore {
    async fn billing_profile(&self) -> StoreResult<Option<BillingProfile>> {
        let raw: Option<String> =
            sqlx::query_scalar("SELECT profile_json FROM billing_profile WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        raw.map(|r| from_json(&r, "billing profile")).transpose()
    }

    async fn put_billing_profile(
        &self,
        profile: &BillingProfile,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = write_tx(&self.pool).await?;
        sqlx::query(
            "INSERT INTO billing_profile (id, profile_json, updated_at) VALUES (1, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET profile_json = excluded.profile_json, \
             updated_at = excluded.updated_at",
        )
        .bind(to_json(profile, "billing profile")?)
        .bind(micros(audit.at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(&mut tx, audit).await?;
        commit(tx).await
    }

    async fn billable_usage(
        &self,
        install_id: &InstallId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<BillableUsage>> {
        let rows = sqlx::query(
            "SELECT usage_type, sum(billable_quantity) AS billable, \
             sum(CASE WHEN billable_quantity >= quantity THEN coalesce(amount_minor, 0) \
                 ELSE (coalesce(amount_minor, 0) * billable_quantity * 2 + quantity) / (2 * quantity) END) AS amount \
             FROM usage_records WHERE install_id = ? AND at >= ? AND at < ? \
             AND billable_quantity > 0 AND quantity > 0 GROUP BY usage_type ORDER BY usage_type",
        )
        .bind(install_id.as_str())
        .bind(micros(from))
        .bind(micros(to))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(BillableUsage {
                    usage_type: UsageType::parse(&get::<String>(row, "usage_type")?)
                        .map_err(|e| corrupt("usage type", e))?,
                    billable_quantity: get(row, "billable")?,
                    billable_amount_minor: get(row, "amount")?,
                })
            })
            .collect()
    }

    async fn create_invoice(
        &self,
        new: &NewInvoice,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<Invoice> {
        let mut tx = write_tx(&self.pool).await?;
        let id = insert(&mut tx, new, now).await?;
        let stored = load(&mut tx, id).await?;
        insert_audit(&mut tx, &audited(audit, None, &stored)).await?;
        commit(tx).await?;
        Ok(stored)
    }

    async fn get_invoice(&self, id: i64) -> StoreResult<Option<Invoice>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM invoices WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(invoice).transpose()
    }

    async fn list_invoices(&self, query: &InvoiceQuery) -> StoreResult<Vec<Invoice>> {
        let mut qb =
            QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM invoices WHERE 1 = 1"));
        if let Some(month) = query.month {
            qb.push(" AND month = ").push_bind(month.to_string());
        }
        if let Some(install) = &query.install_id {
            qb.push(" AND install_id = ")
                .push_bind(install.as_str().to_owned());
        }
        if let Some(kind) = query.kind {
            qb.push(" AND kind = ").push_bind(kind.as_str());
        }
        qb.push(" ORDER BY id");
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(invoice).collect()
    }

    async fn update_draft(
        &self,
        id: i64,
        document: &InvoiceDocument,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<Invoice> {
        let mut tx = write_tx(&self.pool).await?;
        let before = load(&mut tx, id).await?;
        refuse_unless(&before, &[InvoiceStatus::Draft], "edit")?;
        sqlx::query(
            "UPDATE invoices SET document_json = ?, total_minor = ?, updated_at = ? \
             WHERE id = ? AND status = 'draft'",
        )
        .bind(to_json(document, "invoice document")?)
        .bind(document.totals.total_minor)
        .bind(micros(now))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        finish(tx, &before, audit).await
    }

    async fn issue_invoice(
        &self,
        id: i64,
        terms: &IssueTerms,
        audit: &AuditEntry,
    ) -> StoreResult<Invoice> {
        let mut tx = write_tx(&self.pool).await?;
        let before = load(&mut tx, id).await?;
        refuse_unless(&before, &[InvoiceStatus::Draft], "issue")?;
        let number =
            next_number(&mut tx, &terms.number_format, before.kind, terms.issued_at).await?;
        let mut document = before.document.clone();
        document.vendor = Some(terms.vendor.clone());
        set_issued(
            &mut tx,
            id,
            &number,
            terms.issued_at,
            terms.due_date,
            &document,
        )
        .await?;
        finish(tx, &before, audit).await
    }

    async fn pay_invoice(
        &self,
        id: i64,
        paid_on: NaiveDate,
        reference: &str,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<Invoice> {
        let mut tx = write_tx(&self.pool).await?;
        let before = load(&mut tx, id).await?;
        refuse_unless(&before, &[InvoiceStatus::Issued], "mark as paid")?;
        if before.kind == InvoiceKind::CreditNote {
            return Err(StoreError::conflict("kind", "a credit note is not paid"));
        }
        sqlx::query(
            "UPDATE invoices SET status = 'paid', paid_on = ?, payment_reference = ?, updated_at = ? \
             WHERE id = ?",
        )
        .bind(day_text(paid_on))
        .bind(reference)
        .bind(micros(now))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        finish(tx, &before, audit).await
    }

    async fn void_invoice(
        &self,
        id: i64,
        reason: &str,
        now: DateTime<Utc>,
        credit: Option<&CreditNoteTerms>,
        audit: &AuditEntry,
    ) -> StoreResult<(Invoice, Option<Invoice>)> {
        let mut tx = write_tx(&self.pool).await?;
        let before = load(&mut tx, id).await?;
        refuse_unless(
            &before,
            &[InvoiceStatus::Draft, InvoiceStatus::Issued],
            "void",
        )?;
        if before.kind == InvoiceKind::CreditNote {
            return Err(StoreError::conflict(
                "kind",
                "a credit note cannot be voided",
            ));
        }
        sqlx::query(
            "UPDATE invoices SET status = 'void', voided_at = ?, void_reason = ?, updated_at = ? \
             WHERE id = ?",
        )
        .bind(micros(now))
        .bind(reason)
        .bind(micros(now))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut credit_note = None;
        if before.status == InvoiceStatus::Issued {
            let terms = credit.ok_or_else(|| {
                StoreError::Backend("voiding an issued invoice needs its credit note".to_owned())
            })?;
            let new = NewInvoice {
                kind: InvoiceKind::CreditNote,
                install_id: before.install_id.clone(),
                customer_id: before.customer_id,
                month: before.month,
                currency: before.currency.clone(),
                document: terms.document.clone(),
                credits_invoice_id: Some(id),
            };
            let credit_id = insert(&mut tx, &new, now).await?;
            let number =
                next_number(&mut tx, &terms.number_format, InvoiceKind::CreditNote, now).await?;
            set_issued(
                &mut tx,
                credit_id,
                &number,
                now,
                now.date_naive(),
                &terms.document,
            )
            .await?;
            credit_note = Some(load(&mut tx, credit_id).await?);
        }
        let after = load(&mut tx, id).await?;
        insert_audit(&mut tx, &audited(audit, Some(&before), &after)).await?;
        if let Some(cn) = &credit_note {
            let entry = AuditEntry {
                action: "invoice.credit_note".to_owned(),
                ..audited(audit, None, cn)
            };
            insert_audit(&mut tx, &entry).await?;
        }
        commit(tx).await?;
        Ok((after, credit_note))
    }
}
