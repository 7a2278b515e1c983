//! Admin accounts, login sessions and API tokens.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, SqlitePool, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::auth::Role;
use calos_store::{
    Admin, ApiToken, NewAdmin, NewApiToken, NewSession, Session, StoreError, StoreResult,
};

use crate::db::{
    commit, corrupt, count, db_err, get, insert_audit, micros, opt_micros, opt_time, time, write_tx,
};

pub(crate) const ADMIN_COLUMNS: &str =
    "a.id AS a_id, a.username AS a_username, a.email AS a_email, a.role AS a_role, \
     a.disabled AS a_disabled, a.created_at AS a_created_at";
const TOKEN_COLUMNS: &str =
    "t.id, t.admin_id, t.name, t.prefix, t.created_at, t.expires_at, t.revoked_at, t.role";

pub(crate) fn admin(row: &SqliteRow) -> StoreResult<Admin> {
    Ok(Admin {
        id: get(row, "a_id")?,
        username: get(row, "a_username")?,
        email: get(row, "a_email")?,
        role: Role::parse(&get::<String>(row, "a_role")?).map_err(|e| corrupt("admin role", e))?,
        disabled: get(row, "a_disabled")?,
        created_at: time(row, "a_created_at")?,
    })
}

pub(crate) async fn count_all(pool: &SqlitePool) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admins")
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    Ok(count(n))
}

pub(crate) async fn create(
    pool: &SqlitePool,
    new: &NewAdmin,
    audit: &AuditEntry,
) -> StoreResult<Admin> {
    let mut tx = write_tx(pool).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO admins (username, email, role, password_hash, disabled, created_at) \
         VALUES (?, ?, ?, ?, 0, ?) RETURNING id",
    )
    .bind(&new.username)
    .bind(&new.email)
    .bind(new.role.as_str())
    .bind(&new.password_hash)
    .bind(micros(new.created_at))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    insert_audit(&mut tx, audit).await?;
    commit(tx).await?;
    Ok(Admin {
        id,
        username: new.username.clone(),
        email: new.email.clone(),
        role: new.role,
        disabled: false,
        created_at: new.created_at,
    })
}

pub(crate) async fn get_one(pool: &SqlitePool, id: i64) -> StoreResult<Option<Admin>> {
    let row = sqlx::query(&format!(
        "SELECT {ADMIN_COLUMNS} FROM admins a WHERE a.id = ?"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref().map(admin).transpose()
}

pub(crate) async fn login(
    pool: &SqlitePool,
    username: &str,
) -> StoreResult<Option<(Admin, String)>> {
    let row = sqlx::query(&format!(
        "SELECT {ADMIN_COLUMNS}, a.password_hash FROM admins a WHERE a.username = ?"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref()
        .map(|r| Ok((admin(r)?, get(r, "password_hash")?)))
        .transpose()
}

pub(crate) async fn list(pool: &SqlitePool) -> StoreResult<Vec<Admin>> {
    let rows = sqlx::query(&format!(
        "SELECT {ADMIN_COLUMNS} FROM admins a ORDER BY a.id"
    ))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(admin).collect()
}

pub(crate) async fn set_password(
    pool: &SqlitePool,
    id: i64,
    hash: &str,
    audit: &AuditEntry,
) -> StoreResult<()> {
    let mut tx = write_tx(pool).await?;
    let done = sqlx::query("UPDATE admins SET password_hash = ? WHERE id = ?")
        .bind(hash)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("admin"));
    }
    // A new password ends every session signed in with the old one.
    sqlx::query("DELETE FROM admin_sessions WHERE admin_id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    insert_audit(&mut tx, audit).await?;
    commit(tx).await
}

pub(crate) async fn create_session(pool: &SqlitePool, s: &NewSession) -> StoreResult<()> {
    let mut tx = write_tx(pool).await?;
    insert_session(&mut tx, s).await?;
    commit(tx).await
}

/// A new session counts as last seen when it was created (idle timeout).
pub(crate) async fn insert_session(
    tx: &mut Transaction<'static, Sqlite>,
    s: &NewSession,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO admin_sessions (token_hash, admin_id, csrf_token, created_at, expires_at, last_seen_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?4)",
    )
    .bind(&s.token_hash)
    .bind(s.admin_id)
    .bind(&s.csrf_token)
    .bind(micros(s.created_at))
    .bind(micros(s.expires_at))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn get_session(
    pool: &SqlitePool,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> StoreResult<Option<(Session, Admin)>> {
    let row = sqlx::query(&format!(
        "SELECT {ADMIN_COLUMNS}, s.csrf_token, s.created_at, s.expires_at \
         FROM admin_sessions s JOIN admins a ON a.id = s.admin_id \
         WHERE s.token_hash = ? AND s.expires_at > ?"
    ))
    .bind(token_hash)
    .bind(micros(now))
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref()
        .map(|r| {
            let a = admin(r)?;
            let session = Session {
                admin_id: a.id,
                csrf_token: get(r, "csrf_token")?,
                created_at: time(r, "created_at")?,
                expires_at: time(r, "expires_at")?,
            };
            Ok((session, a))
        })
        .transpose()
}

pub(crate) async fn delete_session(pool: &SqlitePool, token_hash: &[u8]) -> StoreResult<()> {
    let mut tx = write_tx(pool).await?;
    sqlx::query("DELETE FROM admin_sessions WHERE token_hash = ?")
        .bind(token_hash)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    commit(tx).await
}

pub(crate) async fn delete_expired_sessions(
    pool: &SqlitePool,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut tx = write_tx(pool).await?;
    let done = sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= ?")
        .bind(micros(now))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    commit(tx).await?;
    Ok(done.rows_affected())
}

fn token(row: &SqliteRow) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: get(row, "id")?,
        admin_id: get(row, "admin_id")?,
        name: get(row, "name")?,
        prefix: get(row, "prefix")?,
        created_at: time(row, "created_at")?,
        expires_at: opt_time(row, "expires_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
        role: get::<Option<String>>(row, "role")?
            .map(|r| Role::parse(&r).map_err(|e| corrupt("token role", e)))
            .transpose()?,
    })
}

pub(crate) async fn create_token(
    pool: &SqlitePool,
    new: &NewApiToken,
    audit: &AuditEntry,
) -> StoreResult<ApiToken> {
    let mut tx = write_tx(pool).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_tokens (admin_id, name, prefix, token_hash, created_at, expires_at, role) \
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(new.admin_id)
    .bind(&new.name)
    .bind(&new.prefix)
    .bind(&new.token_hash)
    .bind(micros(new.created_at))
    .bind(opt_micros(new.expires_at))
    .bind(new.role.map(Role::as_str))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    insert_audit(&mut tx, audit).await?;
    commit(tx).await?;
    Ok(ApiToken {
        id,
        admin_id: new.admin_id,
        name: new.name.clone(),
        prefix: new.prefix.clone(),
        created_at: new.created_at,
        expires_at: new.expires_at,
        revoked_at: None,
        role: new.role,
    })
}

pub(crate) async fn find_token(
    pool: &SqlitePool,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> StoreResult<Option<(ApiToken, Admin)>> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS}, {ADMIN_COLUMNS} FROM api_tokens t JOIN admins a ON a.id = t.admin_id \
         WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?2)"
    ))
    .bind(token_hash)
    .bind(micros(now))
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref().map(|r| Ok((token(r)?, admin(r)?))).transpose()
}

