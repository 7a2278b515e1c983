//! Hourly rollups: install × hour × event type × feature, with counts,
//! exact distinct users and sessions, errors and durations; plus distinct
//! users per install and day. The stores fold events into these at ingest;
//! [`fold`] recomputes them from raw events, which is how the stores are
//! checked.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};
use serde::Serialize;

use crate::telemetry::{EventType, TelemetryEvent};

/// The start of the hour `ts` falls in (UTC).
pub fn hour_of(ts: DateTime<Utc>) -> DateTime<Utc> {
    ts.duration_trunc(TimeDelta::hours(1)).unwrap_or(ts)
}

/// The UTC day `ts` falls in.
pub fn day_of(ts: DateTime<Utc>) -> NaiveDate {
    ts.date_naive()
}

/// An event counts as an error when it is an `error` event, carries an
/// error message, or reports an HTTP status of 400 or more.
pub fn is_error(e: &TelemetryEvent) -> bool {
    e.event_type == EventType::Error || e.error.is_some() || e.status.is_some_and(|s| s >= 400)
}

/// The rollup bucket of an event. `feature` is `""` when the event has none.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupKey {
    pub install_id: String,
    pub hour: DateTime<Utc>,
    pub event_type: EventType,
    pub feature: String,
}

impl RollupKey {
    pub fn of(e: &TelemetryEvent) -> Self {
        Self {
            install_id: e.install_id.as_str().to_owned(),
            hour: hour_of(e.ts),
            event_type: e.event_type,
            feature: e.feature.clone().unwrap_or_default(),
        }
    }
}

/// The counters of one bucket.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupCounts {
    pub events: i64,
    pub users: i64,
    pub sessions: i64,
    pub errors: i64,
    pub duration_sum_ms: i64,
    pub duration_count: i64,
}

/// One stored rollup row.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupRow {
    #[serde(flatten)]
    pub key: RollupKey,
    #[serde(flatten)]
    pub counts: RollupCounts,
}

/// What a set of new (never seen before) events adds at ingest: the plain
/// counters per bucket, and the (bucket, user), (bucket, session) and
/// (install, day, user) memberships whose first appearance bumps a distinct
/// count. Distinct counters are left at 0 here: the store knows which
/// memberships are new.
#[derive(Debug, Default)]
pub struct Delta {
    pub counts: BTreeMap<RollupKey, RollupCounts>,
    pub users: BTreeSet<(RollupKey, String)>,
    pub sessions: BTreeSet<(RollupKey, String)>,
    pub daily_users: BTreeSet<(String, NaiveDate, String)>,
}

pub fn delta<'a>(events: impl IntoIterator<Item = &'a TelemetryEvent>) -> Delta {
    let mut d = Delta::default();
    for e in events {
        let key = RollupKey::of(e);
        let c = d.counts.entry(key.clone()).or_default();
        c.events += 1;
        c.errors += i64::from(is_error(e));
        if let Some(ms) = e.duration_ms {
            c.duration_sum_ms += i64::from(ms);
            c.duration_count += 1;
        }
        if let Some(user) = &e.user {
            d.users.insert((key.clone(), user.clone()));
            d.daily_users
                .insert((e.install_id.as_str().to_owned(), day_of(e.ts), user.clone()));
        }
        if let Some(session) = &e.session {
            d.sessions.insert((key, session.clone()));
        }
    }
    d
}

/// Recomputes rollup rows and daily distinct users from raw events (each
/// event once): the reference the stores' incremental fold must equal.
pub fn fold<'a>(
    events: impl IntoIterator<Item = &'a TelemetryEvent>,
) -> (Vec<RollupRow>, BTreeMap<(String, NaiveDate), i64>) {
    let d = delta(events);
    let mut counts = d.counts;
    for (key, _) in &d.users {
        if let Some(c) = counts.get_mut(key) {
            c.users += 1;
        }
    }
    for (key, _) in &d.sessions {
        if let Some(c) = counts.get_mut(key) {
            c.sessions += 1;
        }
    }
    let mut daily = BTreeMap::new();
    for (install, day, _) in d.daily_users {
        *daily.entry((install, day)).or_insert(0) += 1;
    }
    let rows = counts
        .into_iter()
        .map(|(key, counts)| RollupRow { key, counts })
        .collect();
    (rows, daily)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::InstallId;
    use chrono::TimeZone;

    fn ev(id: &str, min: u32, user: Option<&str>, session: Option<&str>) -> TelemetryEvent {
        TelemetryEvent {
            install_id: InstallId::parse("rollup-install-0001").unwrap(),
            event_id: id.into(),
            event_type: EventType::FeatureUsed,
            feature: Some("pos".into()),
            user: user.map(Into::into),
            session: session.map(Into::into),
            ts: Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).unwrap()
                + TimeDelta::minutes(i64::from(min)),
            user_agent: None,
            endpoint: None,
            duration_ms: Some(100),
            status: None,
            error: None,
            props: serde_json::Map::new(),
        }
    }

    #[test]
    fn hour_and_day_truncate_in_utc() {
        let t = Utc.with_ymd_and_hms(2025, 3, 1, 23, 59, 59).unwrap();
        assert_eq!(
            hour_of(t),
            Utc.with_ymd_and_hms(2025, 3, 1, 23, 0, 0).unwrap()
        );
        assert_eq!(day_of(t), NaiveDate::from_ymd_opt(2025, 3, 1).unwrap());
    }

    #[test]
    fn fold_counts_distinct_users_and_sessions_exactly() {
        let events = [
            ev("a", 1, Some("u1"), Some("s1")),
            ev("b", 2, Some("u1"), Some("s1")),
            ev("c", 3, Some("u2"), Some("s2")),
            ev("d", 70, Some("u1"), None),
        ];
        let (rows, daily) = fold(&events);
        assert_eq!(rows.len(), 2, "two hours");
        let first = rows[0].counts;
        assert_eq!((first.events, first.users, first.sessions), (3, 2, 2));
        assert_eq!((first.duration_sum_ms, first.duration_count), (300, 3));
        let second = rows[1].counts;
        assert_eq!((second.events, second.users, second.sessions), (1, 1, 0));
        assert_eq!(daily.values().copied().collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn errors_are_error_events_messages_or_4xx_5xx() {
        let mut e = ev("a", 0, None, None);
        assert!(!is_error(&e));
        e.status = Some(404);
        assert!(is_error(&e));
        e.status = Some(200);
        e.error = Some("boom".into());
        assert!(is_error(&e));
        let mut e = ev("b", 0, None, None);
        e.event_type = EventType::Error;
        assert!(is_error(&e));
    }
}
