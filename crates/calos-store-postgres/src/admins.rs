//! Admin accounts and their passwords.

use sqlx::{PgPool, Row};

use calos_core::audit::AuditEntry;
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
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.db()
}
