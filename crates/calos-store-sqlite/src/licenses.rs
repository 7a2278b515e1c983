//! Licenses: create (with a new customer when asked), read, versioned update.

use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, SqliteExecutor, SqlitePool, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::customer::{Customer, Domain, Notes};
use calos_core::ids::InstallId;
use calos_core::license::{BillingPeriod, License, LicenseStatus};
use calos_core::plan::PlanSlug;
use calos_store::{CustomerRef, NewLicense, StoreError, StoreResult};

use crate::customers;
use crate::db::{
    commit, corrupt, db_err, get, insert_audit, micros, opt_micros, opt_time, time, write_tx,
};

/// The license columns, aliased `l`, plus its domains folded into one
/// space-separated string (a domain never contains a space).
pub(crate) const LICENSE_COLUMNS: &str = "l.install_id, l.customer_id, l.plan_slug, l.billing_period, l.status, \
     l.trial_ends_at, l.converted_at, l.current_period_start, l.current_period_end, l.ends_at, \
     l.status_reason, l.notes, l.created_at, l.updated_at, l.version, l.last_seen_at, \
     (SELECT group_concat(d.domain, ' ') FROM license_domains d WHERE d.install_id = l.install_id) AS domains";

pub(crate) async fn get_one<'e>(
    exec: impl SqliteExecutor<'e>,
    install_id: &InstallId,
) -> StoreResult<Option<License>> {
    let row = sqlx::query(&format!(
        "SELECT {LICENSE_COLUMNS} FROM licenses l WHERE l.install_id = ?"
    ))
    .bind(install_id.as_str())
    .fetch_optional(exec)
    .await
    .map_err(db_err)?;
    row.as_ref().map(license).transpose()
}

pub(crate) async fn key_hash(
    pool: &SqlitePool,
    install_id: &InstallId,
) -> StoreResult<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT key_hash FROM licenses WHERE install_id = ?")
        .bind(install_id.as_str())
        .fetch_optional(pool)
        .await
        .map_err(db_err)
}

