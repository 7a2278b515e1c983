//! The ingest write path for PostgreSQL. Every table gets one statement per
//! batch whose rows travel as arrays (`UNNEST`), so the SQL text is the same
//! for every batch: it is prepared once per connection and reused, and a
//! 1,000-event batch binds 13 arrays rather than 13,000 parameters.
//!
//! Rows are written in key order (events by id, buckets and memberships
//! sorted), so two concurrent batches take their row locks in the same order
//! and cannot deadlock; a membership or event id another open transaction is
//! inserting waits for it and is then skipped, which keeps distinct counts
//! exact. The rows every batch of an install shares (its rollup buckets,
//! culture rows and period totals) are written last, so a batch holds their
//! locks only for the short tail of its transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Postgres, Transaction};

use calos_core::ids::InstallId;
use calos_core::metering::meter_records;
use calos_core::plan::Meter;
use calos_core::rollup::{self, RollupCounts, RollupKey};
use calos_core::telemetry::UsageRecord;
use calos_store::{
    totals_delta, users_delta, BucketCounts, IngestEvent, MeteringTerms, StoreError, StoreResult,
    TotalsDelta,
};

use crate::error::DbResultExt;

type Tx = Transaction<'static, Postgres>;
/// (install, hour, type, feature): a rollup bucket as stored.
type Bucket = (String, DateTime<Utc>, String, String);
/// A bucket and its events, users and errors, as the rollup upsert returns them.
type BucketRow = (String, DateTime<Utc>, String, String, i64, i64, i64);

/// Events per statement: bounds one statement's memory, not a parameter limit.
const EVENT_ROWS: usize = 5_000;

/// The id goes into `telemetry_event_ids` first (its primary key is what
/// makes an event id a duplicate whatever its ts: the partitioned raw table
/// cannot have a unique key without ts); the raw row is written only for
/// ids that were new. Within the statement the first copy of a repeated id
/// wins, and rows go in (install, id) byte order, as the caller sorted them.
const INSERT_EVENTS: &str = "WITH x AS (SELECT * FROM UNNEST($1::text[], $2::text[], \
     $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::text[], \
     $10::int8[], $11::int4[], $12::text[], $13::text[]) WITH ORDINALITY \
     AS x(i, e, t, f, u, s, ts, ua, ep, d, st, er, p, n)), \
     firsts AS (SELECT DISTINCT ON (i COLLATE \"C\", e COLLATE \"C\") * FROM x \
     ORDER BY i COLLATE \"C\", e COLLATE \"C\", n), \
     ids AS (INSERT INTO telemetry_event_ids (install_id, event_id, ts) \
     SELECT i, e, ts FROM firsts ORDER BY i COLLATE \"C\", e COLLATE \"C\" \
     ON CONFLICT (install_id, event_id) DO NOTHING RETURNING install_id, event_id) \
     INSERT INTO telemetry_events (install_id, event_id, type, feature, \
     user_hash, session, ts, user_agent, endpoint, duration_ms, status, error, props_json) \
     SELECT i, e, t, f, u, s, ts, ua, ep, d, st, er, p::jsonb FROM firsts \
     JOIN ids ON ids.install_id = firsts.i AND ids.event_id = firsts.e \
     RETURNING install_id, event_id";

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
        for (install, id) in insert_events(tx, chunk).await? {
            fresh.insert((install, id));
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
    if new_events.is_empty() {
        return Ok(0);
    }
    let delta = rollup::delta(new_events.iter().map(|ie| &ie.event));
    let new_users = insert_members(tx, MemberTable::Users, &delta.users).await?;
    let new_sessions = insert_members(tx, MemberTable::Sessions, &delta.sessions).await?;
    let new_days = insert_daily_users(tx, &delta.daily_users).await?;
    // From here on every statement touches rows other batches of the same
    // install share: keep this tail short.
    let totals = upsert_rollups(tx, &delta.counts, &new_users, &new_sessions).await?;
    crate::culture::fold_totals(tx, &totals).await?;
    crate::culture::fold_users(tx, &users_delta(&delta.daily_users, new_days)).await?;
    crate::culture::fold(tx, &new_events).await?;
    if let Some((install_id, terms)) = terms {
        meter(tx, install_id, terms, &new_events).await?;
    }
    Ok(inserted)
}

