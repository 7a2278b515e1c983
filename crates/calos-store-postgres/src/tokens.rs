//! API tokens for scripts: stored as hashes, listed by prefix, revoked in place.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use calos_core::audit::AuditEntry;
use calos_core::auth::Role;
use calos_store::{Admin, ApiToken, NewApiToken, StoreError, StoreResult};

use crate::audit::insert_audit;
use crate::error::DbResultExt;
use crate::rows::{self, ADMIN_COLUMNS};

const TOKEN_COLUMNS: &str =
    "t.id, t.admin_id, t.name, t.prefix, t.created_at, t.expires_at, t.revoked_at, t.role";

pub(crate) async fn create_api_token(
    pool: &PgPool,
    new: &NewApiToken,
    audit: &AuditEntry,
) -> StoreResult<ApiToken> {
    let mut tx = pool.begin().await.db()?;
    let sql = format!(
        "INSERT INTO api_tokens AS t (admin_id, name, prefix, token_hash, created_at, expires_at, role)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING {TOKEN_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(new.admin_id)
        .bind(&new.name)
        .bind(&new.prefix)
        .bind(&new.token_hash)
        .bind(new.created_at)
        .bind(new.expires_at)
        .bind(new.role.map(Role::as_str))
        .fetch_one(&mut *tx)
        .await
        .db()?;
    let token = token(&row)?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.db()?;
    Ok(token)
}

pub(crate) async fn find_api_token(
    pool: &PgPool,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> StoreResult<Option<(ApiToken, Admin)>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS}, {ADMIN_COLUMNS}
         FROM api_tokens t JOIN admins a ON a.id = t.admin_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL
           AND (t.expires_at IS NULL OR t.expires_at > $2)"
    );
    let row = sqlx::query(&sql)
        .bind(token_hash)
        .bind(now)
        .fetch_optional(pool)
        .await
        .db()?;
    match row {
        Some(row) => Ok(Some((token(&row)?, rows::admin(&row)?))),
        None => Ok(None),
    }
}

pub(crate) async fn list_api_tokens(pool: &PgPool) -> StoreResult<Vec<ApiToken>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t ORDER BY t.id");
    let found = sqlx::query(&sql).fetch_all(pool).await.db()?;
    found.iter().map(token).collect()
}

/// Revoking a revoked token keeps its first revocation time and records nothing new.
pub(crate) async fn revoke_api_token(
    pool: &PgPool,
    id: i64,
    now: DateTime<Utc>,
    audit: &AuditEntry,
) -> StoreResult<()> {
    let mut tx = pool.begin().await.db()?;
    let revoked_at: Option<Option<DateTime<Utc>>> =
        sqlx::query_scalar("SELECT revoked_at FROM api_tokens WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
    match revoked_at {
        None => return Err(StoreError::NotFound("api token")),
        Some(Some(_)) => return tx.commit().await.db(),
        Some(None) => {}
    }
    sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.db()
}

fn token(row: &PgRow) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: row.try_get("id").db()?,
        admin_id: row.try_get("admin_id").db()?,
        name: row.try_get("name").db()?,
        prefix: row.try_get("prefix").db()?,
        created_at: row.try_get("created_at").db()?,
        expires_at: row.try_get("expires_at").db()?,
        revoked_at: row.try_get("revoked_at").db()?,
        role: row
            .try_get::<Option<String>, _>("role")
            .db()?
            .map(|r| Role::parse(&r).map_err(|e| crate::error::corrupt("token role", e)))
            .transpose()?,
    })
}
