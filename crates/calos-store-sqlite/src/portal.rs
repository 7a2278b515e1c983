//! The customer portal's accounts and sessions, and customer domain claims.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;

use calos_core::audit::AuditEntry;
use calos_core::customer::{Domain, Email};
use calos_core::ids::InstallId;
use calos_store::{
    DomainClaim, HostOwner, PortalInvite, PortalSession, PortalStore, PortalUser, StoreError,
    StoreResult,
};

use crate::db::{
    commit, corrupt, db_err, get, insert_audit, micros, opt_micros, opt_time, time, write_tx,
};
use crate::SqliteStore;

const USER_COLUMNS: &str =
    "u.id, u.install_id, u.email, u.password_hash IS NOT NULL AS active, u.created_at, u.last_login_at";

fn install(raw: &str) -> StoreResult<InstallId> {
    InstallId::parse(raw).map_err(|e| corrupt("install id", e))
}

fn user(row: &SqliteRow) -> StoreResult<PortalUser> {
    Ok(PortalUser {
        id: get(row, "id")?,
        install_id: install(&get::<String>(row, "install_id")?)?,
        email: Email::parse(&get::<String>(row, "email")?)
            .map_err(|e| corrupt("portal e-mail", e))?,
        active: get(row, "active")?,
        created_at: time(row, "created_at")?,
        last_login_at: opt_time(row, "last_login_at")?,
    })
}

fn claim(row: &SqliteRow) -> StoreResult<DomainClaim> {
    Ok(DomainClaim {
        domain: Domain::parse(&get::<String>(row, "domain")?).map_err(|e| corrupt("domain", e))?,
        install_id: install(&get::<String>(row, "install_id")?)?,
        token: get(row, "token")?,
        created_at: time(row, "created_at")?,
        verified_at: opt_time(row, "verified_at")?,
        checked_at: opt_time(row, "checked_at")?,
    })
}

async fn user_by_id(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    id: i64,
) -> StoreResult<PortalUser> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM portal_users u WHERE u.id = ?"
    ))
    .bind(id)
    .fetch_one(&mut **tx)
    .await
    .map_err(db_err)?;
    user(&row)
}

