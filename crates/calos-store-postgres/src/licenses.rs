//! Licenses: creation (with a new customer when asked), reads, optimistic
//! updates, and the narrow views stats and the expiry worker need.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Row, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::customer::{Customer, Domain};
use calos_core::ids::InstallId;
use calos_core::license::{BillingPeriod, License, LicenseStatus};
use calos_core::plan::PlanSlug;
use calos_core::stats::LicenseFacts;
use calos_store::{CustomerRef, NewLicense, StoreError, StoreResult};

use crate::audit::insert_audit;
use crate::customers::{customer_in_tx, insert_customer};
use crate::error::{corrupt, DbResultExt};
use crate::rows::{self, LICENSE_COLUMNS};

pub(crate) async fn create_license(
    pool: &PgPool,
    new: &NewLicense,
    audit: &AuditEntry,
) -> StoreResult<(Customer, License)> {
    let l = &new.license;
    let mut tx = pool.begin().await.db()?;
    let customer = match &new.customer {
        CustomerRef::New(c) => insert_customer(&mut tx, c, l.created_at).await?,
        CustomerRef::Existing(id) => customer_in_tx(&mut tx, *id).await?,
    };
    ensure_domains_free(&mut tx, &l.install_id, &l.domains).await?;
    sqlx::query(
        "INSERT INTO licenses (install_id, customer_id, plan_slug, billing_period, status,
             trial_ends_at, converted_at, current_period_start, current_period_end, ends_at,
             status_reason, notes, key_hash, created_at, updated_at, version, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(l.install_id.as_str())
    .bind(customer.id)
    .bind(l.plan.as_str())
    .bind(l.billing_period.as_str())
    .bind(l.status.as_str())
    .bind(l.trial_ends_at)
    .bind(l.converted_at)
    .bind(l.current_period_start)
    .bind(l.current_period_end)
    .bind(l.ends_at)
    .bind(&l.status_reason)
    .bind(l.notes.as_str())
    .bind(&new.key_hash)
    .bind(l.created_at)
    .bind(l.updated_at)
    .bind(l.version)
    .bind(l.last_seen_at)
    .execute(&mut *tx)
    .await
    .map_err(|e| match crate::error::map(e) {
        StoreError::Conflict {
            field: "install_id",
            ..
        } => StoreError::conflict(
            "install_id",
            format!("install id {} is already taken", l.install_id),
        ),
        other => other,
    })?;
    insert_domains(&mut tx, &l.install_id, &l.domains).await?;
    if let Some(owner) = &new.owner {
        crate::account_owner::write_owner(&mut tx, customer.id, Some(owner)).await?;
    }
    insert_audit(&mut tx, audit).await?;
    let stored = license_in_tx(&mut tx, &l.install_id)
        .await?
        .ok_or(StoreError::NotFound("license"))?;
    tx.commit().await.db()?;
    Ok((customer, stored))
}

pub(crate) async fn get_license(
    pool: &PgPool,
    install_id: &InstallId,
) -> StoreResult<Option<License>> {
    let sql = format!("SELECT {LICENSE_COLUMNS} FROM licenses l WHERE l.install_id = $1");
    let row = sqlx::query(&sql)
        .bind(install_id.as_str())
        .fetch_optional(pool)
        .await
        .db()?;
    row.as_ref().map(rows::license).transpose()
}

pub(crate) async fn license_key_hash(
    pool: &PgPool,
    install_id: &InstallId,
) -> StoreResult<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT key_hash FROM licenses WHERE install_id = $1")
        .bind(install_id.as_str())
        .fetch_optional(pool)
        .await
        .db()
}

pub(crate) async fn update_license(
    pool: &PgPool,
    next: &License,
    audit: &AuditEntry,
) -> StoreResult<License> {
    let mut tx = pool.begin().await.db()?;
    // The version check and the bump are one statement, so of two concurrent
    // writers holding the same version exactly one matches a row.
    // last_seen_at is written by the verify path behind the admin's back; keep
    // whichever is newer rather than rolling it back to the admin's copy.
    let updated = sqlx::query(
        "UPDATE licenses SET plan_slug = $3, billing_period = $4, status = $5,
             trial_ends_at = $6, converted_at = $7, current_period_start = $8,
             current_period_end = $9, ends_at = $10, status_reason = $11, notes = $12,
             updated_at = $13, last_seen_at = GREATEST(last_seen_at, $14),
             version = version + 1
         WHERE install_id = $1 AND version = $2",
    )
    .bind(next.install_id.as_str())
    .bind(next.version)
    .bind(next.plan.as_str())
    .bind(next.billing_period.as_str())
    .bind(next.status.as_str())
    .bind(next.trial_ends_at)
    .bind(next.converted_at)
    .bind(next.current_period_start)
    .bind(next.current_period_end)
    .bind(next.ends_at)
    .bind(&next.status_reason)
    .bind(next.notes.as_str())
    .bind(next.updated_at)
    .bind(next.last_seen_at)
    .execute(&mut *tx)
    .await
    .db()?;
    if updated.rows_affected() == 0 {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM licenses WHERE install_id = $1)")
                .bind(next.install_id.as_str())
                .fetch_one(&mut *tx)
                .await
                .db()?;
        return Err(if exists {
            StoreError::conflict(
                "version",
                format!(
                    "license {} was changed by someone else; reload it and try again",
                    next.install_id
                ),
            )
        } else {
            StoreError::NotFound("license")
        });
    }
    ensure_domains_free(&mut tx, &next.install_id, &next.domains).await?;
    sqlx::query("DELETE FROM license_domains WHERE install_id = $1")
        .bind(next.install_id.as_str())
        .execute(&mut *tx)
        .await
        .db()?;
    insert_domains(&mut tx, &next.install_id, &next.domains).await?;
    insert_audit(&mut tx, audit).await?;
    let stored = license_in_tx(&mut tx, &next.install_id)
        .await?
        .ok_or(StoreError::NotFound("license"))?;
    tx.commit().await.db()?;
    Ok(stored)
}

