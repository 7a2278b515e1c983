//! [`IngestStore`] for PostgreSQL: raw events, rollups, metered usage. Writes
//! are multi-row statements inside one transaction, so a batch and everything
//! folded from it commit together or not at all. Rows are written in key
//! order (events by id, buckets and memberships sorted), so two concurrent
//! batches take their row locks in the same order and cannot deadlock; a
//! membership or event id another open transaction is inserting waits for it
//! and is then skipped, which keeps distinct counts exact.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row, Transaction};

use calos_core::ids::InstallId;
use calos_core::metering::meter_records;
use calos_core::plan::{Meter, UsageType};
use calos_core::rollup::{self, RollupCounts, RollupKey, RollupRow};
use calos_core::telemetry::{EventType, TelemetryEvent};
use calos_store::{
    DailyUsers, IngestBatch, IngestEvent, IngestOutcome, IngestStore, MeteringTerms, PeriodUsage,
    PruneReport, StoreResult, UsageDay,
};

use crate::error::{corrupt, DbResultExt};
use crate::rows::{from_json, to_json};
use crate::PostgresStore;

/// PostgreSQL allows 65,535 bind parameters per statement; events bind 13.
const EVENT_ROWS: usize = 1_000;
const SMALL_ROWS: usize = 5_000;

type Tx = Transaction<'static, Postgres>;
/// (install, hour, type, feature): a rollup bucket as stored.
type Bucket = (String, DateTime<Utc>, String, String);

fn bucket(k: &RollupKey) -> Bucket {
    (
        k.install_id.clone(),
        k.hour,
        k.event_type.as_str().to_owned(),
        k.feature.clone(),
    )
}

fn get<'r, T>(row: &'r PgRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(column).db()
}

/// Writes events (of any installs) and folds the new ones; meters their
/// usage when `terms` is given. Returns how many events were new.
pub(crate) async fn write(
    tx: &mut Tx,
    events: &[IngestEvent],
    terms: Option<(&InstallId, &MeteringTerms)>,
) -> StoreResult<u64> {
    if events.is_empty() {
        return Ok(0);
    }
    let mut sorted: Vec<&IngestEvent> = events.iter().collect();
    sorted.sort_by(|a, b| {
        (a.event.install_id.as_str(), a.event.event_id.as_str())
            .cmp(&(b.event.install_id.as_str(), b.event.event_id.as_str()))
    });
    let mut fresh: HashSet<(String, String)> = HashSet::with_capacity(events.len());
    for chunk in sorted.chunks(EVENT_ROWS) {
        let props = chunk
            .iter()
            .map(|e| to_json("event props", &e.event.props))
            .collect::<StoreResult<Vec<_>>>()?;
        let mut qb = QueryBuilder::<Postgres>::new(
            "INSERT INTO telemetry_events (install_id, event_id, type, feature, user_hash, session, ts, \
             user_agent, endpoint, duration_ms, status, error, props_json) ",
        );
        qb.push_values(chunk.iter().zip(props), |mut row, (ie, props)| {
            let e = &ie.event;
            row.push_bind(e.install_id.as_str().to_owned())
                .push_bind(e.event_id.clone())
                .push_bind(e.event_type.as_str())
                .push_bind(e.feature.clone())
                .push_bind(e.user.clone())
                .push_bind(e.session.clone())
                .push_bind(e.ts)
                .push_bind(e.user_agent.clone())
                .push_bind(e.endpoint.clone())
                .push_bind(e.duration_ms.map(i64::from))
                .push_bind(e.status.map(i32::from))
                .push_bind(e.error.clone())
                .push_bind(props);
        });
        qb.push(" ON CONFLICT (install_id, event_id) DO NOTHING RETURNING install_id, event_id");
        for row in qb.build().fetch_all(&mut **tx).await.db()? {
            fresh.insert((get(&row, "install_id")?, get(&row, "event_id")?));
        }
    }
    let inserted = fresh.len() as u64;
    // Taking each id out of the set as it is used keeps a repeat inside the
    // batch from being folded twice.
    let new_events: Vec<&IngestEvent> = events
        .iter()
        .filter(|ie| {
            fresh.remove(&(
                ie.event.install_id.as_str().to_owned(),
                ie.event.event_id.clone(),
            ))
        })
        .collect();
    fold(tx, &new_events).await?;
    crate::culture::fold(tx, &new_events).await?;
    if let Some((install_id, terms)) = terms {
        meter(tx, install_id, terms, &new_events).await?;
    }
    Ok(inserted)
}

