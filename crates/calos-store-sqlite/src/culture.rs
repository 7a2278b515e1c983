//! [`CultureStore`] for SQLite: the culture rollups and totals folded at
//! ingest, and the analyzer's reads — a fixed number of statements for any number of
//! installs (installs are bound in chunks only to stay under SQLite's
//! variable and compound-select limits).

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{NaiveDate, TimeDelta};
use sqlx::{QueryBuilder, Sqlite, Transaction};

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

use crate::db::{commit, corrupt, count, db_err, get, insert_audit, micros, time, write_tx};
use crate::SqliteStore;

/// Installs per statement: each per-install sub-select of the sessions and
/// user-agent reads is one term of a compound select (SQLite allows 500).
const INSTALLS_PER_CHUNK: usize = 200;
const ROWS_PER_INSERT: usize = 2_000;

type Tx = Transaction<'static, Sqlite>;

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn parse_day(raw: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|e| corrupt("day", e))
}

/// Adds new events to the sessions, user-agent and usage-day rollups.
pub(crate) async fn fold(tx: &mut Tx, events: &[&IngestEvent]) -> StoreResult<()> {
    let d = culture_delta(events.iter().copied());
    let sessions: Vec<_> = d.sessions.into_iter().collect();
    for chunk in sessions.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO culture_sessions (install_id, session, user_hash, first_ts, last_ts, events) ",
        );
        qb.push_values(chunk, |mut row, ((install, session), s)| {
            row.push_bind(install.clone())
                .push_bind(session.clone())
                .push_bind(s.user.clone())
                .push_bind(micros(s.first))
                .push_bind(micros(s.last))
                .push_bind(s.events);
        });
        // SQLite's two-argument min() is NULL when either is: keep the other.
        qb.push(
            " ON CONFLICT (install_id, session) DO UPDATE SET \
             user_hash = coalesce(min(user_hash, excluded.user_hash), user_hash, excluded.user_hash), \
             first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts), \
             events = events + excluded.events",
        );
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
    }
    let agents: Vec<_> = d.user_agents.into_iter().collect();
    for chunk in agents.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO culture_user_agents (install_id, day, user_agent, events) ",
        );
        qb.push_values(chunk, |mut row, ((install, day, agent), n)| {
            row.push_bind(install.clone())
                .push_bind(day_text(*day))
                .push_bind(agent.clone())
                .push_bind(*n);
        });
        qb.push(
            " ON CONFLICT (install_id, day, user_agent) DO UPDATE SET events = events + excluded.events",
        );
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
    }
    let usage: Vec<_> = d.usage_days.into_iter().collect();
    for chunk in usage.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO culture_usage_days (install_id, day, meter, quantity) ",
        );
        qb.push_values(chunk, |mut row, ((install, day, meter), n)| {
            row.push_bind(install.clone())
                .push_bind(day_text(*day))
                .push_bind(meter.as_str())
                .push_bind(*n);
        });
        qb.push(
            " ON CONFLICT (install_id, day, meter) DO UPDATE SET quantity = quantity + excluded.quantity",
        );
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
    }
    Ok(())
}

/// Adds a batch's change to the hour totals and feature days (see
/// [`calos_store::totals_delta`]).
pub(crate) async fn fold_totals(tx: &mut Tx, d: &TotalsDelta) -> StoreResult<()> {
    let hours: Vec<_> = d.hours.iter().collect();
    for chunk in hours.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO culture_hour_totals (install_id, hour, events, errors, good, people_events, \
             api_events, api_good) ",
        );
        qb.push_values(chunk, |mut row, ((install, _), h)| {
            row.push_bind(install.clone())
                .push_bind(micros(h.hour))
                .push_bind(h.events)
                .push_bind(h.errors)
                .push_bind(h.good)
                .push_bind(h.people_events)
                .push_bind(h.api_events)
                .push_bind(h.api_good);
        });
        qb.push(
            " ON CONFLICT (install_id, hour) DO UPDATE SET events = events + excluded.events, \
             errors = errors + excluded.errors, good = good + excluded.good, \
             people_events = people_events + excluded.people_events, \
             api_events = api_events + excluded.api_events, api_good = api_good + excluded.api_good",
        );
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
    }
    let days: Vec<_> = d.feature_days.iter().collect();
    for chunk in days.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO culture_feature_days (install_id, day, feature, events, errors, good) ",
        );
        qb.push_values(chunk, |mut row, ((install, _, _), f)| {
            row.push_bind(install.clone())
                .push_bind(day_text(f.day))
                .push_bind(f.feature.clone())
                .push_bind(f.events)
                .push_bind(f.errors)
                .push_bind(f.good);
        });
        qb.push(
            " ON CONFLICT (install_id, day, feature) DO UPDATE SET events = events + excluded.events, \
             errors = errors + excluded.errors, good = good + excluded.good",
        );
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
    }
    Ok(())
}

