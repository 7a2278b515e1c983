//! The session sample of the culture read ([`calos_core::culture::SessionSample`]):
//! the newest sessions of each install are selected as before (one indexed,
//! limited sub-select per install, an index-only scan in exactly that
//! order), but each install comes back as one row holding its sessions'
//! first and last event times and event counts as three arrays, instead of
//! up to 5,000 rows through the driver. Ranking in SQL (window functions)
//! cost more than the arrays; their order does not matter, the sample sorts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

use calos_core::culture::SessionSample;
use calos_core::ids::InstallId;
use calos_store::{CultureData, CultureWindow, StoreResult};

use crate::error::{corrupt, DbResultExt};

/// Reads the session sample of every install of `ids` into `out`.
pub(crate) async fn read_session_samples(
    pool: &PgPool,
    ids: &[InstallId],
    w: &CultureWindow,
    out: &mut BTreeMap<InstallId, CultureData>,
) -> StoreResult<()> {
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT install_id, array_agg(first_ts) AS firsts, array_agg(last_ts) AS lasts, \
         array_agg(events) AS events FROM (",
    );
    for (n, id) in ids.iter().enumerate() {
        if n > 0 {
            qb.push(" UNION ALL ");
        }
        qb.push(
            "(SELECT install_id, first_ts, last_ts, events \
             FROM culture_sessions WHERE install_id = ",
        )
        .push_bind(id.as_str().to_owned())
        .push(" AND last_ts >= ")
        .push_bind(w.from)
        .push(" ORDER BY last_ts DESC, session COLLATE \"C\" LIMIT ")
        .push_bind(i64::try_from(w.max_sessions).unwrap_or(i64::MAX))
        .push(")");
    }
    qb.push(") AS recent GROUP BY install_id");
    for row in qb.build().fetch_all(pool).await.db()? {
        let raw: String = row.try_get("install_id").db()?;
        let id = InstallId::parse(&raw).map_err(|e| corrupt("install id", e))?;
        let Some(d) = out.get_mut(&id) else {
            continue;
        };
        let firsts: Vec<DateTime<Utc>> = row.try_get("firsts").db()?;
        let lasts: Vec<DateTime<Utc>> = row.try_get("lasts").db()?;
        let events: Vec<i64> = row.try_get("events").db()?;
        if firsts.len() != lasts.len() || firsts.len() != events.len() {
            return Err(corrupt("session arrays", "they differ in length"));
        }
        d.sessions = SessionSample::from_lengths(
            lasts
                .into_iter()
                .zip(firsts)
                .map(|(last, first)| last - first)
                .zip(events),
        );
    }
    Ok(())
}
