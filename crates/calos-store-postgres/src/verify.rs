//! [`VerifyStore`] for postgres: signing keys, instances, deferred verify writes.
//! Batches are written with one multi-row statement per table (`UNNEST`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::ids::InstallId;
use calos_store::{
    DomainSeen, FoldedVerifications, Instance, SigningKeyRecord, StoreError, StoreResult,
    VerifySeen, VerifyStore,
};

use crate::audit::insert_audit;
use crate::error::{corrupt, DbResultExt};
use crate::PostgresStore;

#[async_trait]
impl VerifyStore for PostgresStore {
    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        let rows = sqlx::query(
            "SELECT kid, public_key, sealed_private_key, nonce, created_at, activated_at,
                    retired_at, publish_until
             FROM signing_keys ORDER BY created_at, kid",
        )
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(key_row).collect()
    }

    async fn insert_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.db()?;
        // The partial unique index on active keys settles a race between
        // nodes: the loser inserts nothing.
        let inserted = sqlx::query(
            "INSERT INTO signing_keys (kid, public_key, sealed_private_key, nonce, created_at,
                 activated_at, retired_at, publish_until)
             SELECT $1, $2, $3, $4, $5, $6, NULL, NULL
             WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL)
             ON CONFLICT DO NOTHING",
        )
        .bind(&key.kid)
        .bind(&key.public_key)
        .bind(&key.sealed_private_key)
        .bind(&key.nonce)
        .bind(key.created_at)
        .bind(key.activated_at)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        old_publish_until: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.db()?;
        sqlx::query(
            "UPDATE signing_keys SET retired_at = $1, publish_until = $2 WHERE retired_at IS NULL",
        )
        .bind(key.activated_at)
        .bind(old_publish_until)
        .execute(&mut *tx)
        .await
        .db()?;
        insert_key(&mut tx, key).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn record_verifications(&self, seen: &[VerifySeen]) -> StoreResult<()> {
        if seen.is_empty() {
            return Ok(());
        }
        let f = FoldedVerifications::fold(seen);
        let mut tx = self.pool.begin().await.db()?;

        let column = |get: fn(&VerifySeen) -> Option<String>| -> Vec<Option<String>> {
            f.instances.iter().map(|(_, s)| get(s)).collect()
        };
        let installs: Vec<&str> = f
            .instances
            .iter()
            .map(|(_, s)| s.install_id.as_str())
            .collect();
        let ids: Vec<&str> = f
            .instances
            .iter()
            .map(|(_, s)| s.instance_id.as_str())
            .collect();
        let firsts: Vec<DateTime<Utc>> = f.instances.iter().map(|(t, _)| *t).collect();
        let lasts: Vec<DateTime<Utc>> = f.instances.iter().map(|(_, s)| s.at).collect();
        // JOIN licenses: entries for installs that are gone are skipped
        // instead of failing the whole batch.
        sqlx::query(
            "INSERT INTO verify_instances (install_id, instance_id, first_seen_at, last_seen_at,
                 domain, version, ip, user_agent)
             SELECT b.install_id, b.instance_id, b.first_seen_at, b.last_seen_at,
                    b.domain, b.version, b.ip, b.user_agent
             FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[],
                         $5::text[], $6::text[], $7::text[], $8::text[])
                  AS b(install_id, instance_id, first_seen_at, last_seen_at, domain, version, ip, user_agent)
             JOIN licenses l ON l.install_id = b.install_id
             ON CONFLICT (install_id, instance_id) DO UPDATE SET
                 first_seen_at = LEAST(verify_instances.first_seen_at, EXCLUDED.first_seen_at),
                 domain = CASE WHEN EXCLUDED.last_seen_at >= verify_instances.last_seen_at
                          THEN EXCLUDED.domain ELSE verify_instances.domain END,
                 version = CASE WHEN EXCLUDED.last_seen_at >= verify_instances.last_seen_at
                          THEN EXCLUDED.version ELSE verify_instances.version END,
                 ip = CASE WHEN EXCLUDED.last_seen_at >= verify_instances.last_seen_at
                          THEN EXCLUDED.ip ELSE verify_instances.ip END,
                 user_agent = CASE WHEN EXCLUDED.last_seen_at >= verify_instances.last_seen_at
                          THEN EXCLUDED.user_agent ELSE verify_instances.user_agent END,
                 last_seen_at = GREATEST(verify_instances.last_seen_at, EXCLUDED.last_seen_at)",
        )
        .bind(&installs)
        .bind(&ids)
        .bind(&firsts)
        .bind(&lasts)
        .bind(column(|s| s.domain.clone()))
        .bind(column(|s| s.version.clone()))
        .bind(column(|s| s.ip.clone()))
        .bind(column(|s| s.user_agent.clone()))
        .execute(&mut *tx)
        .await
        .db()?;

        if !f.domains.is_empty() {
            let installs: Vec<&str> = f.domains.iter().map(|d| d.0.as_str()).collect();
            let domains: Vec<&str> = f.domains.iter().map(|d| d.1.as_str()).collect();
            let firsts: Vec<DateTime<Utc>> = f.domains.iter().map(|d| d.2).collect();
            let lasts: Vec<DateTime<Utc>> = f.domains.iter().map(|d| d.3).collect();
            sqlx::query(
                "INSERT INTO verify_domains (install_id, domain, first_seen_at, last_seen_at)
                 SELECT b.install_id, b.domain, b.first_seen_at, b.last_seen_at
                 FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])
                      AS b(install_id, domain, first_seen_at, last_seen_at)
                 JOIN licenses l ON l.install_id = b.install_id
                 ON CONFLICT (install_id, domain) DO UPDATE SET
                     first_seen_at = LEAST(verify_domains.first_seen_at, EXCLUDED.first_seen_at),
                     last_seen_at = GREATEST(verify_domains.last_seen_at, EXCLUDED.last_seen_at)",
            )
            .bind(&installs)
            .bind(&domains)
            .bind(&firsts)
            .bind(&lasts)
            .execute(&mut *tx)
            .await
            .db()?;
        }

        let installs: Vec<&str> = f.licenses.iter().map(|l| l.0.as_str()).collect();
        let ats: Vec<DateTime<Utc>> = f.licenses.iter().map(|l| l.1).collect();
        // Touches last_seen_at only, so the version (and the change
        // notification keyed on it) stays as it is.
        sqlx::query(
            "UPDATE licenses l SET last_seen_at = GREATEST(l.last_seen_at, b.at)
             FROM UNNEST($1::text[], $2::timestamptz[]) AS b(install_id, at)
             WHERE l.install_id = b.install_id
               AND (l.last_seen_at IS NULL OR l.last_seen_at < b.at)",
        )
        .bind(&installs)
        .bind(&ats)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()
    }

    async fn list_instances(&self, install_id: &InstallId) -> StoreResult<Vec<Instance>> {
        let rows = sqlx::query(
            "SELECT instance_id, first_seen_at, last_seen_at, domain, version, ip, user_agent
             FROM verify_instances WHERE install_id = $1
             ORDER BY last_seen_at DESC, instance_id COLLATE \"C\"",
        )
        .bind(install_id.as_str())
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                Ok(Instance {
                    install_id: install_id.clone(),
                    instance_id: row.try_get("instance_id").db()?,
                    first_seen_at: row.try_get("first_seen_at").db()?,
                    last_seen_at: row.try_get("last_seen_at").db()?,
                    domain: row.try_get("domain").db()?,
                    version: row.try_get("version").db()?,
                    ip: row.try_get("ip").db()?,
                    user_agent: row.try_get("user_agent").db()?,
                })
            })
            .collect()
    }

    async fn count_active_instances(
        &self,
        install_id: &InstallId,
        since: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM verify_instances WHERE install_id = $1 AND last_seen_at >= $2",
        )
        .bind(install_id.as_str())
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .db()?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn list_domains_seen(&self, install_id: &InstallId) -> StoreResult<Vec<DomainSeen>> {
        let rows = sqlx::query(
            "SELECT domain, first_seen_at, last_seen_at FROM verify_domains
             WHERE install_id = $1 ORDER BY domain COLLATE \"C\"",
        )
        .bind(install_id.as_str())
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                Ok(DomainSeen {
                    domain: row.try_get("domain").db()?,
                    first_seen_at: row.try_get("first_seen_at").db()?,
                    last_seen_at: row.try_get("last_seen_at").db()?,
                })
            })
            .collect()
    }

    async fn count_domains_seen(
        &self,
        install_id: &InstallId,
        since: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM verify_domains WHERE install_id = $1 AND last_seen_at >= $2",
        )
        .bind(install_id.as_str())
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .db()?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

