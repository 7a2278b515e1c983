//! Admin accounts and their passwords.

use sqlx::{PgPool, Row};

use calos_core::audit::AuditEntry;
use calos_core::auth::Role;
use calos_store::{Admin, NewAdmin, StoreError, StoreResult};

use crate::audit::insert_audit;
use crate::error::DbResultExt;
use crate::rows::{self, ADMIN_COLUMNS};

pub(crate) async fn count_admins(pool: &PgPool) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM admins")
        .fetch_one(pool)
        .await
        .db()?;
    Ok(n.unsigned_abs())
}

pub(crate) async fn create_admin(
    pool: &PgPool,
    new: &NewAdmin,
    audit: &AuditEntry,
) -> StoreResult<Admin> {
    let mut tx = pool.begin().await.db()?;
    let sql = format!(
        "INSERT INTO admins AS a (username, email, role, password_hash, disabled, created_at)
         VALUES ($1, $2, $3, $4, FALSE, $5)
         RETURNING {ADMIN_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(&new.username)
        .bind(&new.email)
        .bind(new.role.as_str())
        .bind(&new.password_hash)
        .bind(new.created_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match crate::error::map(e) {
            StoreError::Conflict {
                field: "username", ..
            } => StoreError::conflict(
                "username",
                format!("an admin named {:?} already exists", new.username),
            ),
            other => other,
        })?;
    let admin = rows::admin(&row)?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.db()?;
    Ok(admin)
}

pub(crate) async fn get_admin(pool: &PgPool, id: i64) -> StoreResult<Option<Admin>> {
    let sql = format!("SELECT {ADMIN_COLUMNS} FROM admins a WHERE a.id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await.db()?;
    row.as_ref().map(rows::admin).transpose()
}

pub(crate) async fn get_admin_login(
    pool: &PgPool,
    username: &str,
) -> StoreResult<Option<(Admin, String)>> {
    let sql =
        format!("SELECT {ADMIN_COLUMNS}, a.password_hash FROM admins a WHERE a.username = $1");
    let row = sqlx::query(&sql)
        .bind(username)
        .fetch_optional(pool)
        .await
        .db()?;
    match row {
        Some(row) => Ok(Some((
            rows::admin(&row)?,
            row.try_get("password_hash").db()?,
        ))),
        None => Ok(None),
    }
}

pub(crate) async fn list_admins(pool: &PgPool) -> StoreResult<Vec<Admin>> {
    let sql = format!("SELECT {ADMIN_COLUMNS} FROM admins a ORDER BY a.id");
    let found = sqlx::query(&sql).fetch_all(pool).await.db()?;
    found.iter().map(rows::admin).collect()
}

pub(crate) async fn set_admin_password(
    pool: &PgPool,
    id: i64,
    password_hash: &str,
    audit: &AuditEntry,
) -> StoreResult<()> {
    let mut tx = pool.begin().await.db()?;
    let done = sqlx::query("UPDATE admins SET password_hash = $2 WHERE id = $1")
        .bind(id)
        .bind(password_hash)
        .execute(&mut *tx)
        .await
        .db()?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("admin"));
    }
    // A new password ends every session signed in with the old one.
    sqlx::query("DELETE FROM admin_sessions WHERE admin_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.db()
}

/// Changes `id` to `role` and/or `disabled` unless that leaves no enabled
/// owner. Locking every enabled owner row first makes two concurrent
/// demotions of the last two owners wait for each other, so the second sees
/// the first's result (READ COMMITTED re-reads a row after waiting for it).
async fn change_admin(
    pool: &PgPool,
    id: i64,
    role: Option<Role>,
    disabled: Option<bool>,
    audit: &AuditEntry,
) -> StoreResult<Admin> {
    let mut tx = pool.begin().await.db()?;
    let owners: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM admins WHERE role = 'owner' AND NOT disabled FOR UPDATE",
    )
    .fetch_all(&mut *tx)
    .await
    .db()?;
    let sql = format!("SELECT {ADMIN_COLUMNS} FROM admins a WHERE a.id = $1 FOR UPDATE");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
    let current = row
        .as_ref()
        .map(rows::admin)
        .transpose()?
        .ok_or(StoreError::NotFound("admin"))?;
    let next_role = role.unwrap_or(current.role);
    let next_disabled = disabled.unwrap_or(current.disabled);
    let stays_owner = next_role == Role::Owner && !next_disabled;
    if owners == [id] && !stays_owner {
        return Err(StoreError::conflict(
            if role.is_some() { "role" } else { "disabled" },
            "the last enabled owner cannot be demoted or disabled",
        ));
    }
    let sql = format!(
        "UPDATE admins AS a SET role = $2, disabled = $3 WHERE a.id = $1 RETURNING {ADMIN_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(id)
        .bind(next_role.as_str())
        .bind(next_disabled)
        .fetch_one(&mut *tx)
        .await
        .db()?;
    let admin = rows::admin(&row)?;
    if next_disabled {
        // Its cookies must not come back to life if it is re-enabled later.
        sqlx::query("DELETE FROM admin_sessions WHERE admin_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.db()?;
    Ok(admin)
}

pub(crate) async fn set_admin_role(
    pool: &PgPool,
    id: i64,
    role: Role,
    audit: &AuditEntry,
) -> StoreResult<Admin> {
    change_admin(pool, id, Some(role), None, audit).await
}

pub(crate) async fn set_admin_disabled(
    pool: &PgPool,
    id: i64,
    disabled: bool,
    audit: &AuditEntry,
) -> StoreResult<Admin> {
    change_admin(pool, id, None, Some(disabled), audit).await
}
