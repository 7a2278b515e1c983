//! [`IngestStore`] for PostgreSQL: raw events, rollups, metered usage. A
//! batch and everything folded from it is written in one transaction (see
//! [`write`]), so it commits together or not at all.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row};

use calos_core::ids::InstallId;
use calos_core::plan::UsageType;
use calos_core::rollup::{self, RollupCounts, RollupKey, RollupRow};
use calos_core::telemetry::{EventType, TelemetryEvent};
use calos_store::{
    DailyUsers, IngestBatch, IngestOutcome, IngestStore, PeriodUsage, PruneReport, StoreResult,
    UsageDay,
};

use crate::error::{corrupt, DbResultExt};
use crate::rows::from_json;
use crate::PostgresStore;

mod write;
pub(crate) use write::write;

fn get<'r, T>(row: &'r PgRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(column).db()
}

fn event_from_row(row: &PgRow) -> StoreResult<TelemetryEvent> {
    let install: String = get(row, "install_id")?;
    let duration: Option<i64> = get(row, "duration_ms")?;
    let status: Option<i32> = get(row, "status")?;
    Ok(TelemetryEvent {
        install_id: InstallId::parse(&install).map_err(|e| corrupt("install id", e))?,
        event_id: get(row, "event_id")?,
        event_type: EventType::parse(&get::<String>(row, "type")?)
            .map_err(|e| corrupt("event type", e))?,
        feature: get(row, "feature")?,
        user: get(row, "user_hash")?,
        session: get(row, "session")?,
        ts: get(row, "ts")?,
        user_agent: get(row, "user_agent")?,
        endpoint: get(row, "endpoint")?,
        duration_ms: duration
            .map(|d| u32::try_from(d).map_err(|e| corrupt("duration", e)))
            .transpose()?,
        status: status
            .map(|s| u16::try_from(s).map_err(|e| corrupt("status", e)))
            .transpose()?,
        error: get(row, "error")?,
        props: from_json("event props", get::<serde_json::Value>(row, "props_json")?)?,
    })
}

