//! [`InvoiceStore`] for PostgreSQL. Each mutation locks the invoice row
//! (`FOR UPDATE`) before checking its status, so two admins acting on one
//! invoice act one after the other; number counters are upserted in the
//! issuing transaction, whose row lock holds concurrent issuers until
//! commit (consecutive numbers, and a rollback leaves no gap). The audit
//! record is appended last (its advisory lock is the last lock taken).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row, Transaction};

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

use crate::audit::insert_audit;
use crate::error::{corrupt, DbResultExt};
use crate::rows::{from_json, install_id, to_json};
use crate::PostgresStore;

type Tx = Transaction<'static, Postgres>;

const COLUMNS: &str = "id, kind, number, install_id, customer_id, month, status, currency, \
    document_json, issued_at, due_date, paid_on, payment_reference, voided_at, void_reason, \
    credits_invoice_id, created_at, updated_at";

fn col<'r, T>(row: &'r PgRow, name: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(name).db()
}

fn invoice(row: &PgRow) -> StoreResult<Invoice> {
    Ok(Invoice {
        id: col(row, "id")?,
        kind: InvoiceKind::parse(&col::<String>(row, "kind")?).map_err(|e| corrupt("kind", e))?,
        number: col(row, "number")?,
        install_id: install_id(&col::<String>(row, "install_id")?)?,
        customer_id: col(row, "customer_id")?,
        month: InvoiceMonth::parse(&col::<String>(row, "month")?)
            .map_err(|e| corrupt("month", e))?,
        status: InvoiceStatus::parse(&col::<String>(row, "status")?)
            .map_err(|e| corrupt("status", e))?,
        currency: Currency::parse(&col::<String>(row, "currency")?)
            .map_err(|e| corrupt("currency", e))?,
        document: from_json("invoice document", col(row, "document_json")?)?,
        issued_at: col(row, "issued_at")?,
        due_date: col(row, "due_date")?,
        paid_on: col(row, "paid_on")?,
        payment_reference: col(row, "payment_reference")?,
        voided_at: col(row, "voided_at")?,
        void_reason: col(row, "void_reason")?,
        credits_invoice_id: col(row, "credits_invoice_id")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

/// The invoice, locked until the transaction ends.
async fn lock(tx: &mut Tx, id: i64) -> StoreResult<Invoice> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM invoices WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .db()?
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

async fn next_number(
    tx: &mut Tx,
    format: &NumberFormat,
    kind: InvoiceKind,
    at: DateTime<Utc>,
) -> StoreResult<String> {
    let scope = format.counter_scope(kind.series(), at);
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO invoice_counters (scope, last_value) VALUES ($1, 1) \
         ON CONFLICT (scope) DO UPDATE SET last_value = invoice_counters.last_value + 1 \
         RETURNING last_value",
    )
    .bind(&scope)
    .fetch_one(&mut **tx)
    .await
    .db()?;
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
    let after = reload(&mut tx, before.id).await?;
    insert_audit(&mut tx, &audited(audit, Some(before), &after)).await?;
    tx.commit().await.db()?;
    Ok(after)
}

async fn insert(tx: &mut Tx, new: &NewInvoice, now: DateTime<Utc>) -> StoreResult<i64> {
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM licenses WHERE install_id = $1")
        .bind(new.install_id.as_str())
        .fetch_optional(&mut **tx)
        .await
        .db()?;
    if exists.is_none() {
        return Err(StoreError::NotFound("license"));
    }
    let document = to_json("invoice document", &new.document)?;
    sqlx::query_scalar(
        "INSERT INTO invoices (kind, install_id, customer_id, month, status, currency, total_minor, \
         document_json, credits_invoice_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $9) RETURNING id",
    )
    .bind(new.kind.as_str())
    .bind(new.install_id.as_str())
    .bind(new.customer_id)
    .bind(new.month.to_string())
    .bind(new.currency.as_str())
    .bind(new.document.totals.total_minor)
    .bind(document)
    .bind(new.credits_invoice_id)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .db()
    .map_err(|e| match e {
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
        "UPDATE invoices SET status = 'issued', number = $1, issued_at = $2, due_date = $3, \
         document_json = $4, updated_at = $2 WHERE id = $5 AND status = 'draft'",
    )
    .bind(number)
    .bind(issued_at)
    .bind(due_date)
    .bind(to_json("invoice document", document)?)
    .bind(id)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

async fn load(pool: &PgPool, id: i64) -> StoreResult<Option<Invoice>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM invoices WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
        .db()?;
    row.as_ref().map(invoice).transpose()
}

async fn reload(tx: &mut Tx, id: i64) -> StoreResult<Invoice> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM invoices WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut **tx)
        .await
        .db()?;
    invoice(&row)
}

#[async_trait]
impl InvoiceStore for PostgresStore {
    async fn billing_profile(&self) -> StoreResult<Option<BillingProfile>> {
        let raw: Option<serde_json::Value> =
            sqlx::query_scalar("SELECT profile_json FROM billing_profile WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .db()?;
        raw.map(|r| from_json("billing profile", r)).transpose()
    }

    async fn put_billing_profile(
        &self,
        profile: &BillingProfile,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.db()?;
        sqlx::query(
            "INSERT INTO billing_profile (id, profile_json, updated_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET profile_json = excluded.profile_json, \
             updated_at = excluded.updated_at",
        )
        .bind(to_json("billing profile", profile)?)
        .bind(audit.at)
        .execute(&mut *tx)
        .await
        .db()?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn billable_usage(
        &self,
        install_id: &InstallId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<BillableUsage>> {
        let rows = sqlx::query(
            "SELECT usage_type, sum(billable_quantity)::BIGINT AS billable, \
             sum(CASE WHEN billable_quantity >= quantity THEN coalesce(amount_minor, 0) \
                 ELSE (coalesce(amount_minor, 0) * billable_quantity * 2 + quantity) / (2 * quantity) END)::BIGINT AS amount \
             FROM usage_records WHERE install_id = $1 AND at >= $2 AND at < $3 \
             AND billable_quantity > 0 AND quantity > 0 GROUP BY usage_type ORDER BY usage_type",
        )
        .bind(install_id.as_str())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                Ok(BillableUsage {
                    usage_type: UsageType::parse(&col::<String>(row, "usage_type")?)
                        .map_err(|e| corrupt("usage type", e))?,
                    billable_quantity: col(row, "billable")?,
                    billable_amount_minor: col(row, "amount")?,
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
        let mut tx = self.pool.begin().await.db()?;
        let id = insert(&mut tx, new, now).await?;
        let stored = reload(&mut tx, id).await?;
        insert_audit(&mut tx, &audited(audit, None, &stored)).await?;
        tx.commit().await.db()?;
        Ok(stored)
    }

    async fn get_invoice(&self, id: i64) -> StoreResult<Option<Invoice>> {
        load(&self.pool, id).await
    }

    async fn list_invoices(&self, query: &InvoiceQuery) -> StoreResult<Vec<Invoice>> {
        let mut qb =
            QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS} FROM invoices WHERE TRUE"));
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
        let rows = qb.build().fetch_all(&self.pool).await.db()?;
        rows.iter().map(invoice).collect()
    }

    async fn update_draft(
        &self,
        id: i64,
        document: &InvoiceDocument,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<Invoice> {
        let mut tx = self.pool.begin().await.db()?;
        let before = lock(&mut tx, id).await?;
        refuse_unless(&before, &[InvoiceStatus::Draft], "edit")?;
        sqlx::query(
            "UPDATE invoices SET document_json = $1, total_minor = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(to_json("invoice document", document)?)
        .bind(document.totals.total_minor)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
        finish(tx, &before, audit).await
    }

    async fn issue_invoice(
        &self,
        id: i64,
        terms: &IssueTerms,
        audit: &AuditEntry,
    ) -> StoreResult<Invoice> {
        let mut tx = self.pool.begin().await.db()?;
        let before = lock(&mut tx, id).await?;
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
        let mut tx = self.pool.begin().await.db()?;
        let before = lock(&mut tx, id).await?;
        refuse_unless(&before, &[InvoiceStatus::Issued], "mark as paid")?;
        if before.kind == InvoiceKind::CreditNote {
            return Err(StoreError::conflict("kind", "a credit note is not paid"));
        }
        sqlx::query(
            "UPDATE invoices SET status = 'paid', paid_on = $1, payment_reference = $2, \
             updated_at = $3 WHERE id = $4",
        )
        .bind(paid_on)
        .bind(reference)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
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
        let mut tx = self.pool.begin().await.db()?;
        let before = lock(&mut tx, id).await?;
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
            "UPDATE invoices SET status = 'void', voided_at = $1, void_reason = $2, \
             updated_at = $1 WHERE id = $3",
        )
        .bind(now)
        .bind(reason)
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
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
            credit_note = Some(reload(&mut tx, credit_id).await?);
        }
        let after = reload(&mut tx, id).await?;
        insert_audit(&mut tx, &audited(audit, Some(&before), &after)).await?;
        if let Some(cn) = &credit_note {
            let entry = AuditEntry {
                action: "invoice.credit_note".to_owned(),
                ..audited(audit, None, cn)
            };
            insert_audit(&mut tx, &entry).await?;
        }
        tx.commit().await.db()?;
        Ok((after, credit_note))
    }
}
