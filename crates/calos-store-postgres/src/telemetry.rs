//! Raw telemetry events and metered usage: batch inserts and per-install sums.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

use calos_core::ids::InstallId;
use calos_core::plan::UsageType;
use calos_core::telemetry::{EventType, TelemetryEvent, UsageRecord};
use calos_store::{EventCount, IngestEvent, StoreResult, UsageTotal};

use crate::error::{corrupt, DbResultExt};

/// Usage records bind 5 each.
const USAGE_ROWS_PER_INSERT: usize = 5_000;

/// Inserts a batch in one transaction through the ingest fold (so rollups
/// stay equal to the raw events); repeats of a stored (install, event id)
/// within and across batches are skipped. Nothing is metered: these events
/// carry no usage.
pub(crate) async fn insert_events(pool: &PgPool, events: &[TelemetryEvent]) -> StoreResult<u64> {
    if events.is_empty() {
        return Ok(0);
    }
    let wrapped: Vec<IngestEvent> = events
        .iter()
        .map(|e| IngestEvent {
            event: e.clone(),
            usage: None,
        })
        .collect();
    let mut tx = pool.begin().await.db()?;
    let inserted = crate::ingest::write(&mut tx, &wrapped, None).await?;
    tx.commit().await.db()?;
    Ok(inserted)
}

pub(crate) async fn insert_usage(pool: &PgPool, records: &[UsageRecord]) -> StoreResult<u64> {
    if records.is_empty() {
        return Ok(0);
    }
    let mut tx = pool.begin().await.db()?;
    let mut inserted = 0;
    for chunk in records.chunks(USAGE_ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Postgres>::new(
            "INSERT INTO usage_records (install_id, usage_type, quantity, amount_minor, at) ",
        );
        qb.push_values(chunk, |mut row, r| {
            row.push_bind(r.install_id.as_str())
                .push_bind(r.usage_type.as_str())
                .push_bind(r.quantity)
                .push_bind(r.amount_minor)
                .push_bind(r.at);
        });
        inserted += qb.build().execute(&mut *tx).await.db()?.rows_affected();
    }
    tx.commit().await.db()?;
    Ok(inserted)
}

pub(crate) async fn usage_totals(
    pool: &PgPool,
    install_id: &InstallId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<UsageTotal>> {
    let found = sqlx::query(
        "SELECT usage_type, SUM(quantity)::BIGINT AS quantity,
                COALESCE(SUM(amount_minor), 0)::BIGINT AS amount_minor
         FROM usage_records
         WHERE install_id = $1 AND at >= $2 AND at < $3
         GROUP BY usage_type
         ORDER BY usage_type COLLATE \"C\"",
    )
    .bind(install_id.as_str())
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .db()?;
    found
        .iter()
        .map(|row| {
            let usage_type: String = row.try_get("usage_type").db()?;
            Ok(UsageTotal {
                usage_type: UsageType::parse(&usage_type).map_err(|e| corrupt("usage type", e))?,
                quantity: row.try_get("quantity").db()?,
                amount_minor: row.try_get("amount_minor").db()?,
            })
        })
        .collect()
}

pub(crate) async fn event_counts(
    pool: &PgPool,
    install_id: &InstallId,
    since: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<EventCount>> {
    let found = sqlx::query(
        "SELECT type, feature, count(*) AS count
         FROM telemetry_events
         WHERE install_id = $1 AND ts >= $2
         GROUP BY type, feature
         ORDER BY count DESC, type COLLATE \"C\", feature COLLATE \"C\" NULLS FIRST
         LIMIT $3",
    )
    .bind(install_id.as_str())
    .bind(since)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .db()?;
    found
        .iter()
        .map(|row| {
            let event_type: String = row.try_get("type").db()?;
            Ok(EventCount {
                event_type: EventType::parse(&event_type).map_err(|e| corrupt("event type", e))?,
                feature: row.try_get("feature").db()?,
                count: row.try_get("count").db()?,
            })
        })
        .collect()
}
