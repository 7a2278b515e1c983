//! [`CultureStore`] for PostgreSQL: the culture rollups and totals folded at
//! ingest
//! (rows upserted in key order, so concurrent batches lock in one order), and
//! the analyzer's reads — a fixed number of statements for any number of
//! installs (installs are bound in chunks only to bound statement size).

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::culture::{
    feature_totals, FeatureDay, FeatureTotals, FeatureWindows, HourTotals, MeterDay,
};
use calos_core::ids::InstallId;
use calos_core::plan::Meter;
use calos_store::{
    culture_delta, CultureData, CultureStore, CultureWindow, HealthScore, IngestEvent, StoreError,
    StoreResult, TotalsDelta, UsersDelta,
};

use crate::audit::insert_audit;
use crate::error::{corrupt, DbResultExt};
use crate::PostgresStore;

/// Installs per statement: each per-install sub-select of the sessions and
/// user-agent reads is one term of a compound select.
const INSTALLS_PER_CHUNK: usize = 200;
const ROWS_PER_INSERT: usize = 2_000;

type Tx = Transaction<'static, Postgres>;

fn get<'r, T>(row: &'r PgRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(column).db()
}

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Adds new events to the sessions, user-agent and usage-day rollups: one
/// statement per table, rows as arrays (`UNNEST`, so the SQL is the same for
/// every batch and stays prepared) in key order (so concurrent batches lock
/// in one order). These rows are shared by every batch of an install, so
/// ingest writes them at the very end of its transaction.
pub(crate) async fn fold(tx: &mut Tx, events: &[&IngestEvent]) -> StoreResult<()> {
    let d = culture_delta(events.iter().copied());
    if !d.sessions.is_empty() {
        let n = d.sessions.len();
        let (mut install, mut session, mut user) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut first, mut last, mut count) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for ((i, s), v) in &d.sessions {
            install.push(i.as_str());
            session.push(s.as_str());
            user.push(v.user.as_deref());
            first.push(v.first);
            last.push(v.last);
            count.push(v.events);
        }
        // LEAST skips NULLs; the column's "C" collation makes it byte order.
        sqlx::query(
            "INSERT INTO culture_sessions AS s (install_id, session, user_hash, first_ts, last_ts, events) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[], \
             $5::timestamptz[], $6::int8[]) \
             ON CONFLICT (install_id, session) DO UPDATE SET \
             user_hash = LEAST(s.user_hash, excluded.user_hash), \
             first_ts = LEAST(s.first_ts, excluded.first_ts), \
             last_ts = GREATEST(s.last_ts, excluded.last_ts), events = s.events + excluded.events",
        )
        .bind(install)
        .bind(session)
        .bind(user)
        .bind(first)
        .bind(last)
        .bind(count)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    if !d.user_agents.is_empty() {
        let mut cols = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((i, day, agent), n) in &d.user_agents {
            cols.0.push(i.as_str());
            cols.1.push(*day);
            cols.2.push(agent.as_str());
            cols.3.push(*n);
        }
        sqlx::query(
            "INSERT INTO culture_user_agents AS u (install_id, day, user_agent, events) \
             SELECT * FROM UNNEST($1::text[], $2::date[], $3::text[], $4::int8[]) \
             ON CONFLICT (install_id, day, user_agent) DO UPDATE SET events = u.events + excluded.events",
        )
        .bind(cols.0)
        .bind(cols.1)
        .bind(cols.2)
        .bind(cols.3)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    if !d.usage_days.is_empty() {
        let mut cols = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((i, day, meter), n) in &d.usage_days {
            cols.0.push(i.as_str());
            cols.1.push(*day);
            cols.2.push(meter.as_str());
            cols.3.push(*n);
        }
        sqlx::query(
            "INSERT INTO culture_usage_days AS u (install_id, day, meter, quantity) \
             SELECT * FROM UNNEST($1::text[], $2::date[], $3::text[], $4::int8[]) \
             ON CONFLICT (install_id, day, meter) DO UPDATE SET quantity = u.quantity + excluded.quantity",
        )
        .bind(cols.0)
        .bind(cols.1)
        .bind(cols.2)
        .bind(cols.3)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    Ok(())
}

/// Adds a batch's change to the hour totals and feature days (see
/// [`calos_store::totals_delta`]): additive upserts in key order, so
/// concurrent batches commute and lock in one order. Ingest runs this right
/// after the rollup upsert whose returned rows the change was taken from.
pub(crate) async fn fold_totals(tx: &mut Tx, d: &TotalsDelta) -> StoreResult<()> {
    if !d.hours.is_empty() {
        let n = d.hours.len();
        let mut install = Vec::with_capacity(n);
        let mut hour: Vec<DateTime<Utc>> = Vec::with_capacity(n);
        let mut cols: [Vec<i64>; 6] = Default::default();
        for ((i, _), h) in &d.hours {
            install.push(i.as_str());
            hour.push(h.hour);
            for (col, v) in cols.iter_mut().zip([
                h.events,
                h.errors,
                h.good,
                h.people_events,
                h.api_events,
                h.api_good,
            ]) {
                col.push(v);
            }
        }
        let [events, errors, good, people, api, api_good] = cols;
        sqlx::query(
            "INSERT INTO culture_hour_totals AS t (install_id, hour, events, errors, good, \
             people_events, api_events, api_good) \
             SELECT * FROM UNNEST($1::text[], $2::timestamptz[], $3::int8[], $4::int8[], $5::int8[], \
             $6::int8[], $7::int8[], $8::int8[]) \
             ON CONFLICT (install_id, hour) DO UPDATE SET events = t.events + excluded.events, \
             errors = t.errors + excluded.errors, good = t.good + excluded.good, \
             people_events = t.people_events + excluded.people_events, \
             api_events = t.api_events + excluded.api_events, api_good = t.api_good + excluded.api_good",
        )
        .bind(install)
        .bind(hour)
        .bind(events)
        .bind(errors)
        .bind(good)
        .bind(people)
        .bind(api)
        .bind(api_good)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    if !d.feature_days.is_empty() {
        let n = d.feature_days.len();
        let mut install = Vec::with_capacity(n);
        let mut day: Vec<NaiveDate> = Vec::with_capacity(n);
        let mut feature = Vec::with_capacity(n);
        let mut cols: [Vec<i64>; 3] = Default::default();
        for ((i, _, _), f) in &d.feature_days {
            install.push(i.as_str());
            day.push(f.day);
            feature.push(f.feature.as_str());
            for (col, v) in cols.iter_mut().zip([f.events, f.errors, f.good]) {
                col.push(v);
            }
        }
        let [events, errors, good] = cols;
        sqlx::query(
            "INSERT INTO culture_feature_days AS f (install_id, day, feature, events, errors, good) \
             SELECT * FROM UNNEST($1::text[], $2::date[], $3::text[], $4::int8[], $5::int8[], $6::int8[]) \
             ON CONFLICT (install_id, day, feature) DO UPDATE SET events = f.events + excluded.events, \
             errors = f.errors + excluded.errors, good = f.good + excluded.good",
        )
        .bind(install)
        .bind(day)
        .bind(feature)
        .bind(events)
        .bind(errors)
        .bind(good)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    Ok(())
}

/// Adds a batch's new daily memberships to the distinct users per day and
/// moves its users' last days forward (see [`calos_store::users_delta`]):
/// additive and `GREATEST` upserts in key order, so concurrent batches
/// commute and lock in one order.
pub(crate) async fn fold_users(tx: &mut Tx, d: &UsersDelta) -> StoreResult<()> {
    if !d.day_users.is_empty() {
        let (install, day, users): (Vec<&str>, Vec<NaiveDate>, Vec<i64>) = d
            .day_users
            .iter()
            .map(|((i, day), n)| (i.as_str(), *day, *n))
            .collect();
        sqlx::query(
            "INSERT INTO culture_day_users AS t (install_id, day, users) \
             SELECT * FROM UNNEST($1::text[], $2::date[], $3::int8[]) \
             ON CONFLICT (install_id, day) DO UPDATE SET users = t.users + excluded.users",
        )
        .bind(install)
        .bind(day)
        .bind(users)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    if !d.last_seen.is_empty() {
        let (install, user, day): (Vec<&str>, Vec<&str>, Vec<NaiveDate>) = d
            .last_seen
            .iter()
            .map(|((i, u), day)| (i.as_str(), u.as_str(), *day))
            .collect();
        sqlx::query(
            "INSERT INTO culture_users AS t (install_id, user_hash, last_day) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::date[]) \
             ON CONFLICT (install_id, user_hash) DO UPDATE \
             SET last_day = GREATEST(t.last_day, excluded.last_day)",
        )
        .bind(install)
        .bind(user)
        .bind(day)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    Ok(())
}

/// The rebuild of the totals from the rollups and daily memberships: the
/// statements of migrations `20250108000000_culture_totals.sql` and
/// `20250113000000_culture_users.sql`, restricted to the installs in `$1`.
const REBUILD_HOURS: &str = "INSERT INTO culture_hour_totals (install_id, hour, events, errors, \
     good, people_events, api_events, api_good) \
     SELECT install_id, hour, sum(events), sum(errors), sum(greatest(events - greatest(errors, 0), 0)), \
     sum(CASE WHEN users > 0 THEN events ELSE 0 END), \
     sum(CASE WHEN type = 'api_call' THEN events ELSE 0 END), \
     sum(CASE WHEN type = 'api_call' THEN greatest(events - greatest(errors, 0), 0) ELSE 0 END) \
     FROM telemetry_rollups WHERE install_id = ANY($1) GROUP BY install_id, hour";
const REBUILD_FEATURE_DAYS: &str = "INSERT INTO culture_feature_days (install_id, day, feature, \
     events, errors, good) \
     SELECT install_id, (hour AT TIME ZONE 'UTC')::date, feature, sum(events), sum(errors), \
     sum(greatest(events - greatest(errors, 0), 0)) \
     FROM telemetry_rollups WHERE feature <> '' AND install_id = ANY($1) \
     GROUP BY install_id, (hour AT TIME ZONE 'UTC')::date, feature";
const REBUILD_DAY_USERS: &str = "INSERT INTO culture_day_users (install_id, day, users) \
     SELECT install_id, day, count(*) FROM daily_users WHERE install_id = ANY($1) \
     GROUP BY install_id, day";
const REBUILD_USERS: &str = "INSERT INTO culture_users (install_id, user_hash, last_day) \
     SELECT install_id, user_hash, max(day) FROM daily_users WHERE install_id = ANY($1) \
     GROUP BY install_id, user_hash";

/// `= ANY($n)` over the install ids, one array parameter.
fn push_ids(qb: &mut QueryBuilder<'_, Postgres>, ids: &[InstallId]) {
    qb.push(" = ANY(")
        .push_bind(
            ids.iter()
                .map(|i| i.as_str().to_owned())
                .collect::<Vec<_>>(),
        )
        .push(")");
}

fn install(raw: String) -> StoreResult<InstallId> {
    InstallId::parse(&raw).map_err(|e| corrupt("install id", e))
}

fn meter(raw: &str) -> StoreResult<Meter> {
    Meter::parse(raw).map_err(|e| corrupt("meter", e))
}

/// One chunk of installs: every read, each one statement.
async fn read_chunk(
    store: &PostgresStore,
    ids: &[InstallId],
    w: &CultureWindow,
    out: &mut BTreeMap<InstallId, CultureData>,
) -> StoreResult<()> {
    let pool = &store.read_pool;
    let today = w.now.date_naive();
    let from_day = w.from.date_naive();

    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT l.install_id, c.timezone_offset_minutes AS tz, \
         EXISTS (SELECT 1 FROM brandings b WHERE b.install_id = l.install_id) AS branded \
         FROM licenses l JOIN customers c ON c.id = l.customer_id WHERE l.install_id",
    );
    push_ids(&mut qb, ids);
    for row in qb.build().fetch_all(pool).await.db()? {
        let data = CultureData {
            timezone_offset_minutes: get::<Option<i32>>(&row, "tz")?,
            branding_configured: get::<bool>(&row, "branded")?,
            ..CultureData::default()
        };
        out.insert(install(get(&row, "install_id")?)?, data);
    }
    let found: Vec<InstallId> = ids
        .iter()
        .filter(|i| out.contains_key(*i))
        .cloned()
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    let ids = &found[..];

    // The hourly rollups as kept folded per hour.
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT install_id, hour, events, errors, good, people_events, api_events, api_good \
         FROM culture_hour_totals WHERE install_id",
    );
    push_ids(&mut qb, ids);
    qb.push(" AND hour >= ").push_bind(w.from);
    for row in qb.build().fetch_all(pool).await.db()? {
        if let Some(d) = out.get_mut(&install(get(&row, "install_id")?)?) {
            d.hours.push(HourTotals {
                hour: get(&row, "hour")?,
                events: get(&row, "events")?,
                errors: get(&row, "errors")?,
                good: get(&row, "good")?,
                people_events: get(&row, "people_events")?,
                api_events: get(&row, "api_events")?,
                api_good: get(&row, "api_good")?,
            });
        }
    }

    // Features: whole days from the feature days, and the days a window
    // cuts from that day's rollups, folded against the windows in SQL.
    let fw = FeatureWindows::at(w.now);
    let mut days: BTreeMap<InstallId, Vec<FeatureDay>> = BTreeMap::new();
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT install_id, day, feature, events, errors, good FROM culture_feature_days \
         WHERE install_id",
    );
    push_ids(&mut qb, ids);
    qb.push(" AND day >= ")
        .push_bind(fw.whole.0.date_naive())
        .push(" AND day <= ")
        .push_bind(fw.whole.1.date_naive());
    for row in qb.build().fetch_all(pool).await.db()? {
        days.entry(install(get(&row, "install_id")?)?)
            .or_default()
            .push(FeatureDay {
                day: get(&row, "day")?,
                feature: get(&row, "feature")?,
                events: get(&row, "events")?,
                good: get(&row, "good")?,
                errors: get(&row, "errors")?,
            });
    }
    let cut = fw.boundary_days();
    let mut boundary: BTreeMap<InstallId, Vec<(NaiveDate, FeatureTotals)>> = BTreeMap::new();
    if !cut.is_empty() {
        // One scan of the cut days' ranges (OR, so PostgreSQL combines
        // index scans; a UNION ALL of the days gets a parallel plan whose
        // worker start-up costs more than the scan), grouped by UTC day.
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT install_id, feature, (hour AT TIME ZONE 'UTC')::date AS day, \
             sum(events)::int8 AS events, sum(errors)::int8 AS errors, \
             sum(greatest(events - greatest(errors, 0), 0))::int8 AS good, \
             coalesce(sum(events) FILTER (WHERE hour >= ",
        );
        qb.push_bind(fw.last_7.0)
            .push(" AND hour < ")
            .push_bind(fw.last_7.1)
            .push("), 0)::int8 AS last_7, coalesce(sum(events) FILTER (WHERE hour >= ")
            .push_bind(fw.previous_7.0)
            .push(" AND hour < ")
            .push_bind(fw.previous_7.1)
            .push("), 0)::int8 AS previous_7 FROM telemetry_rollups WHERE feature <> '' AND (");
        for (n, day) in cut.iter().enumerate() {
            let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
            if n > 0 {
                qb.push(" OR ");
            }
            qb.push("(install_id");
            push_ids(&mut qb, ids);
            qb.push(" AND hour >= ")
                .push_bind(start.max(fw.whole.0))
                .push(" AND hour < ")
                .push_bind((start + TimeDelta::days(1)).min(fw.whole.1))
                .push(")");
        }
        qb.push(") GROUP BY install_id, feature, day");
        for row in qb.build().fetch_all(pool).await.db()? {
            boundary
                .entry(install(get(&row, "install_id")?)?)
                .or_default()
                .push((
                    get(&row, "day")?,
                    FeatureTotals {
                        feature: get(&row, "feature")?,
                        events: get(&row, "events")?,
                        good: get(&row, "good")?,
                        errors: get(&row, "errors")?,
                        last_7_days: get(&row, "last_7")?,
                        previous_7_days: get(&row, "previous_7")?,
                    },
                ));
        }
    }
    for id in ids {
        if let Some(d) = out.get_mut(id) {
            d.features = feature_totals(
                w.now,
                days.get(id).map_or(&[], Vec::as_slice),
                boundary.get(id).map_or(&[], Vec::as_slice),
            );
        }
    }

    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT install_id, day, users FROM culture_day_users WHERE install_id",
    );
    push_ids(&mut qb, ids);
    qb.push(" AND day >= ").push_bind(from_day);
    for row in qb.build().fetch_all(pool).await.db()? {
        if let Some(d) = out.get_mut(&install(get(&row, "install_id")?)?) {
            d.daily_users.push((get(&row, "day")?, get(&row, "users")?));
        }
    }

    // Distinct users over the last 7 and 28 days, and over the current
    // billing period's days (seats). While no user of an install was seen
    // after today or after the period's last day, each is a count of the
    // users last seen on or after the window's first day: a range of the
    // recent users' index. An install with a user seen later (an event
    // dated ahead, an analysis of the past) is counted from the daily
    // memberships instead.
    let week_from = today - TimeDelta::days(6);
    let month_from = today - TimeDelta::days(27);
    let mut qb =
        QueryBuilder::<Postgres>::new("SELECT u.install_id, count(*) FILTER (WHERE u.last_day >= ");
    qb.push_bind(week_from)
        .push(") AS week, count(*) FILTER (WHERE u.last_day >= ")
        .push_bind(month_from)
        .push(
            ") AS month, count(*) FILTER (WHERE u.last_day >= \
             (l.current_period_start AT TIME ZONE 'UTC')::date) AS seats, max(u.last_day) <= LEAST(",
        )
        .push_bind(today)
        .push(
            ", (l.current_period_end AT TIME ZONE 'UTC')::date) AS exact \
             FROM culture_users u JOIN licenses l ON l.install_id = u.install_id \
             WHERE u.install_id",
        );
    push_ids(&mut qb, ids);
    qb.push(" AND u.last_day >= LEAST(")
        .push_bind(month_from)
        .push(
            ", (l.current_period_start AT TIME ZONE 'UTC')::date) \
             GROUP BY u.install_id, l.current_period_start, l.current_period_end",
        );
    let mut rescan = Vec::new();
    for row in qb.build().fetch_all(pool).await.db()? {
        let id = install(get(&row, "install_id")?)?;
        if !get::<bool>(&row, "exact")? {
            rescan.push(id);
        } else if let Some(d) = out.get_mut(&id) {
            d.active_users.last_7_days = get(&row, "week")?;
            d.active_users.last_28_days = get(&row, "month")?;
            d.seats = get(&row, "seats")?;
        }
    }
    if !rescan.is_empty() {
        // Grouped by user first, then counted: one hash aggregate instead
        // of a sort per distinct count.
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT install_id, count(*) FILTER (WHERE w) AS week, count(*) FILTER (WHERE m) AS month, \
             count(*) FILTER (WHERE s) AS seats FROM (SELECT d.install_id, bool_or(d.day >= ",
        );
        qb.push_bind(week_from)
            .push(" AND d.day <= ")
            .push_bind(today)
            .push(") AS w, bool_or(d.day >= ")
            .push_bind(month_from)
            .push(" AND d.day <= ")
            .push_bind(today)
            .push(
                ") AS m, bool_or(d.day >= (l.current_period_start AT TIME ZONE 'UTC')::date AND \
                 d.day <= (l.current_period_end AT TIME ZONE 'UTC')::date) AS s \
                 FROM daily_users d JOIN licenses l ON l.install_id = d.install_id WHERE d.install_id",
            );
        push_ids(&mut qb, &rescan);
        qb.push(" AND d.day >= LEAST(").push_bind(month_from).push(
            ", (l.current_period_start AT TIME ZONE 'UTC')::date) \
                 GROUP BY d.install_id, d.user_hash) u GROUP BY install_id",
        );
        for row in qb.build().fetch_all(pool).await.db()? {
            if let Some(d) = out.get_mut(&install(get(&row, "install_id")?)?) {
                d.active_users.last_7_days = get(&row, "week")?;
                d.active_users.last_28_days = get(&row, "month")?;
                d.seats = get(&row, "seats")?;
            }
        }
    }

    // The newest sessions of each install, as their order statistics.
    crate::culture_sessions::read_session_samples(pool, ids, w, out).await?;

    let mut qb = QueryBuilder::<Postgres>::new("");
    for (n, id) in ids.iter().enumerate() {
        if n > 0 {
            qb.push(" UNION ALL ");
        }
        qb.push(
            "(SELECT install_id, user_agent, sum(events)::BIGINT AS events \
             FROM culture_user_agents WHERE install_id = ",
        )
        .push_bind(id.as_str().to_owned())
        .push(" AND day >= ")
        .push_bind(from_day)
        .push(
            " GROUP BY install_id, user_agent \
             ORDER BY events DESC, user_agent COLLATE \"C\" LIMIT ",
        )
        .push_bind(i64::try_from(w.max_user_agents).unwrap_or(i64::MAX))
        .push(")");
    }
    for row in qb.build().fetch_all(pool).await.db()? {
        if let Some(d) = out.get_mut(&install(get(&row, "install_id")?)?) {
            d.user_agents
                .push((get(&row, "user_agent")?, get(&row, "events")?));
        }
    }

    // Metered in the current period: the running totals ingest keeps.
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT t.install_id, t.meter, t.quantity FROM usage_period_totals t \
         JOIN licenses l ON l.install_id = t.install_id AND t.period_start = l.current_period_start \
         WHERE t.install_id",
    );
    push_ids(&mut qb, ids);
    for row in qb.build().fetch_all(pool).await.db()? {
        if let Some(d) = out.get_mut(&install(get(&row, "install_id")?)?) {
            let m = meter(&get::<String>(&row, "meter")?)?;
            *d.period_usage.entry(m).or_insert(0) += get::<i64>(&row, "quantity")?;
        }
    }

    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT install_id, day, meter, quantity FROM culture_usage_days WHERE install_id",
    );
    push_ids(&mut qb, ids);
    qb.push(" AND day >= ").push_bind(w.usage_from);
    for row in qb.build().fetch_all(pool).await.db()? {
        if let Some(d) = out.get_mut(&install(get(&row, "install_id")?)?) {
            d.daily_usage.push(MeterDay {
                day: get(&row, "day")?,
                meter: meter(&get::<String>(&row, "meter")?)?,
                quantity: get(&row, "quantity")?,
            });
        }
    }

    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT install_id, count(*) AS n FROM verify_domains WHERE install_id",
    );
    push_ids(&mut qb, ids);
    qb.push(" AND last_seen_at >= ")
        .push_bind(w.from)
        .push(" GROUP BY install_id");
    for row in qb.build().fetch_all(pool).await.db()? {
        if let Some(d) = out.get_mut(&install(get(&row, "install_id")?)?) {
            d.domains_seen = count(get(&row, "n")?);
        }
    }
    Ok(())
}

#[async_trait]
impl CultureStore for PostgresStore {
    async fn culture_data(
        &self,
        installs: &[InstallId],
        window: &CultureWindow,
    ) -> StoreResult<BTreeMap<InstallId, CultureData>> {
        let mut out = BTreeMap::new();
        let mut ids: Vec<InstallId> = installs.to_vec();
        ids.sort();
        ids.dedup();
        for chunk in ids.chunks(INSTALLS_PER_CHUNK) {
            read_chunk(self, chunk, window, &mut out).await?;
        }
        out.values_mut().for_each(CultureData::settle);
        Ok(out)
    }

    async fn rebuild_culture_totals(&self, installs: &[InstallId]) -> StoreResult<()> {
        if installs.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = installs.iter().map(InstallId::as_str).collect();
        let mut tx = self.pool.begin().await.db()?;
        // SHARE conflicts with the ROW EXCLUSIVE every rollup upsert takes:
        // this waits for ingest transactions in flight (so their rollups are
        // read) and holds off new ones until the rebuild commits (so none
        // adds its change to totals about to be replaced).
        // Their daily memberships, inserted before the rollups, are either
        // committed (and read) or not yet visible, their change to the user
        // tables then added after this commits.
        sqlx::query("LOCK TABLE telemetry_rollups IN SHARE MODE")
            .execute(&mut *tx)
            .await
            .db()?;
        for sql in [
            "DELETE FROM culture_hour_totals WHERE install_id = ANY($1)",
            "DELETE FROM culture_feature_days WHERE install_id = ANY($1)",
            "DELETE FROM culture_day_users WHERE install_id = ANY($1)",
            "DELETE FROM culture_users WHERE install_id = ANY($1)",
            REBUILD_HOURS,
            REBUILD_FEATURE_DAYS,
            REBUILD_DAY_USERS,
            REBUILD_USERS,
        ] {
            sqlx::query(sql).bind(&ids).execute(&mut *tx).await.db()?;
        }
        tx.commit().await.db()
    }

    async fn set_customer_timezone(
        &self,
        install_id: &InstallId,
        offset_minutes: Option<i32>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.db()?;
        let changed = sqlx::query(
            "UPDATE customers SET timezone_offset_minutes = $1 \
             WHERE id = (SELECT customer_id FROM licenses WHERE install_id = $2)",
        )
        .bind(offset_minutes)
        .bind(install_id.as_str())
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound("license"));
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn put_health_scores(&self, scores: &[HealthScore]) -> StoreResult<()> {
        if scores.is_empty() {
            return Ok(());
        }
        let mut sorted: Vec<&HealthScore> = scores.iter().collect();
        sorted.sort_by(|a, b| a.install_id.cmp(&b.install_id));
        sorted.dedup_by(|a, b| a.install_id == b.install_id);
        let mut tx = self.pool.begin().await.db()?;
        for chunk in sorted.chunks(ROWS_PER_INSERT) {
            let mut qb = QueryBuilder::<Postgres>::new(
                "INSERT INTO culture_health (install_id, score, label, computed_at) ",
            );
            qb.push_values(chunk, |mut row, s| {
                row.push_bind(s.install_id.as_str().to_owned())
                    .push_bind(s.score.map(|v| i32::try_from(v).unwrap_or(i32::MAX)))
                    .push_bind(s.label.clone())
                    .push_bind(s.computed_at);
            });
            qb.push(
                " ON CONFLICT (install_id) DO UPDATE SET score = excluded.score, \
                 label = excluded.label, computed_at = excluded.computed_at",
            );
            qb.build().execute(&mut *tx).await.db()?;
        }
        tx.commit().await.db()
    }

    async fn health_scores(&self, installs: &[InstallId]) -> StoreResult<Vec<HealthScore>> {
        let mut out = Vec::new();
        for chunk in installs.chunks(ROWS_PER_INSERT) {
            let mut qb = QueryBuilder::<Postgres>::new(
                "SELECT install_id, score, label, computed_at FROM culture_health WHERE install_id",
            );
            push_ids(&mut qb, chunk);
            for row in qb.build().fetch_all(&self.read_pool).await.db()? {
                let score: Option<i32> = get(&row, "score")?;
                out.push(HealthScore {
                    install_id: install(get(&row, "install_id")?)?,
                    score: score
                        .map(|s| u32::try_from(s).map_err(|e| corrupt("health score", e)))
                        .transpose()?,
                    label: get(&row, "label")?,
                    computed_at: get(&row, "computed_at")?,
                });
            }
        }
        out.sort_by(|a, b| a.install_id.cmp(&b.install_id));
        Ok(out)
    }
}