pub(crate) async fn list_tokens(pool: &SqlitePool) -> StoreResult<Vec<ApiToken>> {
    let rows = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens t ORDER BY t.id"
    ))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(token).collect()
}

/// Revoking twice keeps the first revocation time.
pub(crate) async fn revoke_token(
    pool: &SqlitePool,
    id: i64,
    now: DateTime<Utc>,
    audit: &AuditEntry,
) -> StoreResult<()> {
    let mut tx = write_tx(pool).await?;
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?")
            .bind(micros(now))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("api token"));
    }
    insert_audit(&mut tx, audit).await?;
    commit(tx).await
}

/// Changes `id`'s role and/or disabled flag unless that leaves no enabled
/// owner; the IMMEDIATE transaction makes the check and the change atomic.
pub(crate) async fn change(
    pool: &SqlitePool,
    id: i64,
    role: Option<Role>,
    disabled: Option<bool>,
    audit: &AuditEntry,
) -> StoreResult<Admin> {
    let mut tx = write_tx(pool).await?;
    let row = sqlx::query(&format!(
        "SELECT {ADMIN_COLUMNS} FROM admins a WHERE a.id = ?"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let current = row
        .as_ref()
        .map(admin)
        .transpose()?
        .ok_or(StoreError::NotFound("admin"))?;
    let next_role = role.unwrap_or(current.role);
    let next_disabled = disabled.unwrap_or(current.disabled);
    let other_owners: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM admins WHERE role = 'owner' AND disabled = 0 AND id <> ?",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let was_owner = current.role == Role::Owner && !current.disabled;
    let stays_owner = next_role == Role::Owner && !next_disabled;
    if was_owner && !stays_owner && other_owners == 0 {
        return Err(StoreError::conflict(
            if role.is_some() { "role" } else { "disabled" },
            "the last enabled owner cannot be demoted or disabled",
        ));
    }
    sqlx::query("UPDATE admins SET role = ?, disabled = ? WHERE id = ?")
        .bind(next_role.as_str())
        .bind(next_disabled)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    if next_disabled {
        // Its cookies must not come back to life if it is re-enabled later.
        sqlx::query("DELETE FROM admin_sessions WHERE admin_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    insert_audit(&mut tx, audit).await?;
    commit(tx).await?;
    Ok(Admin {
        role: next_role,
        disabled: next_disabled,
        ..current
    })
}
