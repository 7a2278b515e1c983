//! Admin login sessions, keyed by the hash of the cookie value.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool, Row};

use calos_store::{Admin, NewSession, Session, StoreResult};

use crate::error::DbResultExt;
use crate::rows::{self, ADMIN_COLUMNS};

pub(crate) async fn create_session(pool: &PgPool, session: &NewSession) -> StoreResult<()> {
    insert_session(pool, session).await
}

/// A new session counts as last seen when it was created (idle timeout).
pub(crate) async fn insert_session<'e>(
    executor: impl PgExecutor<'e>,
    session: &NewSession,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO admin_sessions (token_hash, admin_id, csrf_token, created_at, expires_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $4)",
    )
    .bind(&session.token_hash)
    .bind(session.admin_id)
    .bind(&session.csrf_token)
    .bind(session.created_at)
    .bind(session.expires_at)
    .execute(executor)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn get_session(
    pool: &PgPool,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> StoreResult<Option<(Session, Admin)>> {
    let sql = format!(
        "SELECT s.admin_id, s.csrf_token, s.created_at, s.expires_at, {ADMIN_COLUMNS}
         FROM admin_sessions s JOIN admins a ON a.id = s.admin_id
         WHERE s.token_hash = $1 AND s.expires_at > $2"
    );
    let row = sqlx::query(&sql)
        .bind(token_hash)
        .bind(now)
        .fetch_optional(pool)
        .await
        .db()?;
    let Some(row) = row else { return Ok(None) };
    let session = Session {
        admin_id: row.try_get("admin_id").db()?,
        csrf_token: row.try_get("csrf_token").db()?,
        created_at: row.try_get("created_at").db()?,
        expires_at: row.try_get("expires_at").db()?,
    };
    Ok(Some((session, rows::admin(&row)?)))
}

pub(crate) async fn delete_session(pool: &PgPool, token_hash: &[u8]) -> StoreResult<()> {
    sqlx::query("DELETE FROM admin_sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(pool)
        .await
        .db()?;
    Ok(())
}

pub(crate) async fn delete_expired_sessions(pool: &PgPool, now: DateTime<Utc>) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await
        .db()?;
    Ok(done.rows_affected())
}
