//! Login protection: sessions with an idle timeout, audited logins, TOTP
//! factors and the challenges of two-step logins ([`SecurityStore`]).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;

use calos_core::audit::AuditEntry;
use calos_store::{Admin, NewSession, SecurityStore, Session, StoreError, StoreResult, TotpFactor};

use crate::admins::{admin, ADMIN_COLUMNS};
use crate::db::{commit, count, db_err, get, insert_audit, micros, time, write_tx};
use crate::SqliteStore;

fn before(now: DateTime<Utc>, span: Duration) -> i64 {
    let span = i64::try_from(span.as_micros()).unwrap_or(i64::MAX);
    micros(now).saturating_sub(span)
}

fn factor(row: &SqliteRow) -> StoreResult<TotpFactor> {
    Ok(TotpFactor {
        admin_id: get(row, "admin_id")?,
        sealed_secret: get(row, "sealed_secret")?,
        enabled: get(row, "enabled")?,
        last_step: get(row, "last_step")?,
        created_at: time(row, "created_at")?,
    })
}

#[async_trait]
impl SecurityStore for SqliteStore {
    async fn start_session(&self, s: &NewSession, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = write_tx(&self.pool).await?;
        crate::admins::insert_session(&mut tx, s).await?;
        insert_audit(&mut tx, audit).await?;
        commit(tx).await
    }

    async fn active_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
        idle: Duration,
        touch_after: Duration,
    ) -> StoreResult<Option<(Session, Admin)>> {
        let row = sqlx::query(&format!(
            "SELECT {ADMIN_COLUMNS}, s.csrf_token, s.created_at, s.expires_at, s.last_seen_at \
             FROM admin_sessions s JOIN admins a ON a.id = s.admin_id \
             WHERE s.token_hash = ? AND s.expires_at > ? AND s.last_seen_at > ?"
        ))
        .bind(token_hash)
        .bind(micros(now))
        .bind(before(now, idle))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let a = admin(&row)?;
        let session = Session {
            admin_id: a.id,
            csrf_token: get(&row, "csrf_token")?,
            created_at: time(&row, "created_at")?,
            expires_at: time(&row, "expires_at")?,
        };
        let last_seen: i64 = get(&row, "last_seen_at")?;
        if last_seen <= before(now, touch_after) {
            // A plain write outside a read transaction: readers never wait for it.
            sqlx::query("UPDATE admin_sessions SET last_seen_at = max(last_seen_at, ?) WHERE token_hash = ?")
                .bind(micros(now))
                .bind(token_hash)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        }
        Ok(Some((session, a)))
    }

    async fn end_admin_sessions(&self, admin_id: i64) -> StoreResult<u64> {
        let mut tx = write_tx(&self.pool).await?;
        let done = sqlx::query("DELETE FROM admin_sessions WHERE admin_id = ?")
            .bind(admin_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        commit(tx).await?;
        Ok(done.rows_affected())
    }

    async fn record_security_event(&self, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = write_tx(&self.pool).await?;
        insert_audit(&mut tx, audit).await?;
        commit(tx).await
    }

    async fn totp_factor(&self, admin_id: i64) -> StoreResult<Option<TotpFactor>> {
        let row = sqlx::query(
            "SELECT admin_id, sealed_secret, enabled, last_step, created_at \
             FROM admin_totp WHERE admin_id = ?",
        )
        .bind(admin_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(factor).transpose()
    }

    async fn begin_totp_enrolment(
        &self,
        admin_id: i64,
        sealed_secret: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = write_tx(&self.pool).await?;
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admins WHERE id = ?")
            .bind(admin_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        if count(exists) == 0 {
            return Err(StoreError::NotFound("admin"));
        }
        let done = sqlx::query(
            "INSERT INTO admin_totp (admin_id, sealed_secret, enabled, last_step, created_at) \
             VALUES (?1, ?2, 0, NULL, ?3) \
             ON CONFLICT (admin_id) DO UPDATE SET sealed_secret = ?2, last_step = NULL, created_at = ?3 \
             WHERE admin_totp.enabled = 0",
        )
        .bind(admin_id)
        .bind(sealed_secret)
        .bind(micros(now))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::conflict(
                "totp",
                "two-factor authentication is already enabled",
            ));
        }
        commit(tx).await
    }

    async fn enable_totp(&self, admin_id: i64, step: i64, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = write_tx(&self.pool).await?;
        let done = sqlx::query(
            "UPDATE admin_totp SET enabled = 1, last_step = ? WHERE admin_id = ? AND enabled = 0",
        )
        .bind(step)
        .bind(admin_id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("pending two-factor enrolment"));
        }
        insert_audit(&mut tx, audit).await?;
        commit(tx).await
    }

    async fn remove_totp(&self, admin_id: i64, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = write_tx(&self.pool).await?;
        let done = sqlx::query("DELETE FROM admin_totp WHERE admin_id = ?")
            .bind(admin_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("two-factor authentication"));
        }
        insert_audit(&mut tx, audit).await?;
        commit(tx).await
    }

    async fn claim_totp_step(&self, admin_id: i64, step: i64) -> StoreResult<bool> {
        let mut tx = write_tx(&self.pool).await?;
        let done = sqlx::query(
            "UPDATE admin_totp SET last_step = ?1 \
             WHERE admin_id = ?2 AND enabled = 1 AND (last_step IS NULL OR last_step < ?1)",
        )
        .bind(step)
        .bind(admin_id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit(tx).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_login_challenge(
        &self,
        token_hash: &[u8],
        admin_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = write_tx(&self.pool).await?;
        sqlx::query("DELETE FROM login_challenges WHERE expires_at <= ?")
            .bind(micros(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO login_challenges (token_hash, admin_id, expires_at) VALUES (?, ?, ?)",
        )
        .bind(token_hash)
        .bind(admin_id)
        .bind(micros(expires_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit(tx).await
    }

    async fn take_login_challenge(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Admin>> {
        let mut tx = write_tx(&self.pool).await?;
        let taken: Option<(i64, i64)> = sqlx::query_as(
            "DELETE FROM login_challenges WHERE token_hash = ? RETURNING admin_id, expires_at",
        )
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let found = match taken {
            Some((admin_id, expires_at)) if expires_at > micros(now) => {
                let row = sqlx::query(&format!(
                    "SELECT {ADMIN_COLUMNS} FROM admins a WHERE a.id = ?"
                ))
                .bind(admin_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
                row.as_ref().map(admin).transpose()?
            }
            _ => None,
        };
        commit(tx).await?;
        Ok(found)
    }
}