async fn insert_events(tx: &mut Tx, chunk: &[&IngestEvent]) -> StoreResult<Vec<(String, String)>> {
    let n = chunk.len();
    let mut install = Vec::with_capacity(n);
    let mut id = Vec::with_capacity(n);
    let mut kind = Vec::with_capacity(n);
    let mut feature = Vec::with_capacity(n);
    let mut user = Vec::with_capacity(n);
    let mut session = Vec::with_capacity(n);
    let mut ts = Vec::with_capacity(n);
    let mut agent = Vec::with_capacity(n);
    let mut endpoint = Vec::with_capacity(n);
    let mut duration = Vec::with_capacity(n);
    let mut status = Vec::with_capacity(n);
    let mut error = Vec::with_capacity(n);
    let mut props = Vec::with_capacity(n);
    for ie in chunk {
        let e = &ie.event;
        install.push(e.install_id.as_str());
        id.push(e.event_id.as_str());
        kind.push(e.event_type.as_str());
        feature.push(e.feature.as_deref());
        user.push(e.user.as_deref());
        session.push(e.session.as_deref());
        ts.push(e.ts);
        agent.push(e.user_agent.as_deref());
        endpoint.push(e.endpoint.as_deref());
        duration.push(e.duration_ms.map(i64::from));
        status.push(e.status.map(i32::from));
        error.push(e.error.as_deref());
        props.push(serde_json::to_string(&e.props).map_err(|err| {
            calos_store::StoreError::Backend(format!("cannot encode event props as JSON: {err}"))
        })?);
    }
    sqlx::query_as(INSERT_EVENTS)
        .bind(install)
        .bind(id)
        .bind(kind)
        .bind(feature)
        .bind(user)
        .bind(session)
        .bind(ts)
        .bind(agent)
        .bind(endpoint)
        .bind(duration)
        .bind(status)
        .bind(error)
        .bind(props)
        .fetch_all(&mut **tx)
        .await
        .db()
}

#[derive(Clone, Copy)]
enum MemberTable {
    Users,
    Sessions,
}

/// Inserts memberships, returning how many were new per bucket.
async fn insert_members(
    tx: &mut Tx,
    table: MemberTable,
    members: &BTreeSet<(RollupKey, String)>,
) -> StoreResult<HashMap<Bucket, i64>> {
    let mut new = HashMap::new();
    if members.is_empty() {
        return Ok(new);
    }
    let sql = match table {
        MemberTable::Users => {
            "INSERT INTO rollup_users (install_id, hour, type, feature, user_hash) \
             SELECT * FROM UNNEST($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[]) \
             ON CONFLICT DO NOTHING RETURNING install_id, hour, type, feature"
        }
        MemberTable::Sessions => {
            "INSERT INTO rollup_sessions (install_id, hour, type, feature, session) \
             SELECT * FROM UNNEST($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[]) \
             ON CONFLICT DO NOTHING RETURNING install_id, hour, type, feature"
        }
    };
    let mut install = Vec::with_capacity(members.len());
    let mut hour = Vec::with_capacity(members.len());
    let mut kind = Vec::with_capacity(members.len());
    let mut feature = Vec::with_capacity(members.len());
    let mut member = Vec::with_capacity(members.len());
    for (key, m) in members {
        install.push(key.install_id.as_str());
        hour.push(key.hour);
        kind.push(key.event_type.as_str());
        feature.push(key.feature.as_str());
        member.push(m.as_str());
    }
    let rows: Vec<Bucket> = sqlx::query_as(sql)
        .bind(install)
        .bind(hour)
        .bind(kind)
        .bind(feature)
        .bind(member)
        .fetch_all(&mut **tx)
        .await
        .db()?;
    for b in rows {
        *new.entry(b).or_insert(0) += 1;
    }
    Ok(new)
}