pub(crate) async fn license_facts(pool: &PgPool) -> StoreResult<Vec<LicenseFacts>> {
    let rows = sqlx::query(
        "SELECT customer_id, plan_slug, billing_period, status,
                trial_ends_at IS NOT NULL AS started_as_trial,
                converted_at IS NOT NULL AS converted
         FROM licenses ORDER BY install_id",
    )
    .fetch_all(pool)
    .await
    .db()?;
    rows.iter()
        .map(|row| {
            let plan: String = row.try_get("plan_slug").db()?;
            let period: String = row.try_get("billing_period").db()?;
            let status: String = row.try_get("status").db()?;
            Ok(LicenseFacts {
                customer_id: row.try_get("customer_id").db()?,
                plan: PlanSlug::parse(&plan).map_err(|e| corrupt("license plan", e))?,
                billing_period: BillingPeriod::parse(&period)
                    .map_err(|e| corrupt("billing period", e))?,
                status: LicenseStatus::parse(&status).map_err(|e| corrupt("license status", e))?,
                started_as_trial: row.try_get("started_as_trial").db()?,
                converted: row.try_get("converted").db()?,
            })
        })
        .collect()
}

pub(crate) async fn licenses_due(
    pool: &PgPool,
    now: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<License>> {
    // Mirrors `License::advance_time`: the worker re-checks each one in core.
    let sql = format!(
        "SELECT {LICENSE_COLUMNS} FROM licenses l
         WHERE (l.status = 'trial' AND l.trial_ends_at <= $1)
            OR (l.status = 'active' AND (l.ends_at <= $1 OR l.current_period_end <= $1))
         ORDER BY l.install_id
         LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .db()?;
    rows.iter().map(rows::license).collect()
}

async fn license_in_tx(
    tx: &mut Transaction<'_, Postgres>,
    install_id: &InstallId,
) -> StoreResult<Option<License>> {
    let sql = format!("SELECT {LICENSE_COLUMNS} FROM licenses l WHERE l.install_id = $1");
    let row = sqlx::query(&sql)
        .bind(install_id.as_str())
        .fetch_optional(&mut **tx)
        .await
        .db()?;
    row.as_ref().map(rows::license).transpose()
}

/// Refuses domains another license holds, naming the first one. The primary
/// key still guards against a concurrent writer taking it after this check.
async fn ensure_domains_free(
    tx: &mut Transaction<'_, Postgres>,
    install_id: &InstallId,
    domains: &[Domain],
) -> StoreResult<()> {
    if domains.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = domains.iter().map(Domain::as_str).collect();
    let taken: Option<String> = sqlx::query_scalar(
        "SELECT domain FROM license_domains
         WHERE domain = ANY($1) AND install_id <> $2
         ORDER BY domain COLLATE \"C\" LIMIT 1",
    )
    .bind(&names)
    .bind(install_id.as_str())
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    match taken {
        Some(domain) => Err(domain_taken(&domain)),
        None => Ok(()),
    }
}

async fn insert_domains(
    tx: &mut Transaction<'_, Postgres>,
    install_id: &InstallId,
    domains: &[Domain],
) -> StoreResult<()> {
    if domains.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = domains.iter().map(Domain::as_str).collect();
    // DISTINCT: a caller's list with a repeat must not clash with itself.
    sqlx::query(
        "INSERT INTO license_domains (domain, install_id)
         SELECT DISTINCT d, $2 FROM UNNEST($1::text[]) AS d",
    )
    .bind(&names)
    .bind(install_id.as_str())
    .execute(&mut **tx)
    .await
    .map_err(|e| match crate::error::map(e) {
        StoreError::Conflict {
            field: "domain", ..
        } => StoreError::conflict(
            "domain",
            "a domain of this license was just taken by another license",
        ),
        other => other,
    })?;
    Ok(())
}

fn domain_taken(domain: &str) -> StoreError {
    StoreError::conflict(
        "domain",
        format!("domain {domain} already belongs to another license"),
    )
}