/// Adds the new events to the rollups and distinct-count memberships.
async fn fold(tx: &mut Tx, events: &[&IngestEvent]) -> StoreResult<()> {
    let delta = rollup::delta(events.iter().map(|ie| &ie.event));
    let new_users = insert_members(tx, "rollup_users", "user_hash", &delta.users).await?;
    let new_sessions = insert_members(tx, "rollup_sessions", "session", &delta.sessions).await?;
    let rows: Vec<(Bucket, RollupCounts)> = delta
        .counts
        .iter()
        .map(|(k, c)| {
            let b = bucket(k);
            let counts = RollupCounts {
                users: new_users.get(&b).copied().unwrap_or(0),
                sessions: new_sessions.get(&b).copied().unwrap_or(0),
                ..*c
            };
            (b, counts)
        })
        .collect();
    for chunk in rows.chunks(SMALL_ROWS) {
        let mut qb = QueryBuilder::<Postgres>::new(
            "INSERT INTO telemetry_rollups AS r (install_id, hour, type, feature, events, users, sessions, \
             errors, duration_sum_ms, duration_count) ",
        );
        qb.push_values(chunk, |mut row, ((install, hour, kind, feature), c)| {
            row.push_bind(install.clone())
                .push_bind(*hour)
                .push_bind(kind.clone())
                .push_bind(feature.clone())
                .push_bind(c.events)
                .push_bind(c.users)
                .push_bind(c.sessions)
                .push_bind(c.errors)
                .push_bind(c.duration_sum_ms)
                .push_bind(c.duration_count);
        });
        qb.push(
            " ON CONFLICT (install_id, hour, type, feature) DO UPDATE SET \
             events = r.events + excluded.events, users = r.users + excluded.users, \
             sessions = r.sessions + excluded.sessions, errors = r.errors + excluded.errors, \
             duration_sum_ms = r.duration_sum_ms + excluded.duration_sum_ms, \
             duration_count = r.duration_count + excluded.duration_count",
        );
        qb.build().execute(&mut **tx).await.db()?;
    }
    let daily: Vec<_> = delta.daily_users.into_iter().collect();
    for chunk in daily.chunks(SMALL_ROWS) {
        let mut qb =
            QueryBuilder::<Postgres>::new("INSERT INTO daily_users (install_id, day, user_hash) ");
        qb.push_values(chunk, |mut row, (install, day, user)| {
            row.push_bind(install.clone())
                .push_bind(*day)
                .push_bind(user.clone());
        });
        qb.push(" ON CONFLICT DO NOTHING");
        qb.build().execute(&mut **tx).await.db()?;
    }
    Ok(())
}

/// Inserts memberships, returning how many were new per bucket.
async fn insert_members(
    tx: &mut Tx,
    table: &str,
    column: &str,
    members: &std::collections::BTreeSet<(RollupKey, String)>,
) -> StoreResult<HashMap<Bucket, i64>> {
    let mut new = HashMap::new();
    let members: Vec<_> = members.iter().collect();
    for chunk in members.chunks(SMALL_ROWS) {
        let mut qb = QueryBuilder::<Postgres>::new(format!(
            "INSERT INTO {table} (install_id, hour, type, feature, {column}) "
        ));
        qb.push_values(chunk, |mut row, (key, member)| {
            row.push_bind(key.install_id.clone())
                .push_bind(key.hour)
                .push_bind(key.event_type.as_str())
                .push_bind(key.feature.clone())
                .push_bind(member.clone());
        });
        qb.push(" ON CONFLICT DO NOTHING RETURNING install_id, hour, type, feature");
        for row in qb.build().fetch_all(&mut **tx).await.db()? {
            let b: Bucket = (
                get(&row, "install_id")?,
                get(&row, "hour")?,
                get(&row, "type")?,
                get(&row, "feature")?,
            );
            *new.entry(b).or_insert(0) += 1;
        }
    }
    Ok(new)
}