fn key_row(row: &PgRow) -> StoreResult<SigningKeyRecord> {
    let kid: String = row.try_get("kid").db()?;
    if kid.is_empty() {
        return Err(corrupt("signing key id", "empty"));
    }
    Ok(SigningKeyRecord {
        kid,
        public_key: row.try_get("public_key").db()?,
        sealed_private_key: row.try_get("sealed_private_key").db()?,
        nonce: row.try_get("nonce").db()?,
        created_at: row.try_get("created_at").db()?,
        activated_at: row.try_get("activated_at").db()?,
        retired_at: row.try_get("retired_at").db()?,
        publish_until: row.try_get("publish_until").db()?,
    })
}

async fn insert_key(
    tx: &mut Transaction<'static, Postgres>,
    key: &SigningKeyRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, public_key, sealed_private_key, nonce, created_at,
             activated_at, retired_at, publish_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&key.kid)
    .bind(&key.public_key)
    .bind(&key.sealed_private_key)
    .bind(&key.nonce)
    .bind(key.created_at)
    .bind(key.activated_at)
    .bind(key.retired_at)
    .bind(key.publish_until)
    .execute(&mut **tx)
    .await
    .map_err(|e| match crate::error::map(e) {
        StoreError::Conflict { .. } => {
            StoreError::conflict("kid", "a signing key with this kid exists")
        }
        other => other,
    })?;
    Ok(())
}
