//! Reading the audit log (writes happen inside each mutation's transaction).

use sqlx::sqlite::SqliteRow;
use sqlx::SqlitePool;

use calos_core::audit::{AuditEntry, AuditRecord};
use calos_store::{AuditQuery, StoreResult};

use crate::db::{db_err, from_json, get, time};

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