/// Inserts the daily memberships, returning the (install, day) of each one
/// that was new (a membership another batch inserted first, committed or
/// not, waits for it and is not returned).
async fn insert_daily_users(
    tx: &mut Tx,
    daily: &BTreeSet<(String, NaiveDate, String)>,
) -> StoreResult<Vec<(String, NaiveDate)>> {
    if daily.is_empty() {
        return Ok(Vec::new());
    }
    let (install, day, user): (Vec<&str>, Vec<NaiveDate>, Vec<&str>) = daily
        .iter()
        .map(|(i, d, u)| (i.as_str(), *d, u.as_str()))
        .collect();
    sqlx::query_as(
        "INSERT INTO daily_users (install_id, day, user_hash) \
         SELECT * FROM UNNEST($1::text[], $2::date[], $3::text[]) ON CONFLICT DO NOTHING \
         RETURNING install_id, day",
    )
    .bind(install)
    .bind(day)
    .bind(user)
    .fetch_all(&mut **tx)
    .await
    .db()
}

/// Adds the batch's counters to its buckets; distinct counts grow by the
/// memberships that were new. Returns the change this makes to the culture
/// totals, from each bucket's counts as the upsert left them (read under
/// its row lock, so exact whatever other batches do).
async fn upsert_rollups(
    tx: &mut Tx,
    counts: &BTreeMap<RollupKey, RollupCounts>,
    new_users: &HashMap<Bucket, i64>,
    new_sessions: &HashMap<Bucket, i64>,
) -> StoreResult<TotalsDelta> {
    if counts.is_empty() {
        return Ok(TotalsDelta::default());
    }
    let mut added: Vec<(&RollupKey, BucketCounts)> = Vec::with_capacity(counts.len());
    let n = counts.len();
    let (mut install, mut hour, mut kind, mut feature) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut cols: [Vec<i64>; 6] = Default::default();
    for (k, c) in counts {
        let b: Bucket = (
            k.install_id.clone(),
            k.hour,
            k.event_type.as_str().to_owned(),
            k.feature.clone(),
        );
        let users = new_users.get(&b).copied().unwrap_or(0);
        let sessions = new_sessions.get(&b).copied().unwrap_or(0);
        added.push((
            k,
            BucketCounts {
                events: c.events,
                users,
                errors: c.errors,
            },
        ));
        for (col, v) in cols.iter_mut().zip([
            c.events,
            users,
            sessions,
            c.errors,
            c.duration_sum_ms,
            c.duration_count,
        ]) {
            col.push(v);
        }
        install.push(b.0);
        hour.push(b.1);
        kind.push(b.2);
        feature.push(b.3);
    }
    let [events, users, sessions, errors, dur_sum, dur_count] = cols;
    let after: Vec<BucketRow> = sqlx::query_as(
        "INSERT INTO telemetry_rollups AS r (install_id, hour, type, feature, events, users, sessions, \
         errors, duration_sum_ms, duration_count) \
         SELECT * FROM UNNEST($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::int8[], \
         $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[]) \
         ON CONFLICT (install_id, hour, type, feature) DO UPDATE SET \
         events = r.events + excluded.events, users = r.users + excluded.users, \
         sessions = r.sessions + excluded.sessions, errors = r.errors + excluded.errors, \
         duration_sum_ms = r.duration_sum_ms + excluded.duration_sum_ms, \
         duration_count = r.duration_count + excluded.duration_count \
         RETURNING install_id, hour, type, feature, events, users, errors",
    )
    .bind(install)
    .bind(hour)
    .bind(kind)
    .bind(feature)
    .bind(events)
    .bind(users)
    .bind(sessions)
    .bind(errors)
    .bind(dur_sum)
    .bind(dur_count)
    .fetch_all(&mut **tx)
    .await
    .db()?;
    let after: HashMap<Bucket, BucketCounts> = after
        .into_iter()
        .map(|(i, h, t, f, events, users, errors)| {
            let counts = BucketCounts {
                events,
                users,
                errors,
            };
            ((i, h, t, f), counts)
        })
        .collect();
    let changes = added
        .into_iter()
        .map(|(k, add)| {
            let b: Bucket = (
                k.install_id.clone(),
                k.hour,
                k.event_type.as_str().to_owned(),
                k.feature.clone(),
            );
            after
                .get(&b)
                .map(|a| (k, add, *a))
                .ok_or_else(|| StoreError::Backend("a rollup upsert returned no row".to_owned()))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(totals_delta(changes))
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
    let period = terms.period_start;
    // Usage from before the current period arrived after that period
    // closed: it is stored (it happened) but not metered against an
    // allowance, so it can neither use up nor bill the current one.
    let in_period = |u: &UsageRecord| terms.closed_before.is_none_or(|closed| u.at >= closed);
    let mut batch_qty: BTreeMap<Meter, i64> = BTreeMap::new();
    for (_, u) in usage.iter().filter(|(_, u)| in_period(u)) {
        *batch_qty.entry(u.usage_type.meter()).or_insert(0) += u.quantity;
    }
    let mut before = BTreeMap::new();
    if !batch_qty.is_empty() {
        // Meters in key order (a BTreeMap), so concurrent batches lock the
        // totals in one order.
        let (meters, qtys): (Vec<&str>, Vec<i64>) =
            batch_qty.iter().map(|(m, q)| (m.as_str(), *q)).unzip();
        let totals: Vec<(String, i64)> = sqlx::query_as(
            "INSERT INTO usage_period_totals AS t (install_id, meter, period_start, quantity) \
             SELECT $1, m, $2, q FROM UNNEST($3::text[], $4::int8[]) AS x(m, q) \
             ON CONFLICT (install_id, meter, period_start) \
             DO UPDATE SET quantity = t.quantity + excluded.quantity RETURNING meter, quantity",
        )
        .bind(install_id.as_str())
        .bind(period)
        .bind(meters)
        .bind(qtys)
        .fetch_all(&mut **tx)
        .await
        .db()?;
        for (meter, after) in totals {
            if let Some((m, qty)) = batch_qty.iter().find(|(m, _)| m.as_str() == meter) {
                before.insert(*m, after - qty);
            }
        }
    }
    let records: Vec<_> = usage
        .iter()
        .filter(|(_, u)| in_period(u))
        .map(|(_, u)| (u.usage_type, u.quantity, u.amount_minor))
        .collect();
    let mut metered = meter_records(&terms.limits, &terms.prices, &before, &records).into_iter();
    let n = usage.len();
    let mut install = Vec::with_capacity(n);
    let mut kind = Vec::with_capacity(n);
    let mut quantity = Vec::with_capacity(n);
    let mut amount = Vec::with_capacity(n);
    let mut at = Vec::with_capacity(n);
    let mut event_id = Vec::with_capacity(n);
    let mut period_start = Vec::with_capacity(n);
    let mut free = Vec::with_capacity(n);
    let mut billable = Vec::with_capacity(n);
    let mut cost = Vec::with_capacity(n);
    for (id, u) in &usage {
        let m = if in_period(u) { metered.next() } else { None };
        install.push(u.install_id.as_str());
        kind.push(u.usage_type.as_str());
        quantity.push(u.quantity);
        amount.push(u.amount_minor);
        at.push(u.at);
        event_id.push(*id);
        period_start.push(m.map(|_| period));
        free.push(m.map(|m| m.split.free));
        billable.push(m.map(|m| m.split.billable));
        cost.push(m.map(|m| m.cost_micros));
    }
    sqlx::query(
        "INSERT INTO usage_records (install_id, usage_type, quantity, amount_minor, at, event_id, \
         period_start, free_quantity, billable_quantity, cost_micros) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::timestamptz[], \
         $6::text[], $7::timestamptz[], $8::int8[], $9::int8[], $10::int8[])",
    )
    .bind(install)
    .bind(kind)
    .bind(quantity)
    .bind(amount)
    .bind(at)
    .bind(event_id)
    .bind(period_start)
    .bind(free)
    .bind(billable)
    .bind(cost)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}
