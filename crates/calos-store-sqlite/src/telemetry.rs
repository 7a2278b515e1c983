//! Raw telemetry events and metered usage.

use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

use calos_core::ids::InstallId;
use calos_core::plan::UsageType;
use calos_core::telemetry::{EventType, TelemetryEvent, UsageRecord};
use calos_store::{EventCount, IngestEvent, StoreResult, UsageTotal};

use crate::db::{commit, corrupt, db_err, get, micros, write_tx};

/// Inserts a batch in one transaction through the ingest fold (so rollups
/// stay equal to the raw events); `ON CONFLICT DO NOTHING` on (install_id,
/// event_id) drops repeats within the batch and across batches. Nothing is
/// metered: these events carry no usage.
pub(crate) async fn insert_events(
    pool: &SqlitePool,
    events: &[TelemetryEvent],
) -> StoreResult<u64> {
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
    let _turn = crate::ingest::turn(pool).await;
    let mut tx = write_tx(pool).await?;
    let inserted = crate::ingest::write(&mut tx, &wrapped, None).await?;
    commit(tx).await?;
    Ok(inserted)
}

pub(crate) async fn insert_usage(pool: &SqlitePool, records: &[UsageRecord]) -> StoreResult<u64> {
    if records.is_empty() {
        return Ok(0);
    }
    let mut tx = write_tx(pool).await?;
    let mut inserted = 0;
    for r in records {
        let done = sqlx::query(
            "INSERT INTO usage_records (install_id, usage_type, quantity, amount_minor, at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(r.install_id.as_str())
        .bind(r.usage_type.as_str())
        .bind(r.quantity)
        .bind(r.amount_minor)
        .bind(micros(r.at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        inserted += done.rows_affected();
    }
    commit(tx).await?;
    Ok(inserted)
}

pub(crate) async fn usage_totals(
    pool: &SqlitePool,
    install_id: &InstallId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<UsageTotal>> {
    let rows = sqlx::query(
        "SELECT usage_type, sum(quantity) AS quantity, coalesce(sum(amount_minor), 0) AS amount_minor \
         FROM usage_records WHERE install_id = ? AND at >= ? AND at < ? \
         GROUP BY usage_type ORDER BY usage_type",
    )
    .bind(install_id.as_str())
    .bind(micros(from))
    .bind(micros(to))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|row| {
            Ok(UsageTotal {
                usage_type: UsageType::parse(&get::<String>(row, "usage_type")?)
                    .map_err(|e| corrupt("usage type", e))?,
                quantity: get(row, "quantity")?,
                amount_minor: get(row, "amount_minor")?,
            })
        })
        .collect()
}

pub(crate) async fn event_counts(
    pool: &SqlitePool,
    install_id: &InstallId,
    since: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<EventCount>> {
    let rows = sqlx::query(
        "SELECT type, feature, count(*) AS n FROM telemetry_events \
         WHERE install_id = ? AND ts >= ? \
         GROUP BY type, feature ORDER BY n DESC, type, feature LIMIT ?",
    )
    .bind(install_id.as_str())
    .bind(micros(since))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|row| {
            Ok(EventCount {
                event_type: EventType::parse(&get::<String>(row, "type")?)
                    .map_err(|e| corrupt("event type", e))?,
                feature: get(row, "feature")?,
                count: get(row, "n")?,
            })
        })
        .collect()
}
