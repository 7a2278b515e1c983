//! What a set of new events adds to the culture rollups and totals (see
//! [`crate::CultureStore`]), folded in memory so a backend writes one
//! upsert per row rather than per event. Keys are sorted, so concurrent
//! batches take row locks in one order.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use calos_core::culture::{good_events, FeatureDay, HourTotals};
use calos_core::plan::Meter;
use calos_core::rollup::{day_of, RollupKey};
use calos_core::telemetry::EventType;

use crate::IngestEvent;

/// One session's share of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDelta {
    /// The smallest user id among the session's events (byte order).
    pub user: Option<String>,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub events: i64,
}

/// A batch's additions, keyed by (install, …).
#[derive(Debug, Default)]
pub struct CultureDelta {
    pub sessions: BTreeMap<(String, String), SessionDelta>,
    pub user_agents: BTreeMap<(String, NaiveDate, String), i64>,
    pub usage_days: BTreeMap<(String, NaiveDate, Meter), i64>,
}

/// Folds events that were stored for the first time.
pub fn culture_delta<'a>(events: impl IntoIterator<Item = &'a IngestEvent>) -> CultureDelta {
    let mut d = CultureDelta::default();
    for ie in events {
        let e = &ie.event;
        let install = e.install_id.as_str();
        if let Some(session) = &e.session {
            let s = d
                .sessions
                .entry((install.to_owned(), session.clone()))
                .or_insert(SessionDelta {
                    user: None,
                    first: e.ts,
                    last: e.ts,
                    events: 0,
                });
            s.first = s.first.min(e.ts);
            s.last = s.last.max(e.ts);
            s.events += 1;
            if let Some(user) = &e.user {
                if s.user.as_ref().is_none_or(|u| user < u) {
                    s.user = Some(user.clone());
                }
            }
        }
        if let Some(ua) = &e.user_agent {
            *d.user_agents
                .entry((install.to_owned(), day_of(e.ts), ua.clone()))
                .or_insert(0) += 1;
        }
        if let Some(u) = &ie.usage {
            *d.usage_days
                .entry((
                    u.install_id.as_str().to_owned(),
                    day_of(u.at),
                    u.usage_type.meter(),
                ))
                .or_insert(0) += u.quantity;
        }
    }
    d
}

/// The counts of a rollup bucket the culture totals depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BucketCounts {
    pub events: i64,
    pub users: i64,
    pub errors: i64,
}

/// What a batch adds to the culture totals (see [`crate::CultureStore`]):
/// per (install, hour) and per (install, UTC day, feature), in key order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TotalsDelta {
    pub hours: BTreeMap<(String, DateTime<Utc>), HourTotals>,
    pub feature_days: BTreeMap<(String, NaiveDate, String), FeatureDay>,
}

/// The totals' change from rollup buckets the batch changed: for each, its
/// key, what the batch added and the bucket's counts after the upsert (as
/// the upsert returned them, under its row lock). The totals are not plain
/// sums of what was added — an hour's "people events" count a bucket's
/// events once it has a user, and "good" events are clamped per bucket —
/// so each bucket's contribution is taken before and after.
pub fn totals_delta<'a>(
    changes: impl IntoIterator<Item = (&'a RollupKey, BucketCounts, BucketCounts)>,
) -> TotalsDelta {
    let good = |c: BucketCounts| good_events(c.events, c.errors);
    let people = |c: BucketCounts| if c.users > 0 { c.events } else { 0 };
    let mut d = TotalsDelta::default();
    for (key, added, after) in changes {
        let before = BucketCounts {
            events: after.events - added.events,
            users: after.users - added.users,
            errors: after.errors - added.errors,
        };
        let good_delta = good(after) - good(before);
        let h = d
            .hours
            .entry((key.install_id.clone(), key.hour))
            .or_insert(HourTotals {
                hour: key.hour,
                ..HourTotals::default()
            });
        h.events += added.events;
        h.errors += added.errors;
        h.good += good_delta;
        h.people_events += people(after) - people(before);
        if key.event_type == EventType::ApiCall {
            h.api_events += added.events;
            h.api_good += good_delta;
        }
        if key.feature.is_empty() {
            continue;
        }
        let day = day_of(key.hour);
        let f = d
            .feature_days
            .entry((key.install_id.clone(), day, key.feature.clone()))
            .or_insert_with(|| FeatureDay {
                day,
                feature: key.feature.clone(),
                ..FeatureDay::default()
            });
        f.events += added.events;
        f.errors += added.errors;
        f.good += good_delta;
    }
    d
}

/// What a batch's daily-user memberships change in the distinct-user
/// tables (see [`crate::CultureStore`]), in key order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UsersDelta {
    /// Memberships new to the store, per (install, UTC day): what the day's
    /// distinct-user count grows by.
    pub day_users: BTreeMap<(String, NaiveDate), i64>,
    /// The latest UTC day each user was seen on in the batch, per (install,
    /// user): kept as the user's last day when later than the one stored.
    pub last_seen: BTreeMap<(String, String), NaiveDate>,
}

/// Folds a batch's (install, day, user) memberships, and the (install, day)
/// of each one the store did not hold before (as its insert reported them).
pub fn users_delta<'a>(
    memberships: impl IntoIterator<Item = &'a (String, NaiveDate, String)>,
    inserted: impl IntoIterator<Item = (String, NaiveDate)>,
) -> UsersDelta {
    let mut d = UsersDelta::default();
    for key in inserted {
        *d.day_users.entry(key).or_insert(0) += 1;
    }
    for (install, day, user) in memberships {
        let last = d
            .last_seen
            .entry((install.clone(), user.clone()))
            .or_insert(*day);
        *last = (*last).max(*day);
    }
    d
}

#[cfg(test)]
mod users_tests {
    use super::*;

    #[test]
    fn users_delta_counts_new_memberships_and_keeps_the_latest_day() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2025, 3, d).expect("day");
        let m = [
            ("a".to_owned(), day(1), "u1".to_owned()),
            ("a".to_owned(), day(3), "u1".to_owned()),
            ("a".to_owned(), day(2), "u2".to_owned()),
            ("b".to_owned(), day(1), "u1".to_owned()),
        ];
        // u1 on day 3 was stored already: only three memberships are new.
        let d = users_delta(
            &m,
            [
                ("a".to_owned(), day(1)),
                ("a".to_owned(), day(2)),
                ("b".to_owned(), day(1)),
            ],
        );
        assert_eq!(
            d.day_users.into_iter().collect::<Vec<_>>(),
            [
                (("a".to_owned(), day(1)), 1),
                (("a".to_owned(), day(2)), 1),
                (("b".to_owned(), day(1)), 1)
            ]
        );
        assert_eq!(d.last_seen[&("a".to_owned(), "u1".to_owned())], day(3));
        assert_eq!(d.last_seen[&("a".to_owned(), "u2".to_owned())], day(2));
        assert_eq!(d.last_seen.len(), 3);
    }
}