#[async_trait]
impl IngestStore for PostgresStore {
    async fn ingest(&self, batch: &IngestBatch) -> StoreResult<IngestOutcome> {
        let mut tx = self.pool.begin().await.db()?;
        let inserted = write(
            &mut tx,
            &batch.events,
            Some((&batch.install_id, &batch.terms)),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(IngestOutcome {
            inserted,
            duplicates: batch.events.len() as u64 - inserted,
        })
    }

    async fn rollups(
        &self,
        install_id: &InstallId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<RollupRow>> {
        let rows = sqlx::query(
            "SELECT install_id, hour, type, feature, events, users, sessions, errors, duration_sum_ms, \
             duration_count FROM telemetry_rollups WHERE install_id = $1 AND hour >= $2 AND hour < $3",
        )
        .bind(install_id.as_str())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .db()?;
        let mut out: Vec<RollupRow> = rows
            .iter()
            .map(|row| {
                Ok(RollupRow {
                    key: RollupKey {
                        install_id: get(row, "install_id")?,
                        hour: get(row, "hour")?,
                        event_type: EventType::parse(&get::<String>(row, "type")?)
                            .map_err(|e| corrupt("event type", e))?,
                        feature: get(row, "feature")?,
                    },
                    counts: RollupCounts {
                        events: get(row, "events")?,
                        users: get(row, "users")?,
                        sessions: get(row, "sessions")?,
                        errors: get(row, "errors")?,
                        duration_sum_ms: get(row, "duration_sum_ms")?,
                        duration_count: get(row, "duration_count")?,
                    },
                })
            })
            .collect::<StoreResult<_>>()?;
        // Same order as the key's `Ord`, whatever the collation says.
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn daily_users(
        &self,
        install_id: &InstallId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<DailyUsers>> {
        let rows = sqlx::query(
            "SELECT day, count(*) AS users FROM daily_users \
             WHERE install_id = $1 AND day >= $2 AND day < $3 GROUP BY day ORDER BY day",
        )
        .bind(install_id.as_str())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                Ok(DailyUsers {
                    day: get(row, "day")?,
                    users: get(row, "users")?,
                })
            })
            .collect()
    }

    async fn distinct_users(
        &self,
        install_id: &InstallId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<i64> {
        sqlx::query_scalar(
            "SELECT count(DISTINCT user_hash) FROM daily_users \
             WHERE install_id = $1 AND day >= $2 AND day < $3",
        )
        .bind(install_id.as_str())
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await
        .db()
    }

    async fn list_events(
        &self,
        install_id: &InstallId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<TelemetryEvent>> {
        let rows = sqlx::query(
            "SELECT install_id, event_id, type, feature, user_hash, session, ts, user_agent, endpoint, \
             duration_ms, status, error, props_json FROM telemetry_events \
             WHERE install_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts, event_id COLLATE \"C\" LIMIT $4",
        )
        .bind(install_id.as_str())
        .bind(from)
        .bind(to)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(event_from_row).collect()
    }

    async fn usage_by_day(
        &self,
        install_id: &InstallId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<UsageDay>> {
        let rows = sqlx::query(
            "SELECT (at AT TIME ZONE 'UTC')::date AS day, usage_type, sum(quantity)::BIGINT AS quantity, \
             coalesce(sum(amount_minor), 0)::BIGINT AS amount_minor FROM usage_records \
             WHERE install_id = $1 AND at >= $2 AND at < $3 GROUP BY 1, 2",
        )
        .bind(install_id.as_str())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .db()?;
        let mut out = rows
            .iter()
            .map(|row| {
                Ok(UsageDay {
                    day: get(row, "day")?,
                    usage_type: UsageType::parse(&get::<String>(row, "usage_type")?)
                        .map_err(|e| corrupt("usage type", e))?,
                    quantity: get(row, "quantity")?,
                    amount_minor: get(row, "amount_minor")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        out.sort_by_key(|u| (u.day, u.usage_type));
        Ok(out)
    }

    async fn period_usage(
        &self,
        install_id: &InstallId,
        period_start: DateTime<Utc>,
    ) -> StoreResult<Vec<PeriodUsage>> {
        let rows = sqlx::query(
            "SELECT usage_type, sum(quantity)::BIGINT AS quantity, \
             coalesce(sum(free_quantity), 0)::BIGINT AS free, \
             coalesce(sum(billable_quantity), 0)::BIGINT AS billable, \
             coalesce(sum(amount_minor), 0)::BIGINT AS amount, \
             coalesce(sum(cost_micros), 0)::BIGINT AS cost FROM usage_records \
             WHERE install_id = $1 AND period_start = $2 GROUP BY usage_type",
        )
        .bind(install_id.as_str())
        .bind(period_start)
        .fetch_all(&self.pool)
        .await
        .db()?;
        let mut out = rows
            .iter()
            .map(|row| {
                Ok(PeriodUsage {
                    usage_type: UsageType::parse(&get::<String>(row, "usage_type")?)
                        .map_err(|e| corrupt("usage type", e))?,
                    quantity: get(row, "quantity")?,
                    free_quantity: get(row, "free")?,
                    billable_quantity: get(row, "billable")?,
                    amount_minor: get(row, "amount")?,
                    cost_micros: get(row, "cost")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        out.sort_by_key(|u| u.usage_type);
        Ok(out)
    }

    async fn prune_raw_events(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<PruneReport> {
        let mut tx = self.pool.begin().await.db()?;
        // Whole months before the cutoff go by `maintain_raw_events`
        // dropping their partitions; this deletes what is left, the rows of
        // the month the cutoff falls in (and any in the default partition).
        // A ctid is only unique within one partition, hence the tableoid.
        sqlx::query(
            "DELETE FROM telemetry_events WHERE ts < $1 AND (tableoid, ctid) IN \
             (SELECT tableoid, ctid FROM telemetry_events WHERE ts < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await
        .db()?;
        // Every stored event has one id row with the same ts, so the ids
        // forgotten are the events pruned, whether their rows went just now
        // or with a dropped partition: that is the count reported.
        let events = sqlx::query(
            "DELETE FROM telemetry_event_ids WHERE ctid IN \
             (SELECT ctid FROM telemetry_event_ids WHERE ts < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        // Buckets whose hour ended before the cutoff can no longer change.
        // Rollups and the culture totals folded from them (hour totals,
        // feature days) are kept: they are what outlives raw retention.
        let hour_cutoff = rollup::hour_of(before);
        let mut memberships = 0;
        for table in ["rollup_users", "rollup_sessions"] {
            memberships += sqlx::query(&format!("DELETE FROM {table} WHERE hour < $1"))
                .bind(hour_cutoff)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
        }
        tx.commit().await.db()?;
        Ok(PruneReport {
            events,
            memberships,
        })
    }
}
