//! The audit log: appending a record to the hash chain (inside each
//! mutation's transaction) and reading it back.

use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, SqlitePool, Transaction};

use calos_core::audit::chain::{link_hash, ChainedRecord, GENESIS};
use calos_core::audit::{AuditEntry, AuditRecord};
use calos_store::{AuditQuery, StoreResult};

use crate::db::{db_err, from_json, get, micros, time, to_json};

/// Appends `entry` after the chain's current head. The caller's transaction
/// is `BEGIN IMMEDIATE` (it holds SQLite's write lock), so no other append
/// can read the same head: the chain cannot fork.
pub(crate) async fn append(
    tx: &mut Transaction<'static, Sqlite>,
    entry: &AuditEntry,
) -> StoreResult<()> {
    let head: Option<String> = sqlx::query_scalar(
        "SELECT hash FROM audit_log WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    let prev = head.unwrap_or_else(|| GENESIS.to_owned());
    let hash = link_hash(&prev, entry);
    let before = entry
        .before
        .as_ref()
        .map(|v| to_json(v, "audit before"))
        .transpose()?;
    let after = entry
        .after
        .as_ref()
        .map(|v| to_json(v, "audit after"))
        .transpose()?;
    sqlx::query(
        "INSERT INTO audit_log (at, actor_json, actor_label, action, target_type, target_id, \
         before_json, after_json, ip, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(micros(entry.at))
    .bind(to_json(&entry.actor, "audit actor")?)
    .bind(entry.actor.label())
    .bind(&entry.action)
    .bind(&entry.target_type)
    .bind(&entry.target_id)
    .bind(before)
    .bind(after)
    .bind(&entry.ip)
    .bind(prev)
    .bind(hash)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Records with `id > after_id`, oldest first, with their chain links.
pub(crate) async fn chain(
    pool: &SqlitePool,
    after_id: i64,
    limit: u32,
) -> StoreResult<Vec<ChainedRecord>> {
    let rows = sqlx::query(
        "SELECT id, at, actor_json, action, target_type, target_id, before_json, after_json, ip, \
         prev_hash, hash FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
    )
    .bind(after_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|row| {
            let rec = record(row)?;
            Ok(ChainedRecord {
                id: rec.id,
                entry: rec.entry,
                prev_hash: get(row, "prev_hash")?,
                hash: get(row, "hash")?,
            })
        })
        .collect()
}

pub(crate) async fn list(pool: &SqlitePool, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
    let rows = sqlx::query(
        "SELECT id, at, actor_json, action, target_type, target_id, before_json, after_json, ip \
         FROM audit_log \
         WHERE (?1 IS NULL OR target_type = ?1) AND (?2 IS NULL OR target_id = ?2) \
         ORDER BY at DESC, id DESC LIMIT ?3",
    )
    .bind(&query.target_type)
    .bind(&query.target_id)
    .bind(i64::from(query.limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(record).collect()
}

fn record(row: &SqliteRow) -> StoreResult<AuditRecord> {
    let json = |column: &str| -> StoreResult<Option<serde_json::Value>> {
        get::<Option<String>>(row, column)?
            .map(|text| from_json(&text, column))
            .transpose()
    };
    Ok(AuditRecord {
        id: get(row, "id")?,
        entry: AuditEntry {
            at: time(row, "at")?,
            actor: from_json(&get::<String>(row, "actor_json")?, "audit actor")?,
            action: get(row, "action")?,
            target_type: get(row, "target_type")?,
            target_id: get(row, "target_id")?,
            before: json("before_json")?,
            after: json("after_json")?,
            ip: get(row, "ip")?,
        },
    })
}
