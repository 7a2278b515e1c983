//! The audit log: appending a record to the hash chain (inside each
//! mutation's transaction) and reading it back, filtered and paged.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use calos_core::audit::chain::{link_hash, ChainedRecord, GENESIS};
use calos_core::audit::{AuditEntry, AuditRecord};
use calos_store::{AuditFilter, AuditFilterStore, AuditQuery, Page, StoreResult};

use crate::db::{db_err, from_json, get, micros, time, to_json};
use crate::SqliteStore;

/// Appends `entry` after the chain's current head. The caller's transaction
/// is `BEGIN IMMEDIATE` (it holds SQLite's write lock), so no other append
/// can read the same head: the chain cannot fork.
pub(crate) async fn append(
    tx: &mut Transaction<'static, Sqlite>,
    entry: &AuditEntry,
) -> StoreResult<()> {
    // A change that notifies enqueues its notification in this same transaction.
    crate::outbox::enqueue_for_audit(tx, entry).await?;
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

/// The filters of [`AuditFilter`], every value bound: `?1` actor pattern,
/// `?2` exact action, `?3` action group pattern, `?4` target type, `?5`
/// target id, `?6` from, `?7` to (microseconds).
const WHERE: &str = "WHERE (?1 IS NULL OR lower(actor_label) LIKE ?1 ESCAPE '\\') \
     AND (?2 IS NULL OR action = ?2 OR action LIKE ?3 ESCAPE '\\') \
     AND (?4 IS NULL OR target_type = ?4) AND (?5 IS NULL OR target_id = ?5) \
     AND (?6 IS NULL OR at >= ?6) AND (?7 IS NULL OR at < ?7)";

fn bind_filter<'q>(
    query: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    filter: &'q AuditFilter,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    query
        .bind(filter.actor_pattern())
        .bind(filter.action_exact())
        .bind(filter.action_group_pattern())
        .bind(filter.target_type())
        .bind(filter.target_id())
        .bind(filter.from.map(micros))
        .bind(filter.to.map(micros))
}

/// One page of matching records, newest first.
async fn rows(pool: &SqlitePool, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
    let sql = format!(
        "SELECT id, at, actor_json, action, target_type, target_id, before_json, after_json, ip \
         FROM audit_log {WHERE} ORDER BY at DESC, id DESC LIMIT ?8 OFFSET ?9"
    );
    let rows = bind_filter(sqlx::query(&sql), filter)
        .bind(i64::from(filter.per_page()))
        .bind(filter.offset())
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    rows.iter().map(record).collect()
}

pub(crate) async fn list(pool: &SqlitePool, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
    let filter = AuditFilter {
        target_type: query.target_type.clone(),
        target_id: query.target_id.clone(),
        page: 1,
        per_page: query.limit,
        ..AuditFilter::default()
    };
    rows(pool, &filter).await
}

#[async_trait]
impl AuditFilterStore for SqliteStore {
    async fn search_audit(&self, filter: &AuditFilter) -> StoreResult<Page<AuditRecord>> {
        let count_sql = format!("SELECT COUNT(*) FROM audit_log {WHERE}");
        let total: i64 = bind_filter(sqlx::query(&count_sql), filter)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?
            .try_get(0)
            .map_err(db_err)?;
        Ok(Page {
            items: rows(&self.pool, filter).await?,
            total: u64::try_from(total).unwrap_or(0),
            page: filter.page(),
            per_page: filter.per_page(),
        })
    }
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
