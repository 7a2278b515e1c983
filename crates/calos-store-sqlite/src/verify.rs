//! [`VerifyStore`] for sqlite: signing keys, instances, deferred verify writes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::SqlitePool;

use calos_core::audit::AuditEntry;
use calos_core::ids::InstallId;
use calos_store::{
    DomainSeen, FoldedVerifications, Instance, SigningKeyRecord, StoreError, StoreResult,
    VerifySeen, VerifyStore,
};

use crate::db::{
    commit, corrupt, count, db_err, get, insert_audit, micros, opt_micros, opt_time, time, to_json,
    write_tx,
};
use crate::SqliteStore;

#[async_trait]
impl VerifyStore for SqliteStore {
    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        list_keys(&self.pool).await
    }

    async fn insert_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool> {
        let mut tx = write_tx(&self.pool).await?;
        let active: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM signing_keys WHERE retired_at IS NULL")
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if active.is_some() {
            return Ok(false);
        }
        insert_key(&mut tx, key).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        old_publish_until: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = write_tx(&self.pool).await?;
        sqlx::query(
            "UPDATE signing_keys SET retired_at = ?, publish_until = ? WHERE retired_at IS NULL",
        )
        .bind(micros(key.activated_at))
        .bind(micros(old_publish_until))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_key(&mut tx, key).await?;
        insert_audit(&mut tx, audit).await?;
        commit(tx).await
    }

    async fn record_verifications(&self, seen: &[VerifySeen]) -> StoreResult<()> {
        if seen.is_empty() {
            return Ok(());
        }
        let folded = FoldedVerifications::fold(seen);
        // Each table gets one statement over the whole batch, its rows bound
        // as one JSON array and unpacked by `json_each` inside SQLite: a
        // statement per row cost a round trip to the connection's thread
        // each (~30,000 for a batch of 10,000 instances), CPU taken from the
        // requests being served while a batch was written.
        let instances: Vec<_> = folded
            .instances
            .iter()
            .map(|(first, s)| {
                (
                    s.install_id.as_str(),
                    &s.instance_id,
                    micros(*first),
                    micros(s.at),
                    &s.domain,
                    &s.version,
                    &s.ip,
                    &s.user_agent,
                )
            })
            .collect();
        let domains: Vec<_> = folded
            .domains
            .iter()
            .map(|(install, domain, first, last)| {
                (install.as_str(), domain, micros(*first), micros(*last))
            })
            .collect();
        let licenses: Vec<_> = folded
            .licenses
            .iter()
            .map(|(install, at)| (install.as_str(), micros(*at)))
            .collect();
        let mut tx = write_tx(&self.pool).await?;
        // `WHERE EXISTS`: a batch entry for an install that is gone is
        // skipped instead of failing the whole batch. (It also keeps SQLite
        // from reading `ON CONFLICT` as a join constraint.)
        sqlx::query(
            "INSERT INTO verify_instances (install_id, instance_id, first_seen_at, last_seen_at, \
             domain, version, ip, user_agent) \
             SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7 \
             FROM json_each(?1) \
             WHERE EXISTS (SELECT 1 FROM licenses WHERE install_id = value->>0) \
             ON CONFLICT (install_id, instance_id) DO UPDATE SET \
             first_seen_at = MIN(first_seen_at, excluded.first_seen_at), \
             domain = CASE WHEN excluded.last_seen_at >= last_seen_at THEN excluded.domain ELSE domain END, \
             version = CASE WHEN excluded.last_seen_at >= last_seen_at THEN excluded.version ELSE version END, \
             ip = CASE WHEN excluded.last_seen_at >= last_seen_at THEN excluded.ip ELSE ip END, \
             user_agent = CASE WHEN excluded.last_seen_at >= last_seen_at THEN excluded.user_agent ELSE user_agent END, \
             last_seen_at = MAX(last_seen_at, excluded.last_seen_at)",
        )
        .bind(to_json(&instances, "verify instances")?)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if !domains.is_empty() {
            sqlx::query(
                "INSERT INTO verify_domains (install_id, domain, first_seen_at, last_seen_at) \
                 SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?1) \
                 WHERE EXISTS (SELECT 1 FROM licenses WHERE install_id = value->>0) \
                 ON CONFLICT (install_id, domain) DO UPDATE SET \
                 first_seen_at = MIN(first_seen_at, excluded.first_seen_at), \
                 last_seen_at = MAX(last_seen_at, excluded.last_seen_at)",
            )
            .bind(to_json(&domains, "verify domains")?)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        sqlx::query(
            "UPDATE licenses SET last_seen_at = MAX(COALESCE(licenses.last_seen_at, b.at), b.at) \
             FROM (SELECT value->>0 AS install_id, value->>1 AS at FROM json_each(?1)) AS b \
             WHERE licenses.install_id = b.install_id",
        )
        .bind(to_json(&licenses, "verify licenses")?)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit(tx).await
    }

    async fn list_instances(&self, install_id: &InstallId) -> StoreResult<Vec<Instance>> {
        let rows = sqlx::query(
            "SELECT instance_id, first_seen_at, last_seen_at, domain, version, ip, user_agent \
             FROM verify_instances WHERE install_id = ? \
             ORDER BY last_seen_at DESC, instance_id",
        )
        .bind(install_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(Instance {
                    install_id: install_id.clone(),
                    instance_id: get(row, "instance_id")?,
                    first_seen_at: time(row, "first_seen_at")?,
                    last_seen_at: time(row, "last_seen_at")?,
                    domain: get(row, "domain")?,
                    version: get(row, "version")?,
                    ip: get(row, "ip")?,
                    user_agent: get(row, "user_agent")?,
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
            "SELECT COUNT(*) FROM verify_instances WHERE install_id = ? AND last_seen_at >= ?",
        )
        .bind(install_id.as_str())
        .bind(micros(since))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(count(n))
    }

    async fn list_domains_seen(&self, install_id: &InstallId) -> StoreResult<Vec<DomainSeen>> {
        let rows = sqlx::query(
            "SELECT domain, first_seen_at, last_seen_at FROM verify_domains \
             WHERE install_id = ? ORDER BY domain",
        )
        .bind(install_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(DomainSeen {
                    domain: get(row, "domain")?,
                    first_seen_at: time(row, "first_seen_at")?,
                    last_seen_at: time(row, "last_seen_at")?,
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
            "SELECT COUNT(*) FROM verify_domains WHERE install_id = ? AND last_seen_at >= ?",
        )
        .bind(install_id.as_str())
        .bind(micros(since))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(count(n))
    }
}

async fn list_keys(pool: &SqlitePool) -> StoreResult<Vec<SigningKeyRecord>> {
    let rows = sqlx::query(
        "SELECT kid, public_key, sealed_private_key, nonce, created_at, activated_at, \
         retired_at, publish_until FROM signing_keys ORDER BY created_at, kid",
    )
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(key_row).collect()
}

fn key_row(row: &SqliteRow) -> StoreResult<SigningKeyRecord> {
    let kid: String = get(row, "kid")?;
    if kid.is_empty() {
        return Err(corrupt("signing key id", "empty"));
    }
    Ok(SigningKeyRecord {
        kid,
        public_key: get(row, "public_key")?,
        sealed_private_key: get(row, "sealed_private_key")?,
        nonce: get(row, "nonce")?,
        created_at: time(row, "created_at")?,
        activated_at: time(row, "activated_at")?,
        retired_at: opt_time(row, "retired_at")?,
        publish_until: opt_time(row, "publish_until")?,
    })
}

async fn insert_key(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    key: &SigningKeyRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, public_key, sealed_private_key, nonce, created_at, \
         activated_at, retired_at, publish_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&key.kid)
    .bind(&key.public_key)
    .bind(&key.sealed_private_key)
    .bind(&key.nonce)
    .bind(micros(key.created_at))
    .bind(micros(key.activated_at))
    .bind(opt_micros(key.retired_at))
    .bind(opt_micros(key.publish_until))
    .execute(&mut **tx)
    .await
    .map_err(|e| match db_err(e) {
        StoreError::Conflict { .. } => {
            StoreError::conflict("kid", "a signing key with this kid exists")
        }
        other => other,
    })?;
    Ok(())
}
