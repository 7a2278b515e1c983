//! The ingest write path for SQLite: raw events, rollups, culture rows and
//! totals, and metered usage of a batch, in one `BEGIN IMMEDIATE`
//! transaction.
//!
//! SQLite has one writer at a time. Writers that find the lock taken sleep
//! in SQLite's busy handler (1 ms growing to 100 ms between tries), so under
//! load the lock sits idle between transactions. Ingest transactions of one
//! database therefore queue in-process first ([`turn`]): the next batch
//! starts the moment the previous one commits.
//!
//! Because the transaction holds the write lock from its first statement,
//! which event ids are stored already is known exactly by looking them up;
//! the insert then only writes the new ones and returns no rows.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{NaiveDate, Utc};
use sqlx::{QueryBuilder, Sqlite, SqlitePool, Transaction};
use tokio::sync::OwnedMutexGuard;

use calos_core::ids::InstallId;
use calos_core::metering::meter_records;
use calos_core::plan::Meter;
use calos_core::rollup::{self, RollupCounts, RollupKey};
use calos_core::telemetry::UsageRecord;
use calos_store::{
    totals_delta, users_delta, BucketCounts, IngestEvent, MeteringTerms, StoreError, StoreResult,
};

use crate::culture::parse_day;
use crate::db::{db_err, get, micros, to_json};

/// SQLite allows 32,766 bound variables per statement; events bind 14.
const EVENT_ROWS: usize = 1_000;
const SMALL_ROWS: usize = 2_000;

type Tx = Transaction<'static, Sqlite>;
/// (install, hour micros, type, feature): a rollup bucket as stored.
type Bucket = (String, i64, String, String);

type Queues = Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>;

/// Waits for this database's ingest turn; hold it until the commit.
pub(crate) async fn turn(pool: &SqlitePool) -> OwnedMutexGuard<()> {
    static QUEUES: OnceLock<Queues> = OnceLock::new();
    let file = pool.connect_options().get_filename().to_path_buf();
    let queue = {
        let mut map = match QUEUES.get_or_init(Queues::default).lock() {
            Ok(map) => map,
            // Another thread panicked while inserting a queue: the map
            // itself is still whole.
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(file).or_default().clone()
    };
    queue.lock_owned().await
}

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Writes events (of any installs) and folds the new ones; meters their
/// usage when `terms` is given. Returns how many events were new. `tx` must
/// hold the write lock (`BEGIN IMMEDIATE`).
pub(crate) async fn write(
    tx: &mut Tx,
    events: &[IngestEvent],
    terms: Option<(&InstallId, &MeteringTerms)>,
) -> StoreResult<u64> {
    if events.is_empty() {
        return Ok(0);
    }
    let stored = stored_ids(tx, events).await?;
    // The first occurrence of each id not stored yet: a repeat inside the
    // batch is neither inserted nor folded twice.
    let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(events.len());
    let new_events: Vec<&IngestEvent> = events
        .iter()
        .filter(|ie| {
            let key = (ie.event.install_id.as_str(), ie.event.event_id.as_str());
            !stored.contains(&key) && seen.insert(key)
        })
        .collect();
    if new_events.is_empty() {
        return Ok(0);
    }
    insert_events(tx, &new_events).await?;
    fold(tx, &new_events).await?;
    crate::culture::fold(tx, &new_events).await?;
    if let Some((install_id, terms)) = terms {
        meter(tx, install_id, terms, &new_events).await?;
    }
    Ok(new_events.len() as u64)
}

/// The (install, event id) pairs of `events` that are stored already: one
/// statement per install, the ids bound as one JSON array.
async fn stored_ids<'e>(
    tx: &mut Tx,
    events: &'e [IngestEvent],
) -> StoreResult<HashSet<(&'e str, &'e str)>> {
    let mut by_install: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for ie in events {
        by_install
            .entry(ie.event.install_id.as_str())
            .or_default()
            .push(ie.event.event_id.as_str());
    }
    let mut stored = HashSet::new();
    for (install, ids) in by_install {
        let found: Vec<String> = sqlx::query_scalar(
            "SELECT event_id FROM telemetry_events \
             WHERE install_id = ? AND event_id IN (SELECT value FROM json_each(?))",
        )
        .bind(install)
        .bind(to_json(&ids, "event ids")?)
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?;
        let found: HashSet<String> = found.into_iter().collect();
        stored.extend(
            ids.into_iter()
                .filter(|id| found.contains(*id))
                .map(|id| (install, id)),
        );
    }
    Ok(stored)
}

/// Inserts events none of which is stored; fails (rolling the batch back)
/// if the database disagrees.
async fn insert_events(tx: &mut Tx, events: &[&IngestEvent]) -> StoreResult<()> {
    let received_at = micros(Utc::now());
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
            row.push_bind(e.install_id.as_str())
                .push_bind(e.event_id.as_str())
                .push_bind(e.event_type.as_str())
                .push_bind(e.feature.as_deref())
                .push_bind(e.user.as_deref())
                .push_bind(e.session.as_deref())
                .push_bind(micros(e.ts))
                .push_bind(e.user_agent.as_deref())
                .push_bind(e.endpoint.as_deref())
                .push_bind(e.duration_ms.map(i64::from))
                .push_bind(e.status.map(i64::from))
                .push_bind(e.error.as_deref())
                .push_bind(props)
                .push_bind(received_at);
        });
        qb.push(" ON CONFLICT (install_id, event_id) DO NOTHING");
        let written = qb
            .build()
            .execute(&mut **tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if written != chunk.len() as u64 {
            return Err(StoreError::Backend(format!(
                "{} of {} new events were already stored: the write lock was not held",
                chunk.len() as u64 - written,
                chunk.len()
            )));
        }
    }
    Ok(())
}

