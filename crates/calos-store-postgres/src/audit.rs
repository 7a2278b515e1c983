//! The audit log: written inside each mutation's transaction, read newest
//! first by `at` (ties: the later insert first).

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row, Transaction};

use calos_core::audit::{AuditEntry, AuditRecord};
use calos_store::{AuditQuery, StoreResult};

use crate::error::DbResultExt;
use crate::rows::{from_json, to_json};

/// Records `entry` in the caller's transaction, so the change and its audit
/// record commit or roll back together.
pub(crate) async fn insert_audit(
    tx: &mut Transaction<'_, Postgres>,
    entry: &AuditEntry,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_json, actor_label, action, target_type, target_id,
                                before_json, after_json, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(entry.at)
    .bind(to_json("audit actor", &entry.actor)?)
    .bind(entry.actor.label())
    .bind(&entry.action)
    .bind(&entry.target_type)
    .bind(&entry.target_id)
    .bind(&entry.before)
    .bind(&entry.after)
    .bind(&entry.ip)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn list_audit(pool: &PgPool, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT id, at, actor_json, action, target_type, target_id, before_json, after_json, ip
         FROM audit_log WHERE TRUE",
    );
    if let Some(t) = &query.target_type {
        qb.push(" AND target_type = ").push_bind(t.clone());
    }
    if let Some(id) = &query.target_id {
        qb.push(" AND target_id = ").push_bind(id.clone());
    }
    qb.push(" ORDER BY at DESC, id DESC LIMIT ")
        .push_bind(i64::from(query.limit));
    let rows = qb.build().fetch_all(pool).await.db()?;
    rows.iter().map(record).collect()
}

fn record(row: &PgRow) -> StoreResult<AuditRecord> {
    Ok(AuditRecord {
        id: row.try_get("id").db()?,
        entry: AuditEntry {
            at: row.try_get("at").db()?,
            actor: from_json("audit actor", row.try_get("actor_json").db()?)?,
            action: row.try_get("action").db()?,
            target_type: row.try_get("target_type").db()?,
            target_id: row.try_get("target_id").db()?,
            before: row.try_get("before_json").db()?,
            after: row.try_get("after_json").db()?,
            ip: row.try_get("ip").db()?,
        },
    })
}