/// Adds a batch's new daily memberships to the distinct users per day and
/// moves its users' last days forward (see [`calos_store::users_delta`]).
pub(crate) async fn fold_users(tx: &mut Tx, d: &UsersDelta) -> StoreResult<()> {
    let days: Vec<_> = d.day_users.iter().collect();
    for chunk in days.chunks(ROWS_PER_INSERT) {
        let mut qb =
            QueryBuilder::<Sqlite>::new("INSERT INTO culture_day_users (install_id, day, users) ");
        qb.push_values(chunk, |mut row, ((install, day), n)| {
            row.push_bind(install.clone())
                .push_bind(day_text(*day))
                .push_bind(*n);
        });
        qb.push(" ON CONFLICT (install_id, day) DO UPDATE SET users = users + excluded.users");
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
    }
    let users: Vec<_> = d.last_seen.iter().collect();
    for chunk in users.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO culture_users (install_id, user_hash, last_day) ",
        );
        qb.push_values(chunk, |mut row, ((install, user), day)| {
            row.push_bind(install.clone())
                .push_bind(user.clone())
                .push_bind(day_text(**day));
        });
        qb.push(
            " ON CONFLICT (install_id, user_hash) DO UPDATE SET \
             last_day = max(last_day, excluded.last_day)",
        );
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
    }
    Ok(())
}

/// The rebuild of the totals from the rollups and daily memberships: the
/// statements of migrations `0008_culture_totals.sql` and
/// `0013_culture_users.sql`, restricted to a list of installs that follows.
const REBUILD_HOURS: &str = "INSERT INTO culture_hour_totals (install_id, hour, events, errors, \
     good, people_events, api_events, api_good) \
     SELECT install_id, hour, sum(events), sum(errors), sum(max(events - max(errors, 0), 0)), \
     sum(CASE WHEN users > 0 THEN events ELSE 0 END), \
     sum(CASE WHEN type = 'api_call' THEN events ELSE 0 END), \
     sum(CASE WHEN type = 'api_call' THEN max(events - max(errors, 0), 0) ELSE 0 END) \
     FROM telemetry_rollups WHERE install_id IN ";
const REBUILD_FEATURE_DAYS: &str = "INSERT INTO culture_feature_days (install_id, day, feature, \
     events, errors, good) \
     SELECT install_id, date(hour / 1000000, 'unixepoch'), feature, sum(events), sum(errors), \
     sum(max(events - max(errors, 0), 0)) \
     FROM telemetry_rollups WHERE feature <> '' AND install_id IN ";
const REBUILD_DAY_USERS: &str = "INSERT INTO culture_day_users (install_id, day, users) \
     SELECT install_id, day, count(*) FROM daily_users WHERE install_id IN ";
const REBUILD_USERS: &str = "INSERT INTO culture_users (install_id, user_hash, last_day) \
     SELECT install_id, user_hash, max(day) FROM daily_users WHERE install_id IN ";
/// The tables the rebuild replaces.
const TOTALS_TABLES: [&str; 4] = [
    "culture_hour_totals",
    "culture_feature_days",
    "culture_day_users",
    "culture_users",
];

fn push_ids(qb: &mut QueryBuilder<'_, Sqlite>, ids: &[InstallId]) {
    qb.push("(");
    let mut list = qb.separated(", ");
    for id in ids {
        list.push_bind(id.as_str().to_owned());
    }
    qb.push(")");
}

fn install(raw: String) -> StoreResult<InstallId> {
    InstallId::parse(&raw).map_err(|e| corrupt("install id", e))
}

fn meter(raw: &str) -> StoreResult<Meter> {
    Meter::parse(raw).map_err(|e| corrupt("meter", e))
}

