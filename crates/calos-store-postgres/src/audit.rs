//! The audit log: written inside each mutation's transaction, read newest
//! first by `at` (ties: the later insert first).

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row, Transaction};

use calos_core::audit::chain::{link_hash, ChainedRecord, GENESIS};
use calos_core::audit::{AuditEntry, AuditRecord};
use calos_store::{AuditFilter, AuditFilterStore, AuditQuery, Page, StoreResult};

use crate::error::DbResultExt;
use crate::rows::{from_json, to_json};
use crate::PostgresStore;

/// Any constant distinct from other advisory locks: the audit chain's append lock.
const CHAIN_LOCK: i64 = 0x00ca_1050_a0d1_7000;

/// Records `entry` in the caller's transaction, so the change and its audit
/// record commit or roll back together, linked after the chain's head. The
/// transaction-level advisory lock serialises appends until commit, so two
/// concurrent appends cannot both read the same head and fork the chain;
/// each statement runs READ COMMITTED, so the head read after the lock is the
/// last committed one. Every caller appends last (only reads follow), so
/// waiting for this lock never closes a lock cycle.
pub(crate) async fn insert_audit(
    tx: &mut Transaction<'_, Postgres>,
    entry: &AuditEntry,
) -> StoreResult<()> {
    // A change that notifies enqueues its notification in this same
    // transaction, before the chain lock (which stays the last lock taken).
    crate::outbox::enqueue_for_audit(tx, entry).await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHAIN_LOCK)
        .execute(&mut **tx)
        .await
        .db()?;
    let head: Option<String> = sqlx::query_scalar(
        "SELECT hash FROM audit_log WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    let prev = head.unwrap_or_else(|| GENESIS.to_owned());
    let hash = link_hash(&prev, entry);
    sqlx::query(
        "INSERT INTO audit_log (at, actor_json, actor_label, action, target_type, target_id,
                                before_json, after_json, ip, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
    .bind(prev)
    .bind(hash)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

/// Records with `id > after_id`, oldest first, with their chain links.
pub(crate) async fn chain(
    pool: &PgPool,
    after_id: i64,
    limit: u32,
) -> StoreResult<Vec<ChainedRecord>> {
    let rows = sqlx::query(
        "SELECT id, at, actor_json, action, target_type, target_id, before_json, after_json, ip,
                prev_hash, hash
         FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .db()?;
    rows.iter()
        .map(|row| {
            let rec = record(row)?;
            Ok(ChainedRecord {
                id: rec.id,
                entry: rec.entry,
                prev_hash: row.try_get("prev_hash").db()?,
                hash: row.try_get("hash").db()?,
            })
        })
        .collect()
}

/// Appends the filters of [`AuditFilter`], every value bound.
fn push_where(qb: &mut QueryBuilder<'_, Postgres>, filter: &AuditFilter) {
    qb.push(" WHERE TRUE");
    if let Some(pattern) = filter.actor_pattern() {
        qb.push(" AND lower(actor_label) LIKE ")
            .push_bind(pattern)
            .push(r" ESCAPE '\'");
    }
    if let (Some(exact), Some(group)) = (filter.action_exact(), filter.action_group_pattern()) {
        qb.push(" AND (action = ")
            .push_bind(exact.to_owned())
            .push(" OR action LIKE ")
            .push_bind(group)
            .push(r" ESCAPE '\')");
    }
    if let Some(t) = filter.target_type() {
        qb.push(" AND target_type = ").push_bind(t.to_owned());
    }
    if let Some(id) = filter.target_id() {
        qb.push(" AND target_id = ").push_bind(id.to_owned());
    }
    if let Some(from) = filter.from {
        qb.push(" AND at >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        qb.push(" AND at < ").push_bind(to);
    }
}

/// One page of matching records, newest first.
async fn rows(pool: &PgPool, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT id, at, actor_json, action, target_type, target_id, before_json, after_json, ip
         FROM audit_log",
    );
    push_where(&mut qb, filter);
    qb.push(" ORDER BY at DESC, id DESC LIMIT ")
        .push_bind(i64::from(filter.per_page()))
        .push(" OFFSET ")
        .push_bind(filter.offset());
    let rows = qb.build().fetch_all(pool).await.db()?;
    rows.iter().map(record).collect()
}

pub(crate) async fn list_audit(pool: &PgPool, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
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
impl AuditFilterStore for PostgresStore {
    async fn search_audit(&self, filter: &AuditFilter) -> StoreResult<Page<AuditRecord>> {
        let mut qb = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM audit_log");
        push_where(&mut qb, filter);
        let total: i64 = qb.build_query_scalar().fetch_one(&self.pool).await.db()?;
        Ok(Page {
            items: rows(&self.pool, filter).await?,
            total: u64::try_from(total).unwrap_or(0),
            page: filter.page(),
            per_page: filter.per_page(),
        })
    }
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