/// Adds the new events to the rollups and distinct-count memberships, and
/// what the rollups' change makes to the culture totals.
async fn fold(tx: &mut Tx, events: &[&IngestEvent]) -> StoreResult<()> {
    let delta = rollup::delta(events.iter().map(|ie| &ie.event));
    let new_users = insert_members(tx, "rollup_users", "user_hash", &delta.users).await?;
    let new_sessions = insert_members(tx, "rollup_sessions", "session", &delta.sessions).await?;
    let rows: Vec<(&RollupKey, RollupCounts)> = delta
        .counts
        .iter()
        .map(|(k, c)| {
            let b = (
                k.install_id.clone(),
                micros(k.hour),
                k.event_type.as_str().to_owned(),
                k.feature.clone(),
            );
            let counts = RollupCounts {
                users: new_users.get(&b).copied().unwrap_or(0),
                sessions: new_sessions.get(&b).copied().unwrap_or(0),
                ..*c
            };
            (k, counts)
        })
        .collect();
    let mut after: HashMap<Bucket, BucketCounts> = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(SMALL_ROWS) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO telemetry_rollups (install_id, hour, type, feature, events, users, sessions, \
             errors, duration_sum_ms, duration_count) ",
        );
        qb.push_values(chunk, |mut row, (k, c)| {
            row.push_bind(k.install_id.as_str())
                .push_bind(micros(k.hour))
                .push_bind(k.event_type.as_str())
                .push_bind(k.feature.as_str())
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
             duration_count = duration_count + excluded.duration_count \
             RETURNING install_id, hour, type, feature, events, users, errors",
        );
        for row in qb.build().fetch_all(&mut **tx).await.map_err(db_err)? {
            let b: Bucket = (
                get(&row, "install_id")?,
                get(&row, "hour")?,
                get(&row, "type")?,
                get(&row, "feature")?,
            );
            let counts = BucketCounts {
                events: get(&row, "events")?,
                users: get(&row, "users")?,
                errors: get(&row, "errors")?,
            };
            after.insert(b, counts);
        }
    }
    // Each bucket's counts after the upsert against what the batch added.
    let changes =
        rows.iter()
            .map(|(k, c)| {
                let b = (
                    k.install_id.clone(),
                    micros(k.hour),
                    k.event_type.as_str().to_owned(),
                    k.feature.clone(),
                );
                let added = BucketCounts {
                    events: c.events,
                    users: c.users,
                    errors: c.errors,
                };
                after.get(&b).map(|a| (*k, added, *a)).ok_or_else(|| {
                    StoreError::Backend("a rollup upsert returned no row".to_owned())
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
    crate::culture::fold_totals(tx, &totals_delta(changes)).await?;
    let daily: Vec<_> = delta.daily_users.iter().collect();
    let mut inserted = Vec::new();
    for chunk in daily.chunks(SMALL_ROWS) {
        let mut qb =
            QueryBuilder::<Sqlite>::new("INSERT INTO daily_users (install_id, day, user_hash) ");
        qb.push_values(chunk, |mut row, (install, day, user)| {
            row.push_bind(install.as_str())
                .push_bind(day_text(*day))
                .push_bind(user.as_str());
        });
        // The memberships that are new grow their day's distinct users.
        qb.push(" ON CONFLICT DO NOTHING RETURNING install_id, day");
        for row in qb.build().fetch_all(&mut **tx).await.map_err(db_err)? {
            inserted.push((
                get(&row, "install_id")?,
                parse_day(&get::<String>(&row, "day")?)?,
            ));
        }
    }
    crate::culture::fold_users(tx, &users_delta(&delta.daily_users, inserted)).await
}

/// Inserts memberships, returning how many were new per bucket.
async fn insert_members(
    tx: &mut Tx,
    table: &str,
    column: &str,
    members: &BTreeSet<(RollupKey, String)>,
) -> StoreResult<HashMap<Bucket, i64>> {
    let mut new = HashMap::new();
    let members: Vec<_> = members.iter().collect();
    for chunk in members.chunks(SMALL_ROWS) {
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "INSERT INTO {table} (install_id, hour, type, feature, {column}) "
        ));
        qb.push_values(chunk, |mut row, (key, member)| {
            row.push_bind(key.install_id.as_str())
                .push_bind(micros(key.hour))
                .push_bind(key.event_type.as_str())
                .push_bind(key.feature.as_str())
                .push_bind(member.as_str());
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
    let usage: Vec<(&str, &UsageRecord)> = events
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
    let in_period = |u: &UsageRecord| terms.closed_before.is_none_or(|closed| u.at >= closed);
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
            row.push_bind(u.install_id.as_str())
                .push_bind(u.usage_type.as_str())
                .push_bind(u.quantity)
                .push_bind(u.amount_minor)
                .push_bind(micros(u.at))
                .push_bind(*event_id)
                .push_bind(m.map(|_| period))
                .push_bind(m.map(|m| m.split.free))
                .push_bind(m.map(|m| m.split.billable))
                .push_bind(m.map(|m| m.cost_micros));
        });
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
    }
    Ok(())
}
