//! Raw telemetry events and metered usage.

use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

use calos_core::ids::InstallId;
use calos_core::plan::UsageType;
use calos_core::telemetry::{EventType, TelemetryEvent, UsageRecord};
use calos_store::{EventCount, StoreResult, UsageTotal};

use crate::db::{commit, corrupt, db_err, get, micros, to_json, write_tx};

/// Inserts a batch in one transaction; `ON CONFLICT DO NOTHING` on
/// (install_id, event_id) drops repeats within the batch and across batches.
pub(crate) async fn insert_events(
    pool: &SqlitePool,
    events: &[TelemetryEvent],
) -> StoreResult<u64> {
    if events.is_empty() {
        return Ok(0);
    }
    let received_at = micros(Utc::now());
    let mut tx = write_tx(pool).await?;
    let mut inserted = 0;
    for e in events {
        let done = sqlx::query(
            "INSERT INTO telemetry_events (install_id, event_id, type, feature, user_hash, session, ts, \
             user_agent, endpoint, duration_ms, status, error, props_json, received_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (install_id, event_id) DO NOTHING",
        )
        .bind(e.install_id.as_str())
        .bind(&e.event_id)
        .bind(e.event_type.as_str())
        .bind(&e.feature)
        .bind(&e.user)
        .bind(&e.session)
        .bind(micros(e.ts))
        .bind(&e.user_agent)
        .bind(&e.endpoint)
        .bind(e.duration_ms.map(i64::from))
        .bind(e.status.map(i64::from))
        .bind(&e.error)
        .bind(to_json(&e.props, "event props")?)
        .bind(received_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        inserted += done.rows_affected();
    }
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