pub(crate) async fn create(
    pool: &SqlitePool,
    new: &NewLicense,
    audit: &AuditEntry,
) -> StoreResult<(Customer, License)> {
    let mut tx = write_tx(pool).await?;
    let customer = match &new.customer {
        CustomerRef::New(c) => customers::insert(&mut tx, c, new.license.created_at).await?,
        CustomerRef::Existing(id) => customers::get_by_id(&mut *tx, *id)
            .await?
            .ok_or(StoreError::NotFound("customer"))?,
    };
    let mut license = new.license.clone();
    license.customer_id = customer.id;
    license.domains.sort();
    let l = &license;
    sqlx::query(
        "INSERT INTO licenses (install_id, customer_id, plan_slug, billing_period, status, trial_ends_at, \
         converted_at, current_period_start, current_period_end, ends_at, status_reason, notes, key_hash, \
         created_at, updated_at, version, last_seen_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(l.install_id.as_str())
    .bind(l.customer_id)
    .bind(l.plan.as_str())
    .bind(l.billing_period.as_str())
    .bind(l.status.as_str())
    .bind(opt_micros(l.trial_ends_at))
    .bind(opt_micros(l.converted_at))
    .bind(micros(l.current_period_start))
    .bind(micros(l.current_period_end))
    .bind(opt_micros(l.ends_at))
    .bind(&l.status_reason)
    .bind(l.notes.as_str())
    .bind(&new.key_hash)
    .bind(micros(l.created_at))
    .bind(micros(l.updated_at))
    .bind(l.version)
    .bind(opt_micros(l.last_seen_at))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    insert_domains(&mut tx, &l.install_id, &l.domains).await?;
    if let Some(owner) = &new.owner {
        crate::account_owner::write_owner(&mut tx, customer.id, Some(owner)).await?;
    }
    insert_audit(&mut tx, audit).await?;
    commit(tx).await?;
    Ok((customer, license))
}

pub(crate) async fn update(
    pool: &SqlitePool,
    next: &License,
    audit: &AuditEntry,
) -> StoreResult<License> {
    let mut tx = write_tx(pool).await?;
    let n = next;
    let done = sqlx::query(
        "UPDATE licenses SET customer_id = ?, plan_slug = ?, billing_period = ?, status = ?, trial_ends_at = ?, \
         converted_at = ?, current_period_start = ?, current_period_end = ?, ends_at = ?, status_reason = ?, \
         notes = ?, updated_at = ?, last_seen_at = ?, version = version + 1 \
         WHERE install_id = ? AND version = ?",
    )
    .bind(n.customer_id)
    .bind(n.plan.as_str())
    .bind(n.billing_period.as_str())
    .bind(n.status.as_str())
    .bind(opt_micros(n.trial_ends_at))
    .bind(opt_micros(n.converted_at))
    .bind(micros(n.current_period_start))
    .bind(micros(n.current_period_end))
    .bind(opt_micros(n.ends_at))
    .bind(&n.status_reason)
    .bind(n.notes.as_str())
    .bind(micros(n.updated_at))
    .bind(opt_micros(n.last_seen_at))
    .bind(n.install_id.as_str())
    .bind(n.version)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    if done.rows_affected() == 0 {
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM licenses WHERE install_id = ?")
            .bind(n.install_id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        return Err(match exists {
            Some(_) => StoreError::conflict(
                "version",
                "the license was changed by someone else; reload and retry",
            ),
            None => StoreError::NotFound("license"),
        });
    }
    let mut stored = next.clone();
    stored.version = next.version + 1;
    stored.domains.sort();
    sqlx::query("DELETE FROM license_domains WHERE install_id = ?")
        .bind(n.install_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    insert_domains(&mut tx, &stored.install_id, &stored.domains).await?;
    insert_audit(&mut tx, audit).await?;
    commit(tx).await?;
    Ok(stored)
}

async fn insert_domains(
    tx: &mut Transaction<'static, Sqlite>,
    install_id: &InstallId,
    domains: &[Domain],
) -> StoreResult<()> {
    for domain in domains {
        sqlx::query("INSERT INTO license_domains (domain, install_id) VALUES (?, ?)")
            .bind(domain.as_str())
            .bind(install_id.as_str())
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

/// Licenses that `License::advance_time` would change at `now`.
pub(crate) async fn due(
    pool: &SqlitePool,
    now: chrono::DateTime<chrono::Utc>,
    limit: u32,
) -> StoreResult<Vec<License>> {
    let rows = sqlx::query(&format!(
        "SELECT {LICENSE_COLUMNS} FROM licenses l \
         WHERE (l.status = 'trial' AND l.trial_ends_at <= ?1) \
            OR (l.status = 'active' AND (l.ends_at <= ?1 OR l.current_period_end <= ?1)) \
         ORDER BY l.install_id LIMIT ?2"
    ))
    .bind(micros(now))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(license).collect()
}

pub(crate) async fn facts(pool: &SqlitePool) -> StoreResult<Vec<calos_core::stats::LicenseFacts>> {
    let rows = sqlx::query(
        "SELECT customer_id, plan_slug, billing_period, status, \
         trial_ends_at IS NOT NULL AS started_as_trial, converted_at IS NOT NULL AS converted \
         FROM licenses ORDER BY install_id",
    )
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|row| {
            Ok(calos_core::stats::LicenseFacts {
                customer_id: get(row, "customer_id")?,
                plan: slug(row)?,
                billing_period: period(row)?,
                status: status(row)?,
                started_as_trial: get(row, "started_as_trial")?,
                converted: get(row, "converted")?,
            })
        })
        .collect()
}

fn slug(row: &SqliteRow) -> StoreResult<PlanSlug> {
    PlanSlug::parse(&get::<String>(row, "plan_slug")?).map_err(|e| corrupt("plan slug", e))
}

fn period(row: &SqliteRow) -> StoreResult<BillingPeriod> {
    BillingPeriod::parse(&get::<String>(row, "billing_period")?)
        .map_err(|e| corrupt("billing period", e))
}

fn status(row: &SqliteRow) -> StoreResult<LicenseStatus> {
    LicenseStatus::parse(&get::<String>(row, "status")?).map_err(|e| corrupt("license status", e))
}

/// A license from a row selected with [`LICENSE_COLUMNS`].
pub(crate) fn license(row: &SqliteRow) -> StoreResult<License> {
    let mut domains = get::<Option<String>>(row, "domains")?
        .unwrap_or_default()
        .split_whitespace()
        .map(|d| Domain::parse(d).map_err(|e| corrupt("domain", e)))
        .collect::<StoreResult<Vec<_>>>()?;
    domains.sort();
    Ok(License {
        install_id: InstallId::parse(&get::<String>(row, "install_id")?)
            .map_err(|e| corrupt("install id", e))?,
        customer_id: get(row, "customer_id")?,
        plan: slug(row)?,
        billing_period: period(row)?,
        status: status(row)?,
        trial_ends_at: opt_time(row, "trial_ends_at")?,
        converted_at: opt_time(row, "converted_at")?,
        current_period_start: time(row, "current_period_start")?,
        current_period_end: time(row, "current_period_end")?,
        ends_at: opt_time(row, "ends_at")?,
        status_reason: get(row, "status_reason")?,
        notes: Notes::parse(&get::<String>(row, "notes")?).map_err(|e| corrupt("notes", e))?,
        domains,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        version: get(row, "version")?,
        last_seen_at: opt_time(row, "last_seen_at")?,
    })
}
