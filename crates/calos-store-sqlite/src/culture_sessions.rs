//! The session sample of the culture read ([`calos_core::culture::SessionSample`]):
//! the newest sessions of each install are selected as before (one indexed,
//! limited sub-select per install over the index in exactly that order),
//! but each install comes back as one row holding its sessions' lengths and
//! event counts as two comma-separated lists, instead of up to 5,000 rows
//! through the driver — which was the largest part of the read for a big
//! customer (each row crosses from the connection's thread separately).
//! Ranking in SQL (window functions, or a sort per quantile) cost more CPU
//! than the lists; the order of a list does not matter, the sample sorts.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use calos_core::culture::SessionSample;
use calos_core::ids::InstallId;
use calos_store::{CultureData, CultureWindow, StoreResult};

use crate::db::{corrupt, db_err, get, micros};

/// The integers of a `group_concat` list (`NULL` when there were none).
fn integers(list: Option<String>) -> StoreResult<Vec<i64>> {
    list.as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<i64>().map_err(|e| corrupt("session list", e)))
        .collect()
}

/// Reads the session sample of every install of `ids` into `out`.
pub(crate) async fn read_session_samples(
    pool: &SqlitePool,
    ids: &[InstallId],
    w: &CultureWindow,
    out: &mut BTreeMap<InstallId, CultureData>,
) -> StoreResult<()> {
    // Lengths in microseconds (last event minus first), as kept.
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT install_id, group_concat(last_ts - first_ts) AS lengths, \
         group_concat(events) AS events FROM (",
    );
    for (n, id) in ids.iter().enumerate() {
        if n > 0 {
            qb.push(" UNION ALL ");
        }
        qb.push(
            "SELECT * FROM (SELECT install_id, first_ts, last_ts, events \
             FROM culture_sessions WHERE install_id = ",
        )
        .push_bind(id.as_str().to_owned())
        .push(" AND last_ts >= ")
        .push_bind(micros(w.from))
        .push(" ORDER BY last_ts DESC, session LIMIT ")
        .push_bind(i64::try_from(w.max_sessions).unwrap_or(i64::MAX))
        .push(")");
    }
    qb.push(") GROUP BY install_id");
    for row in qb.build().fetch_all(pool).await.map_err(db_err)? {
        let raw: String = get(&row, "install_id")?;
        let id = InstallId::parse(&raw).map_err(|e| corrupt("install id", e))?;
        let Some(d) = out.get_mut(&id) else {
            continue;
        };
        let lengths = integers(get(&row, "lengths")?)?;
        let events = integers(get(&row, "events")?)?;
        if lengths.len() != events.len() {
            return Err(corrupt(
                "session lists",
                "lengths and events differ in count",
            ));
        }
        d.sessions = SessionSample::from_lengths(
            lengths.into_iter().map(TimeDelta::microseconds).zip(events),
        );
    }
    Ok(())
}