/// One chunk of installs: every read, each one statement.
async fn read_chunk(
    store: &SqliteStore,
    ids: &[InstallId],
    w: &CultureWindow,
    out: &mut BTreeMap<InstallId, CultureData>,
) -> StoreResult<()> {
    let pool = &store.pool;
    let today = w.now.date_naive();
    let from_day = w.from.date_naive();

    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT l.install_id, c.timezone_offset_minutes AS tz, \
         EXISTS (SELECT 1 FROM brandings b WHERE b.install_id = l.install_id) AS branded \
         FROM licenses l JOIN customers c ON c.id = l.customer_id WHERE l.install_id IN ",
    );
    push_ids(&mut qb, ids);
    for row in qb.build().fetch_all(pool).await.map_err(db_err)? {
        let tz: Option<i64> = get(&row, "tz")?;
        let data = CultureData {
            timezone_offset_minutes: tz
                .map(|m| i32::try_from(m).map_err(|e| corrupt("time zone", e)))
                .transpose()?,
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
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT install_id, hour, events, errors, good, people_events, api_events, api_good \
         FROM culture_hour_totals WHERE install_id IN ",
    );
    push_ids(&mut qb, ids);
    qb.push(" AND hour >= ").push_bind(micros(w.from));
    for row in qb.build().fetch_all(pool).await.map_err(db_err)? {
        if let Some(d) = out.get_mut(&install(get(&row, "install_id")?)?) {
            d.hours.push(HourTotals {
                hour: time(&row, "hour")?,
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
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT install_id, day, feature, events, errors, good FROM culture_feature_days \
         WHERE install_id IN ",
    );
    push_ids(&mut qb, ids);
    qb.push(" AND day >= ")
        .push_bind(day_text(fw.whole.0.date_naive()))
        .push(" AND day <= ")
        .push_bind(day_text(fw.whole.1.date_naive()));
    for row in qb.build().fetch_all(pool).await.map_err(db_err)? {
        days.entry(install(get(&row, "install_id")?)?)
            .or_default()
            .push(FeatureDay {
                day: parse_day(&get::<String>(&row, "day")?)?,
                feature: get(&row, "feature")?,
                events: get(&row, "events")?,
                good: get(&row, "good")?,
                errors: get(&row, "errors")?,
            });
    }
    let cut = fw.boundary_days();
    let mut boundary: BTreeMap<InstallId, Vec<(NaiveDate, FeatureTotals)>> = BTreeMap::new();
    if !cut.is_empty() {
        let mut qb = QueryBuilder::<Sqlite>::new("");
        for (n, day) in cut.iter().enumerate() {
            let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
            if n > 0 {
                qb.push(" UNION ALL ");
            }
            qb.push(format!(
                "SELECT install_id, feature, {n} AS part, sum(events) AS events, \
                 sum(errors) AS errors, sum(max(events - max(errors, 0), 0)) AS good, \
                 sum(CASE WHEN hour >= "
            ))
            .push_bind(micros(fw.last_7.0))
            .push(" AND hour < ")
            .push_bind(micros(fw.last_7.1))
            .push(" THEN events ELSE 0 END) AS last_7, sum(CASE WHEN hour >= ")
            .push_bind(micros(fw.previous_7.0))
            .push(" AND hour < ")
            .push_bind(micros(fw.previous_7.1))
            .push(" THEN events ELSE 0 END) AS previous_7 FROM telemetry_rollups WHERE install_id IN ");
            push_ids(&mut qb, ids);
            qb.push(" AND hour >= ")
                .push_bind(micros(start.max(fw.whole.0)))
                .push(" AND hour < ")
                .push_bind(micros((start + TimeDelta::days(1)).min(fw.whole.1)))
                .push(" AND feature <> '' GROUP BY install_id, feature");
        }
        for row in qb.build().fetch_all(pool).await.map_err(db_err)? {
            let part: i64 = get(&row, "part")?;
            let day = usize::try_from(part)
                .ok()
                .and_then(|p| cut.get(p))
                .ok_or_else(|| corrupt("boundary day", part))?;
            boundary
                .entry(install(get(&row, "install_id")?)?)
                .or_default()
                .push((
                    *day,
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

    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT install_id, day, users FROM culture_day_users WHERE install_id IN ",
    );
    push_ids(&mut qb, ids);
    qb.push(" AND day >= ").push_bind(day_text(from_day));
    for row in qb.build().fetch_all(pool).await.map_err(db_err)? {
        if let Some(d) = out.get_mut(&install(get(&row, "install_id")?)?) {
            d.daily_users.push((
                parse_day(&get::<String>(&row, "day")?)?,
                get(&row, "users")?,
            ));
        }
    }

    // Distinct users over the last 7 and 28 days, and over the current
    // billing period's days (seats). While no user of an install was seen
    // after today or after the period's last day, each is a count of the
    // users last seen on or after the window's first day: a range of the
    // recent users' index. An install with a user seen later (an event
    // dated ahead, an analysis of the past) is counted from the daily
    // memberships instead.
    let week_from = day_text(today - TimeDelta::days(6));
    let month_from = day_text(today - TimeDelta::days(27));
    let today_text = day_text(today);
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT u.install_id, sum(u.last_day >= ");
    qb.push_bind(week_from.clone())
        .push(") AS week, sum(u.last_day >= ")
        .push_bind(month_from.clone())
        .push(
            ") AS month, sum(u.last_day >= date(l.current_period_start / 1000000, 'unixepoch')) \
             AS seats, max(u.last_day) <= min(",
        )
        .push_bind(today_text.clone())
        .push(
            ", date(l.current_period_end / 1000000, 'unixepoch')) AS exact \
             FROM culture_users u JOIN licenses l ON l.install_id = u.install_id \
             WHERE u.install_id IN ",
        );
    push_ids(&mut qb, ids);
    qb.push(" AND u.last_day >= min(")
        .push_bind(month_from.clone())
        .push(", date(l.current_period_start / 1000000, 'unixepoch')) GROUP BY u.install_id");
    let mut rescan = Vec::new();
    for row in qb.build().fetch_all(pool).await.map_err(db_err)? {
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
        // Grouped by user first, then counted: one sort instead of a
        // temporary b-tree per distinct count.
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT install_id, sum(w) AS week, sum(m) AS month, sum(s) AS seats \
             FROM (SELECT d.install_id, max(d.day >= ",
        );
        qb.push_bind(week_from)
            .push(" AND d.day <= ")
            .push_bind(today_text.clone())
            .push(") AS w, max(d.day >= ")
            .push_bind(month_from.clone())
            .push(" AND d.day <= ")
            .push_bind(today_text)
            .push(
                ") AS m, max(d.day >= date(l.current_period_start / 1000000, 'unixepoch') AND \
                 d.day <= date(l.current_period_end / 1000000, 'unixepoch')) AS s \
                 FROM daily_users d JOIN licenses l ON l.install_id = d.install_id \
                 WHERE d.install_id IN ",
            );
        push_ids(&mut qb, &rescan);
        qb.push(" AND d.day >= min(").push_bind(month_from).push(
            ", date(l.current_period_start / 1000000, 'unixepoch')) \
                 GROUP BY d.install_id, d.user_hash) GROUP BY install_id",
        );
        for row in qb.build().fetch_all(pool).await.map_err(db_err)? {
            if let Some(d) = out.get_mut(&install(get(&row, "install_id")?)?) {
                d.active_users.last_7_days = get(&row, "week")?;
                d.active_users.last_28_days = get(&row, "month")?;
                d.seats = get(&row, "seats")?;
            }
        }
    }

    // The newest sessions of each install, as their order statistics.
    crate::culture_sessions::read_session_samples(pool, ids, w, out).await?;

    let mut qb = QueryBuilder::<Sqlite>::new("");
    for (n, id) in ids.iter().enumerate() {
        if n > 0 {
            qb.push(" UNION ALL ");
        }
        qb.push(
            "SELECT * FROM (SELECT install_id, user_agent, sum(events) AS events \
             FROM culture_user_agents WHERE install_id = ",
        )
        .push_bind(id.as_str().to_owned())
        .push(" AND day >= ")
        .push_bind(day_text(from_day))
        .push(" GROUP BY user_agent ORDER BY events DESC, user_agent LIMIT ")
        .push_bind(i64::try_from(w.max_user_agents).unwrap_or(i64::MAX))
        .push(")");
    }
    for row in qb.build().fetch_all(pool).await.map_err(db_err)? {
        if let Some(d) = out.get_mut(&install(get(&row, "install_id")?)?) {
            d.user_agents
                .push((get(&row, "user_agent")?, get(&row, "events")?));
        }
    }

    // Metered in the current period: the running totals ingest keeps.
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT t.install_id, t.meter, t.quantity FROM usage_period_totals t \
         JOIN licenses l ON l.install_id = t.install_id AND t.period_start = l.current_period_start \
         WHERE t.install_id IN ",
    );
    push_ids(&mut qb, ids);
    for row in qb.build().fetch_all(pool).await.map_err(db_err)? {
        if let Some(d) = out.get_mut(&install(get(&row, "install_id")?)?) {
            let m = meter(&get::<String>(&row, "meter")?)?;
            *d.period_usage.entry(m).or_insert(0) += get::<i64>(&row, "quantity")?;
        }
    }

    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT install_id, day, meter, quantity FROM culture_usage_days WHERE install_id IN ",
    );
    push_ids(&mut qb, ids);
    qb.push(" AND day >= ").push_bind(day_text(w.usage_from));
    for row in qb.build().fetch_all(pool).await.map_err(db_err)? {
        if let Some(d) = out.get_mut(&install(get(&row, "install_id")?)?) {
            d.daily_usage.push(MeterDay {
                day: parse_day(&get::<String>(&row, "day")?)?,
                meter: meter(&get::<String>(&row, "meter")?)?,
                quantity: get(&row, "quantity")?,
            });
        }
    }

    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT install_id, count(*) AS n FROM verify_domains WHERE install_id IN ",
    );
    push_ids(&mut qb, ids);
    qb.push(" AND last_seen_at >= ")
        .push_bind(micros(w.from))
        .push(" GROUP BY install_id");
    for row in qb.build().fetch_all(pool).await.map_err(db_err)? {
        if let Some(d) = out.get_mut(&install(get(&row, "install_id")?)?) {
            d.domains_seen = count(get(&row, "n")?);
        }
    }
    Ok(())
}

#[async_trait]
impl CultureStore for SqliteStore {
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
        // The write lock (`BEGIN IMMEDIATE`) keeps ingest out until commit.
        let _turn = crate::ingest::turn(&self.pool).await;
        let mut tx = write_tx(&self.pool).await?;
        for chunk in installs.chunks(ROWS_PER_INSERT) {
            for table in TOTALS_TABLES {
                let mut qb = QueryBuilder::<Sqlite>::new(format!(
                    "DELETE FROM {table} WHERE install_id IN "
                ));
                push_ids(&mut qb, chunk);
                qb.build().execute(&mut *tx).await.map_err(db_err)?;
            }
            let mut qb = QueryBuilder::<Sqlite>::new(REBUILD_HOURS);
            push_ids(&mut qb, chunk);
            qb.push(" GROUP BY install_id, hour");
            qb.build().execute(&mut *tx).await.map_err(db_err)?;
            let mut qb = QueryBuilder::<Sqlite>::new(REBUILD_FEATURE_DAYS);
            push_ids(&mut qb, chunk);
            qb.push(" GROUP BY install_id, date(hour / 1000000, 'unixepoch'), feature");
            qb.build().execute(&mut *tx).await.map_err(db_err)?;
            let mut qb = QueryBuilder::<Sqlite>::new(REBUILD_DAY_USERS);
            push_ids(&mut qb, chunk);
            qb.push(" GROUP BY install_id, day");
            qb.build().execute(&mut *tx).await.map_err(db_err)?;
            let mut qb = QueryBuilder::<Sqlite>::new(REBUILD_USERS);
            push_ids(&mut qb, chunk);
            qb.push(" GROUP BY install_id, user_hash");
            qb.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        commit(tx).await
    }

    async fn set_customer_timezone(
        &self,
        install_id: &InstallId,
        offset_minutes: Option<i32>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = write_tx(&self.pool).await?;
        let changed = sqlx::query(
            "UPDATE customers SET timezone_offset_minutes = ? \
             WHERE id = (SELECT customer_id FROM licenses WHERE install_id = ?)",
        )
        .bind(offset_minutes)
        .bind(install_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound("license"));
        }
        insert_audit(&mut tx, audit).await?;
        commit(tx).await
    }

    async fn put_health_scores(&self, scores: &[HealthScore]) -> StoreResult<()> {
        if scores.is_empty() {
            return Ok(());
        }
        let mut tx = write_tx(&self.pool).await?;
        for chunk in scores.chunks(ROWS_PER_INSERT) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO culture_health (install_id, score, label, computed_at) ",
            );
            qb.push_values(chunk, |mut row, s| {
                row.push_bind(s.install_id.as_str().to_owned())
                    .push_bind(s.score.map(i64::from))
                    .push_bind(s.label.clone())
                    .push_bind(micros(s.computed_at));
            });
            qb.push(
                " ON CONFLICT (install_id) DO UPDATE SET score = excluded.score, \
                 label = excluded.label, computed_at = excluded.computed_at",
            );
            qb.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        commit(tx).await
    }

    async fn health_scores(&self, installs: &[InstallId]) -> StoreResult<Vec<HealthScore>> {
        let mut out = Vec::new();
        for chunk in installs.chunks(ROWS_PER_INSERT) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "SELECT install_id, score, label, computed_at FROM culture_health WHERE install_id IN ",
            );
            push_ids(&mut qb, chunk);
            for row in qb.build().fetch_all(&self.pool).await.map_err(db_err)? {
                let score: Option<i64> = get(&row, "score")?;
                out.push(HealthScore {
                    install_id: install(get(&row, "install_id")?)?,
                    score: score
                        .map(|s| u32::try_from(s).map_err(|e| corrupt("health score", e)))
                        .transpose()?,
                    label: get(&row, "label")?,
                    computed_at: time(&row, "computed_at")?,
                });
            }
        }
        out.sort_by(|a, b| a.install_id.cmp(&b.install_id));
        Ok(out)
    }
}