#[async_trait]
impl PortalStore for SqliteStore {
    async fn invite_portal_user(
        &self,
        invite: &PortalInvite,
        audit: &AuditEntry,
    ) -> StoreResult<PortalUser> {
        let mut tx = write_tx(&self.pool).await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM licenses WHERE install_id = ?")
            .bind(invite.install_id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound("license"));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO portal_users (install_id, email, invite_token_hash, invite_expires_at, created_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (install_id, email) DO UPDATE SET \
             invite_token_hash = excluded.invite_token_hash, invite_expires_at = excluded.invite_expires_at \
             RETURNING id",
        )
        .bind(invite.install_id.as_str())
        .bind(invite.email.as_str())
        .bind(&invite.token_hash)
        .bind(micros(invite.expires_at))
        .bind(micros(invite.now))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(&mut tx, audit).await?;
        let stored = user_by_id(&mut tx, id).await?;
        commit(tx).await?;
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
        let mut tx = write_tx(&self.pool).await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE portal_users SET password_hash = ?, invite_token_hash = NULL, invite_expires_at = NULL \
             WHERE invite_token_hash = ? AND invite_expires_at > ? AND install_id = ? RETURNING id",
        )
        .bind(password_hash)
        .bind(token_hash)
        .bind(micros(now))
        .bind(install_id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(id) = id else { return Ok(None) };
        // Sessions from before a password reset end with it.
        sqlx::query("DELETE FROM portal_sessions WHERE user_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let mut audit = audit.clone();
        audit.target_id = id.to_string();
        insert_audit(&mut tx, &audit).await?;
        let stored = user_by_id(&mut tx, id).await?;
        commit(tx).await?;
        Ok(Some(stored))
    }

    async fn list_portal_users(&self, install_id: &InstallId) -> StoreResult<Vec<PortalUser>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM portal_users u WHERE u.install_id = ? ORDER BY u.email"
        ))
        .bind(install_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(user).collect()
    }

    async fn get_portal_login(
        &self,
        install_id: &InstallId,
        email: &Email,
    ) -> StoreResult<Option<(PortalUser, Option<String>)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM portal_users u \
             WHERE u.install_id = ? AND u.email = ?"
        ))
        .bind(install_id.as_str())
        .bind(email.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|row| Ok((user(&row)?, get(&row, "password_hash")?)))
            .transpose()
    }

    async fn create_portal_session(&self, s: &PortalSession) -> StoreResult<()> {
        let mut tx = write_tx(&self.pool).await?;
        sqlx::query(
            "INSERT INTO portal_sessions (token_hash, user_id, install_id, csrf_token, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&s.token_hash)
        .bind(s.user_id)
        .bind(s.install_id.as_str())
        .bind(&s.csrf_token)
        .bind(micros(s.created_at))
        .bind(micros(s.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE portal_users SET last_login_at = ? WHERE id = ?")
            .bind(micros(s.created_at))
            .bind(s.user_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        commit(tx).await
    }

    async fn get_portal_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(PortalSession, PortalUser)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, s.token_hash, s.csrf_token, s.created_at AS s_created, \
             s.expires_at, s.install_id AS s_install FROM portal_sessions s \
             JOIN portal_users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ? AND u.password_hash IS NOT NULL"
        ))
        .bind(token_hash)
        .bind(micros(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|row| {
            let u = user(&row)?;
            Ok((
                PortalSession {
                    token_hash: get(&row, "token_hash")?,
                    user_id: u.id,
                    install_id: install(&get::<String>(&row, "s_install")?)?,
                    csrf_token: get(&row, "csrf_token")?,
                    created_at: time(&row, "s_created")?,
                    expires_at: time(&row, "expires_at")?,
                },
                u,
            ))
        })
        .transpose()
    }

    async fn delete_portal_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM portal_sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn ensure_domain_claim(
        &self,
        install_id: &InstallId,
        domain: &Domain,
        token: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<DomainClaim> {
        let mut tx = write_tx(&self.pool).await?;
        // A claim left by another install (the domain moved) starts over.
        sqlx::query(
            "INSERT INTO domain_claims (domain, install_id, token, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (domain) DO UPDATE SET install_id = excluded.install_id, token = excluded.token, \
             created_at = excluded.created_at, verified_at = NULL, checked_at = NULL \
             WHERE domain_claims.install_id <> excluded.install_id",
        )
        .bind(domain.as_str())
        .bind(install_id.as_str())
        .bind(token)
        .bind(micros(now))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let row = sqlx::query("SELECT * FROM domain_claims WHERE domain = ?")
            .bind(domain.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let stored = claim(&row)?;
        commit(tx).await?;
        Ok(stored)
    }

    async fn list_domain_claims(&self, install_id: &InstallId) -> StoreResult<Vec<DomainClaim>> {
        let rows = sqlx::query("SELECT * FROM domain_claims WHERE install_id = ? ORDER BY domain")
            .bind(install_id.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
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
        let mut tx = write_tx(&self.pool).await?;
        let row = sqlx::query(
            "UPDATE domain_claims SET checked_at = ?, \
             verified_at = CASE WHEN ? THEN COALESCE(verified_at, ?) ELSE verified_at END \
             WHERE domain = ? AND install_id = ? RETURNING *",
        )
        .bind(micros(now))
        .bind(verified)
        .bind(opt_micros(Some(now)))
        .bind(domain.as_str())
        .bind(install_id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Err(StoreError::NotFound("domain claim"));
        };
        let stored = claim(&row)?;
        insert_audit(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(stored)
    }

    async fn find_host_owner(
        &self,
        host: &Domain,
        wildcards: &[String],
    ) -> StoreResult<Option<HostOwner>> {
        // The exact host first, then the nearest wildcard parent.
        let mut candidates = vec![host.as_str().to_owned()];
        candidates.extend(wildcards.iter().cloned());
        for candidate in candidates {
            let row = sqlx::query(
                "SELECT d.install_id, d.domain, c.verified_at FROM license_domains d \
                 LEFT JOIN domain_claims c ON c.domain = d.domain AND c.install_id = d.install_id \
                 WHERE d.domain = ?",
            )
            .bind(&candidate)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
            if let Some(row) = row {
                return Ok(Some(HostOwner {
                    install_id: install(&get::<String>(&row, "install_id")?)?,
                    matched: Domain::parse(&get::<String>(&row, "domain")?)
                        .map_err(|e| corrupt("domain", e))?,
                    verified: opt_time(&row, "verified_at")?.is_some(),
                }));
            }
        }
        Ok(None)
    }
}
