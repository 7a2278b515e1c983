//! The customer portal's accounts and sessions, and customer domain claims.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::customer::{Domain, Email};
use calos_core::ids::InstallId;
use calos_store::{
    DomainClaim, HostOwner, PortalInvite, PortalSession, PortalStore, PortalUser, StoreError,
    StoreResult,
};

use crate::audit::insert_audit;
use crate::error::{corrupt, DbResultExt};
use crate::{rows, PostgresStore};

const USER_COLUMNS: &str =
    "u.id, u.install_id, u.email, u.password_hash IS NOT NULL AS active, u.created_at, u.last_login_at";

fn user(row: &PgRow) -> StoreResult<PortalUser> {
    let email: String = row.try_get("email").db()?;
    Ok(PortalUser {
        id: row.try_get("id").db()?,
        install_id: rows::install_id(&row.try_get::<String, _>("install_id").db()?)?,
        email: Email::parse(&email).map_err(|e| corrupt("portal e-mail", e))?,
        active: row.try_get("active").db()?,
        created_at: row.try_get("created_at").db()?,
        last_login_at: row.try_get("last_login_at").db()?,
    })
}

fn claim(row: &PgRow) -> StoreResult<DomainClaim> {
    let domain: String = row.try_get("domain").db()?;
    Ok(DomainClaim {
        domain: Domain::parse(&domain).map_err(|e| corrupt("domain", e))?,
        install_id: rows::install_id(&row.try_get::<String, _>("install_id").db()?)?,
        token: row.try_get("token").db()?,
        created_at: row.try_get("created_at").db()?,
        verified_at: row.try_get("verified_at").db()?,
        checked_at: row.try_get("checked_at").db()?,
    })
}

async fn user_by_id(tx: &mut Transaction<'static, Postgres>, id: i64) -> StoreResult<PortalUser> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM portal_users u WHERE u.id = $1"
    ))
    .bind(id)
    .fetch_one(&mut **tx)
    .await
    .db()?;
    user(&row)
}

#[async_trait]
impl PortalStore for PostgresStore {
    async fn invite_portal_user(
        &self,
        invite: &PortalInvite,
        audit: &AuditEntry,
    ) -> StoreResult<PortalUser> {
        let mut tx = self.pool.begin().await.db()?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM licenses WHERE install_id = $1)")
                .bind(invite.install_id.as_str())
                .fetch_one(&mut *tx)
                .await
                .db()?;
        if !exists {
            return Err(StoreError::NotFound("license"));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO portal_users (install_id, email, invite_token_hash, invite_expires_at, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (install_id, email) DO UPDATE SET
                 invite_token_hash = EXCLUDED.invite_token_hash,
                 invite_expires_at = EXCLUDED.invite_expires_at
             RETURNING id",
        )
        .bind(invite.install_id.as_str())
        .bind(invite.email.as_str())
        .bind(&invite.token_hash)
        .bind(invite.expires_at)
        .bind(invite.now)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        insert_audit(&mut tx, audit).await?;
        let stored = user_by_id(&mut tx, id).await?;
        tx.commit().await.db()?;
        Ok(stored)
    }

