//! [`IngestStore`] for SQLite: raw events, rollups, metered usage. Writes are
//! multi-row statements inside one `BEGIN IMMEDIATE` transaction, so a batch
//! and everything folded from it commit together or not at all.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{QueryBuilder, Sqlite, Transaction};

use calos_core::ids::InstallId;
use calos_core::metering::meter_records;
use calos_core::plan::{Meter, UsageType};
use calos_core::rollup::{self, RollupCounts, RollupKey, RollupRow};
use calos_core::telemetry::{EventType, TelemetryEvent};
use calos_store::{
    DailyUsers, IngestBatch, IngestEvent, IngestOutcome, IngestStore, MeteringTerms, PeriodUsage,
    PruneReport, StoreResult, UsageDay,
};

use crate::db::{commit, corrupt, db_err, from_json, get, micros, time, to_json, write_tx};
use crate::SqliteStore;

/// SQLite allows 32,766 bound variables per statement; events bind 14.
const EVENT_ROWS: usize = 1_000;
const SMALL_ROWS: usize = 2_000;

type Tx = Transaction<'static, Sqlite>;
/// (install, hour micros, type, feature): a rollup bucket as stored.
type Bucket = (String, i64, String, String);

fn bucket(k: &RollupKey) -> Bucket {
    (
        k.install_id.clone(),
        micros(k.hour),
        k.event_type.as_str().to_owned(),
        k.feature.clone(),
    )
}

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_day(raw: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|e| corrupt("day", e))
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
    let received_at = micros(Utc::now());
    let mut fresh: HashSet<(String, String)> = HashSet::with_capacity(events.len());
    for chunk in events.chunks(EVENT_ROWS) {
        let props = chunk
            .iter()
            .map(|e| to_json(&e.event.props, "event props"))
            .collect::<StoreResult<Vec<_>>>()?;
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO telemetry_events (install_id, event_id, type, feature, user_hash, session, ts, \
             user_agent, endpoint, duration_ms, status, error, props_json, received_at) ",
        );
        qb.push_values(chunk.iter().zip(props), |mut row, (ie, props)| {
            let e = &ie.event;
            row.push_bind(e.install_id.as_str().to_owned())
                .push_bind(e.event_id.clone())
                .push_bind(e.event_type.as_str())
                .push_bind(e.feature.clone())
                .push_bind(e.user.clone())
                .push_bind(e.session.clone())
                .push_bind(micros(e.ts))
                .push_bind(e.user_agent.clone())
                .push_bind(e.endpoint.clone())
                .push_bind(e.duration_ms.map(i64::from))
                .push_bind(e.status.map(i64::from))
                .push_bind(e.error.clone())
                .push_bind(props)
                .push_bind(received_at);
        });
        qb.push(" ON CONFLICT (install_id, event_id) DO NOTHING RETURNING install_id, event_id");
        for row in qb.build().fetch_all(&mut **tx).await.map_err(db_err)? {
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
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO telemetry_rollups (install_id, hour, type, feature, events, users, sessions, \
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
             events = events + excluded.events, users = users + excluded.users, \
             sessions = sessions + excluded.sessions, errors = errors + excluded.errors, \
             duration_sum_ms = duration_sum_ms + excluded.duration_sum_ms, \
             duration_count = duration_count + excluded.duration_count",
        );
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
    }
    let daily: Vec<_> = delta.daily_users.into_iter().collect();
    for chunk in daily.chunks(SMALL_ROWS) {
        let mut qb =
            QueryBuilder::<Sqlite>::new("INSERT INTO daily_users (install_id, day, user_hash) ");
        qb.push_values(chunk, |mut row, (install, day, user)| {
            row.push_bind(install.clone())
                .push_bind(day_text(*day))
                .push_bind(user.clone());
        });
        qb.push(" ON CONFLICT DO NOTHING");
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
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
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "INSERT INTO {table} (install_id, hour, type, feature, {column}) "
        ));
        qb.push_values(chunk, |mut row, (key, member)| {
            row.push_bind(key.install_id.clone())
                .push_bind(micros(key.hour))
                .push_bind(key.event_type.as_str())
                .push_bind(key.feature.clone())
                .push_bind(member.clone());
        });
        qb.push(" ON CONFLICT DO NOTHING RETURNING install_id, hour, type, feature");
        for row in qb.build().fetch_all(&mut **tx).await.map_err(db_err)? {
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
    let period = micros(terms.period_start);
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
            "INSERT INTO usage_period_totals (install_id, meter, period_start, quantity) VALUES (?, ?, ?, ?) \
             ON CONFLICT (install_id, meter, period_start) DO UPDATE SET quantity = quantity + excluded.quantity \
             RETURNING quantity",
        )
        .bind(install_id.as_str())
        .bind(meter.as_str())
        .bind(period)
        .bind(qty)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_err)?;
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
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO usage_records (install_id, usage_type, quantity, amount_minor, at, event_id, \
             period_start, free_quantity, billable_quantity, cost_micros) ",
        );
        qb.push_values(chunk, |mut row, ((event_id, u), m)| {
            row.push_bind(u.install_id.as_str().to_owned())
                .push_bind(u.usage_type.as_str())
                .push_bind(u.quantity)
                .push_bind(u.amount_minor)
                .push_bind(micros(u.at))
                .push_bind((*event_id).to_owned())
                .push_bind(m.map(|_| period))
                .push_bind(m.map(|m| m.split.free))
                .push_bind(m.map(|m| m.split.billable))
                .push_bind(m.map(|m| m.cost_micros));
        });
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
    }
    Ok(())
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
