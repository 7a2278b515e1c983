//! Login protection: sessions with an idle timeout, audited logins, TOTP
//! factors and the challenges of two-step logins ([`SecurityStore`]).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;

use calos_core::audit::AuditEntry;
use calos_store::{Admin, NewSession, SecurityStore, Session, StoreError, StoreResult, TotpFactor};

use crate::audit::insert_audit;
use crate::error::DbResultExt;
use crate::rows::{self, ADMIN_COLUMNS};
use crate::sessions::insert_session;
use crate::PostgresStore;

fn before(now: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
    let span = chrono::Duration::from_std(span).unwrap_or(chrono::Duration::MAX);
    now.checked_sub_signed(span)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn factor(row: &PgRow) -> StoreResult<TotpFactor> {
    Ok(TotpFactor {
        admin_id: row.try_get("admin_id").db()?,
        sealed_secret: row.try_get("sealed_secret").db()?,
        enabled: row.try_get("enabled").db()?,
        last_step: row.try_get("last_step").db()?,
        created_at: row.try_get("created_at").db()?,
    })
}

#[async_trait]
impl SecurityStore for PostgresStore {
    async fn start_session(&self, session: &NewSession, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.pool().begin().await.db()?;
        insert_session(&mut *tx, session).await?;
        // Last: the audit append takes the chain's advisory lock until commit.
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn active_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
        idle: Duration,
        touch_after: Duration,
    ) -> StoreResult<Option<(Session, Admin)>> {
        let sql = format!(
            "SELECT s.admin_id, s.csrf_token, s.created_at, s.expires_at, s.last_seen_at, {ADMIN_COLUMNS}
             FROM admin_sessions s JOIN admins a ON a.id = s.admin_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3"
        );
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .bind(now)
            .bind(before(now, idle))
            .fetch_optional(self.pool())
            .await
            .db()?;
        let Some(row) = row else { return Ok(None) };
        let session = Session {
            admin_id: row.try_get("admin_id").db()?,
            csrf_token: row.try_get("csrf_token").db()?,
            created_at: row.try_get("created_at").db()?,
            expires_at: row.try_get("expires_at").db()?,
        };
        let last_seen: DateTime<Utc> = row.try_get("last_seen_at").db()?;
        if last_seen <= before(now, touch_after) {
            sqlx::query(
                "UPDATE admin_sessions SET last_seen_at = greatest(last_seen_at, $2)
                 WHERE token_hash = $1",
            )
            .bind(token_hash)
            .bind(now)
            .execute(self.pool())
            .await
            .db()?;
        }
        Ok(Some((session, rows::admin(&row)?)))
    }

    async fn end_admin_sessions(&self, admin_id: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM admin_sessions WHERE admin_id = $1")
            .bind(admin_id)
            .execute(self.pool())
            .await
            .db()?;
        Ok(done.rows_affected())
    }

    async fn record_security_event(&self, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.pool().begin().await.db()?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn totp_factor(&self, admin_id: i64) -> StoreResult<Option<TotpFactor>> {
        let row = sqlx::query(
            "SELECT admin_id, sealed_secret, enabled, last_step, created_at
             FROM admin_totp WHERE admin_id = $1",
        )
        .bind(admin_id)
        .fetch_optional(self.pool())
        .await
        .db()?;
        row.as_ref().map(factor).transpose()
    }

    async fn begin_totp_enrolment(
        &self,
        admin_id: i64,
        sealed_secret: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.pool().begin().await.db()?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM admins WHERE id = $1 FOR UPDATE")
                .bind(admin_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
        if exists.is_none() {
            return Err(StoreError::NotFound("admin"));
        }
        let done = sqlx::query(
            "INSERT INTO admin_totp (admin_id, sealed_secret, enabled, last_step, created_at)
             VALUES ($1, $2, FALSE, NULL, $3)
             ON CONFLICT (admin_id) DO UPDATE
                SET sealed_secret = EXCLUDED.sealed_secret, last_step = NULL,
                    created_at = EXCLUDED.created_at
              WHERE NOT admin_totp.enabled",
        )
        .bind(admin_id)
        .bind(sealed_secret)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::conflict(
                "totp",
                "two-factor authentication is already enabled",
            ));
        }
        tx.commit().await.db()
    }

    async fn enable_totp(&self, admin_id: i64, step: i64, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.pool().begin().await.db()?;
        let done = sqlx::query(
            "UPDATE admin_totp SET enabled = TRUE, last_step = $2
             WHERE admin_id = $1 AND NOT enabled",
        )
        .bind(admin_id)
        .bind(step)
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("pending two-factor enrolment"));
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn remove_totp(&self, admin_id: i64, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.pool().begin().await.db()?;
        let done = sqlx::query("DELETE FROM admin_totp WHERE admin_id = $1")
            .bind(admin_id)
            .execute(&mut *tx)
            .await
            .db()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("two-factor authentication"));
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn claim_totp_step(&self, admin_id: i64, step: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE admin_totp SET last_step = $2
             WHERE admin_id = $1 AND enabled AND (last_step IS NULL OR last_step < $2)",
        )
        .bind(admin_id)
        .bind(step)
        .execute(self.pool())
        .await
        .db()?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_login_challenge(
        &self,
        token_hash: &[u8],
        admin_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.pool().begin().await.db()?;
        sqlx::query("DELETE FROM login_challenges WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
        sqlx::query(
            "INSERT INTO login_challenges (token_hash, admin_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(admin_id)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()
    }

    async fn take_login_challenge(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Admin>> {
        let sql = format!(
            "WITH taken AS (
                DELETE FROM login_challenges WHERE token_hash = $1
                RETURNING admin_id, expires_at)
             SELECT {ADMIN_COLUMNS} FROM taken t JOIN admins a ON a.id = t.admin_id
             WHERE t.expires_at > $2"
        );
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(self.pool())
            .await
            .db()?;
        row.as_ref().map(rows::admin).transpose()
    }
}
