//! [`IngestStore`] for SQLite: raw events, rollups, metered usage. A batch
//! and everything folded from it is written in one `BEGIN IMMEDIATE`
//! transaction (see [`write`]), so it commits together or not at all.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use calos_core::ids::InstallId;
use calos_core::plan::UsageType;
use calos_core::rollup::{self, RollupCounts, RollupKey, RollupRow};
use calos_core::telemetry::{EventType, TelemetryEvent};
use calos_store::{
    DailyUsers, IngestBatch, IngestOutcome, IngestStore, PeriodUsage, PruneReport, StoreResult,
    UsageDay,
};

use crate::db::{commit, corrupt, db_err, from_json, get, micros, time, write_tx};
use crate::SqliteStore;

mod write;
pub(crate) use write::{turn, write};

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_day(raw: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|e| corrupt("day", e))
}

fn event_from_row(row: &sqlx::sqlite::SqliteRow) -> StoreResult<TelemetryEvent> {
    let install: String = get(row, "install_id")?;
    let duration: Option<i64> = get(row, "duration_ms")?;
    let status: Option<i64> = get(row, "status")?;
    Ok(TelemetryEvent {
        install_id: InstallId::parse(&install).map_err(|e| corrupt("install id", e))?,
        event_id: get(row, "event_id")?,
        event_type: EventType::parse(&get::<String>(row, "type")?)
            .map_err(|e| corrupt("event type", e))?,
        feature: get(row, "feature")?,
        user: get(row, "user_hash")?,
        session: get(row, "session")?,
        ts: time(row, "ts")?,
        user_agent: get(row, "user_agent")?,
        endpoint: get(row, "endpoint")?,
        duration_ms: duration
            .map(|d| u32::try_from(d).map_err(|e| corrupt("duration", e)))
            .transpose()?,
        status: status
            .map(|s| u16::try_from(s).map_err(|e| corrupt("status", e)))
            .transpose()?,
        error: get(row, "error")?,
        props: from_json(&get::<String>(row, "props_json")?, "event props")?,
    })
}

#[async_trait]
impl IngestStore for SqliteStore {
    async fn ingest(&self, batch: &IngestBatch) -> StoreResult<IngestOutcome> {
        let _turn = turn(&self.pool).await;
        let mut tx = write_tx(&self.pool).await?;
        let inserted = write(
            &mut tx,
            &batch.events,
            Some((&batch.install_id, &batch.terms)),
        )
        .await?;
        commit(tx).await?;
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
             duration_count FROM telemetry_rollups WHERE install_id = ? AND hour >= ? AND hour < ? \
             ORDER BY hour, type, feature",
        )
        .bind(install_id.as_str())
        .bind(micros(from))
        .bind(micros(to))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out: Vec<RollupRow> = rows
            .iter()
            .map(|row| {
                Ok(RollupRow {
                    key: RollupKey {
                        install_id: get(row, "install_id")?,
                        hour: time(row, "hour")?,
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
            "SELECT day, count(*) AS users FROM daily_users WHERE install_id = ? AND day >= ? AND day < ? \
             GROUP BY day ORDER BY day",
        )
        .bind(install_id.as_str())
        .bind(day_text(from))
        .bind(day_text(to))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(DailyUsers {
                    day: parse_day(&get::<String>(row, "day")?)?,
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
            "SELECT count(DISTINCT user_hash) FROM daily_users WHERE install_id = ? AND day >= ? AND day < ?",
        )
        .bind(install_id.as_str())
        .bind(day_text(from))
        .bind(day_text(to))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)
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
             WHERE install_id = ? AND ts >= ? AND ts < ? ORDER BY ts, event_id LIMIT ?",
        )
        .bind(install_id.as_str())
        .bind(micros(from))
        .bind(micros(to))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(event_from_row).collect()
    }

    async fn usage_by_day(
        &self,
        install_id: &InstallId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<UsageDay>> {
        let rows = sqlx::query(
            "SELECT date(at / 1000000, 'unixepoch') AS day, usage_type, sum(quantity) AS quantity, \
             coalesce(sum(amount_minor), 0) AS amount_minor FROM usage_records \
             WHERE install_id = ? AND at >= ? AND at < ? GROUP BY day, usage_type",
        )
        .bind(install_id.as_str())
        .bind(micros(from))
        .bind(micros(to))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out = rows
            .iter()
            .map(|row| {
                Ok(UsageDay {
                    day: parse_day(&get::<String>(row, "day")?)?,
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
            "SELECT usage_type, sum(quantity) AS quantity, coalesce(sum(free_quantity), 0) AS free, \
             coalesce(sum(billable_quantity), 0) AS billable, coalesce(sum(amount_minor), 0) AS amount, \
             coalesce(sum(cost_micros), 0) AS cost FROM usage_records \
             WHERE install_id = ? AND period_start = ? GROUP BY usage_type",
        )
        .bind(install_id.as_str())
        .bind(micros(period_start))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
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
        let cutoff = micros(before);
        let mut tx = write_tx(&self.pool).await?;
        let events = sqlx::query(
            "DELETE FROM telemetry_events WHERE rowid IN \
             (SELECT rowid FROM telemetry_events WHERE ts < ? LIMIT ?)",
        )
        .bind(cutoff)
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        // Buckets whose hour ended before the cutoff can no longer change.
        // Rollups and the culture totals folded from them (hour totals,
        // feature days) are kept: they are what outlives raw retention.
        let hour_cutoff = micros(rollup::hour_of(before));
        let mut memberships = 0;
        for table in ["rollup_users", "rollup_sessions"] {
            memberships += sqlx::query(&format!("DELETE FROM {table} WHERE hour < ?"))
                .bind(hour_cutoff)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        }
        commit(tx).await?;
        Ok(PruneReport {
            events,
            memberships,
        })
    }
}