    async fn accept_portal_invite(
        &self,
        install_id: &InstallId,
        token_hash: &[u8],
        password_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<Option<PortalUser>> {
        let mut tx = self.pool.begin().await.db()?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE portal_users SET password_hash = $1, invite_token_hash = NULL,
                 invite_expires_at = NULL
             WHERE invite_token_hash = $2 AND invite_expires_at > $3 AND install_id = $4 RETURNING id",
        )
        .bind(password_hash)
        .bind(token_hash)
        .bind(now)
        .bind(install_id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let Some(id) = id else { return Ok(None) };
        // Sessions from before a password reset end with it.
        sqlx::query("DELETE FROM portal_sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .db()?;
        let mut audit = audit.clone();
        audit.target_id = id.to_string();
        insert_audit(&mut tx, &audit).await?;
        let stored = user_by_id(&mut tx, id).await?;
        tx.commit().await.db()?;
        Ok(Some(stored))
    }

    async fn list_portal_users(&self, install_id: &InstallId) -> StoreResult<Vec<PortalUser>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM portal_users u WHERE u.install_id = $1 ORDER BY u.email"
        ))
        .bind(install_id.as_str())
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(user).collect()
    }

    async fn get_portal_login(
        &self,
        install_id: &InstallId,
        email: &Email,
    ) -> StoreResult<Option<(PortalUser, Option<String>)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM portal_users u
             WHERE u.install_id = $1 AND u.email = $2"
        ))
        .bind(install_id.as_str())
        .bind(email.as_str())
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.map(|row| Ok((user(&row)?, row.try_get("password_hash").db()?)))
            .transpose()
    }

    async fn create_portal_session(&self, s: &PortalSession) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.db()?;
        sqlx::query(
            "INSERT INTO portal_sessions (token_hash, user_id, install_id, csrf_token, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&s.token_hash)
        .bind(s.user_id)
        .bind(s.install_id.as_str())
        .bind(&s.csrf_token)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(&mut *tx)
        .await
        .db()?;
        sqlx::query("UPDATE portal_users SET last_login_at = $1 WHERE id = $2")
            .bind(s.created_at)
            .bind(s.user_id)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()
    }

    async fn get_portal_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(PortalSession, PortalUser)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, s.token_hash, s.csrf_token, s.created_at AS s_created,
                    s.expires_at, s.install_id AS s_install
             FROM portal_sessions s JOIN portal_users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.password_hash IS NOT NULL"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.map(|row| {
            let u = user(&row)?;
            Ok((
                PortalSession {
                    token_hash: row.try_get("token_hash").db()?,
                    user_id: u.id,
                    install_id: rows::install_id(&row.try_get::<String, _>("s_install").db()?)?,
                    csrf_token: row.try_get("csrf_token").db()?,
                    created_at: row.try_get("s_created").db()?,
                    expires_at: row.try_get("expires_at").db()?,
                },
                u,
            ))
        })
        .transpose()
    }

    async fn delete_portal_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM portal_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }

    async fn ensure_domain_claim(
        &self,
        install_id: &InstallId,
        domain: &Domain,
        token: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<DomainClaim> {
        let mut tx = self.pool.begin().await.db()?;
        // A claim left by another install (the domain moved) starts over.
        sqlx::query(
            "INSERT INTO domain_claims (domain, install_id, token, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (domain) DO UPDATE SET install_id = EXCLUDED.install_id,
                 token = EXCLUDED.token, created_at = EXCLUDED.created_at,
                 verified_at = NULL, checked_at = NULL
             WHERE domain_claims.install_id <> EXCLUDED.install_id",
        )
        .bind(domain.as_str())
        .bind(install_id.as_str())
        .bind(token)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
        let row = sqlx::query("SELECT * FROM domain_claims WHERE domain = $1")
            .bind(domain.as_str())
            .fetch_one(&mut *tx)
            .await
            .db()?;
        let stored = claim(&row)?;
        tx.commit().await.db()?;
        Ok(stored)
    }

    async fn list_domain_claims(&self, install_id: &InstallId) -> StoreResult<Vec<DomainClaim>> {
        let rows = sqlx::query("SELECT * FROM domain_claims WHERE install_id = $1 ORDER BY domain")
            .bind(install_id.as_str())
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(claim).collect()
    }

    async fn record_domain_check(
        &self,
        install_id: &InstallId,
        domain: &Domain,
        verified: bool,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<DomainClaim> {
        let mut tx = self.pool.begin().await.db()?;
        let row = sqlx::query(
            "UPDATE domain_claims SET checked_at = $1,
                 verified_at = CASE WHEN $2 THEN COALESCE(verified_at, $1) ELSE verified_at END
             WHERE domain = $3 AND install_id = $4 RETURNING *",
        )
        .bind(now)
        .bind(verified)
        .bind(domain.as_str())
        .bind(install_id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let Some(row) = row else {
            return Err(StoreError::NotFound("domain claim"));
        };
        let stored = claim(&row)?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(stored)
    }

    async fn find_host_owner(
        &self,
        host: &Domain,
        wildcards: &[String],
    ) -> StoreResult<Option<HostOwner>> {
        let mut candidates = vec![host.as_str().to_owned()];
        candidates.extend(wildcards.iter().cloned());
        // The exact host is the longest candidate, then the nearest wildcard.
        let row = sqlx::query(
            "SELECT d.install_id, d.domain, c.verified_at FROM license_domains d
             LEFT JOIN domain_claims c ON c.domain = d.domain AND c.install_id = d.install_id
             WHERE d.domain = ANY($1) ORDER BY length(d.domain) DESC LIMIT 1",
        )
        .bind(&candidates)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.map(|row| {
            let domain: String = row.try_get("domain").db()?;
            let verified: Option<DateTime<Utc>> = row.try_get("verified_at").db()?;
            Ok(HostOwner {
                install_id: rows::install_id(&row.try_get::<String, _>("install_id").db()?)?,
                matched: Domain::parse(&domain).map_err(|e| corrupt("domain", e))?,
                verified: verified.is_some(),
            })
        })
        .transpose()
    }
}