/// Meters the usage of new events in batch order against the period's
/// running totals, which this transaction holds the lock on.
async fn meter(
    tx: &mut Tx,
    install_id: &InstallId,
    terms: &MeteringTerms,
    events: &[&IngestEvent],
) -> StoreResult<()> {
    let usage: Vec<(&str, &calos_core::telemetry::UsageRecord)> = events
        .iter()
        .filter_map(|ie| ie.usage.as_ref().map(|u| (ie.event.event_id.as_str(), u)))
        .collect();
    if usage.is_empty() {
        return Ok(());
    }
    let period = terms.period_start;
    // Usage from before the current period arrived after that period
    // closed: it is stored (it happened) but not metered against an
    // allowance, so it can neither use up nor bill the current one.
    let in_period = |u: &calos_core::telemetry::UsageRecord| {
        terms.closed_before.is_none_or(|closed| u.at >= closed)
    };
    let mut batch_qty: BTreeMap<Meter, i64> = BTreeMap::new();
    for (_, u) in usage.iter().filter(|(_, u)| in_period(u)) {
        *batch_qty.entry(u.usage_type.meter()).or_insert(0) += u.quantity;
    }
    let mut before = BTreeMap::new();
    for (meter, qty) in &batch_qty {
        let after: i64 = sqlx::query_scalar(
            "INSERT INTO usage_period_totals (install_id, meter, period_start, quantity) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (install_id, meter, period_start) \
             DO UPDATE SET quantity = usage_period_totals.quantity + excluded.quantity \
             RETURNING quantity",
        )
        .bind(install_id.as_str())
        .bind(meter.as_str())
        .bind(period)
        .bind(qty)
        .fetch_one(&mut **tx)
        .await
        .db()?;
        before.insert(*meter, after - qty);
    }
    let records: Vec<_> = usage
        .iter()
        .filter(|(_, u)| in_period(u))
        .map(|(_, u)| (u.usage_type, u.quantity, u.amount_minor))
        .collect();
    let mut metered = meter_records(&terms.limits, &terms.prices, &before, &records).into_iter();
    let rows: Vec<_> = usage
        .iter()
        .map(|item| {
            let m = if in_period(item.1) {
                metered.next()
            } else {
                None
            };
            (item, m)
        })
        .collect();
    for chunk in rows.chunks(SMALL_ROWS) {
        let mut qb = QueryBuilder::<Postgres>::new(
            "INSERT INTO usage_records (install_id, usage_type, quantity, amount_minor, at, event_id, \
             period_start, free_quantity, billable_quantity, cost_micros) ",
        );
        qb.push_values(chunk, |mut row, ((event_id, u), m)| {
            row.push_bind(u.install_id.as_str().to_owned())
                .push_bind(u.usage_type.as_str())
                .push_bind(u.quantity)
                .push_bind(u.amount_minor)
                .push_bind(u.at)
                .push_bind((*event_id).to_owned())
                .push_bind(m.map(|_| period))
                .push_bind(m.map(|m| m.split.free))
                .push_bind(m.map(|m| m.split.billable))
                .push_bind(m.map(|m| m.cost_micros));
        });
        qb.build().execute(&mut **tx).await.db()?;
    }
    Ok(())
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
        let events = sqlx::query(
            "DELETE FROM telemetry_events WHERE ctid IN \
             (SELECT ctid FROM telemetry_events WHERE ts < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        // Buckets whose hour ended before the cutoff can no longer change.
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
