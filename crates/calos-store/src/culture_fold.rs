//! What a set of new events adds to the culture rollups (see
//! [`crate::CultureStore`]), folded in memory so a backend writes one
//! upsert per row rather than per event. Keys are sorted, so concurrent
//! batches take row locks in one order.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use calos_core::plan::Meter;
use calos_core::rollup::day_of;

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
