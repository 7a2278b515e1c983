//! Column lists and row decoders shared by the query modules. Columns are
//! selected under fixed aliases (`c_*` for customers, `a_*` for admins) so one
//! decoder serves both plain selects and joins.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;

use calos_core::auth::Role;
use calos_core::customer::{Customer, DisplayText, Domain, Email, Notes};
use calos_core::ids::InstallId;
use calos_core::license::{BillingPeriod, License, LicenseStatus};
use calos_core::plan::PlanSlug;
use calos_store::{Admin, StoreError, StoreResult};

use crate::error::{corrupt, DbResultExt};

/// Every license column plus its domains (byte order, as SQLite sorts them).
pub(crate) const LICENSE_COLUMNS: &str = r#"
    l.install_id, l.customer_id, l.plan_slug, l.billing_period, l.status,
    l.trial_ends_at, l.converted_at, l.current_period_start, l.current_period_end,
    l.ends_at, l.status_reason, l.notes, l.created_at, l.updated_at, l.version,
    l.last_seen_at,
    ARRAY(SELECT d.domain FROM license_domains d
          WHERE d.install_id = l.install_id ORDER BY d.domain COLLATE "C") AS domains
"#;

pub(crate) const CUSTOMER_COLUMNS: &str = "
    c.id AS c_id, c.name AS c_name, c.email AS c_email, c.company AS c_company,
    c.created_at AS c_created_at
";

pub(crate) const ADMIN_COLUMNS: &str = "
    a.id AS a_id, a.username AS a_username, a.email AS a_email, a.role AS a_role,
    a.disabled AS a_disabled, a.created_at AS a_created_at
";

pub(crate) fn license(row: &PgRow) -> StoreResult<License> {
    let text = |col: &str| -> StoreResult<String> { row.try_get::<String, _>(col).db() };
    let time = |col: &str| -> StoreResult<DateTime<Utc>> { row.try_get(col).db() };
    let opt_time = |col: &str| -> StoreResult<Option<DateTime<Utc>>> { row.try_get(col).db() };
    let domains = row
        .try_get::<Vec<String>, _>("domains")
        .db()?
        .iter()
        .map(|d| Domain::parse(d).map_err(|e| corrupt("license domain", e)))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(License {
        install_id: install_id(&text("install_id")?)?,
        customer_id: row.try_get("customer_id").db()?,
        plan: PlanSlug::parse(&text("plan_slug")?).map_err(|e| corrupt("license plan", e))?,
        billing_period: BillingPeriod::parse(&text("billing_period")?)
            .map_err(|e| corrupt("billing period", e))?,
        status: LicenseStatus::parse(&text("status")?).map_err(|e| corrupt("license status", e))?,
        trial_ends_at: opt_time("trial_ends_at")?,
        converted_at: opt_time("converted_at")?,
        current_period_start: time("current_period_start")?,
        current_period_end: time("current_period_end")?,
        ends_at: opt_time("ends_at")?,
        status_reason: row.try_get("status_reason").db()?,
        notes: Notes::parse(&text("notes")?).map_err(|e| corrupt("license notes", e))?,
        domains,
        created_at: time("created_at")?,
        updated_at: time("updated_at")?,
        version: row.try_get("version").db()?,
        last_seen_at: opt_time("last_seen_at")?,
    })
}

pub(crate) fn customer(row: &PgRow) -> StoreResult<Customer> {
    let name: String = row.try_get("c_name").db()?;
    let email: String = row.try_get("c_email").db()?;
    let company: Option<String> = row.try_get("c_company").db()?;
    Ok(Customer {
        id: row.try_get("c_id").db()?,
        name: DisplayText::parse("name", &name).map_err(|e| corrupt("customer name", e))?,
        email: Email::parse(&email).map_err(|e| corrupt("customer e-mail", e))?,
        company: company
            .map(|c| DisplayText::parse("company", &c))
            .transpose()
            .map_err(|e| corrupt("customer company", e))?,
        created_at: row.try_get("c_created_at").db()?,
    })
}

pub(crate) fn admin(row: &PgRow) -> StoreResult<Admin> {
    let role: String = row.try_get("a_role").db()?;
    Ok(Admin {
        id: row.try_get("a_id").db()?,
        username: row.try_get("a_username").db()?,
        email: row.try_get("a_email").db()?,
        role: Role::parse(&role).map_err(|e| corrupt("admin role", e))?,
        disabled: row.try_get("a_disabled").db()?,
        created_at: row.try_get("a_created_at").db()?,
    })
}

pub(crate) fn install_id(raw: &str) -> StoreResult<InstallId> {
    InstallId::parse(raw).map_err(|e| corrupt("install id", e))
}

/// A stored JSON column decoded into its core type.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    what: &str,
    value: serde_json::Value,
) -> StoreResult<T> {
    serde_json::from_value(value).map_err(|e| corrupt(what, e))
}

/// A core value encoded for a JSON column.
pub(crate) fn to_json<T: serde::Serialize>(
    what: &str,
    value: &T,
) -> StoreResult<serde_json::Value> {
    serde_json::to_value(value)
        .map_err(|e| StoreError::Backend(format!("cannot encode {what} as JSON: {e}")))
}
