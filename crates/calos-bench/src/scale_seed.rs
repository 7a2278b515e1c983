//! The data of `bench scale`, made inside PostgreSQL: `events` raw telemetry
//! events over the 10,000 bench licenses with `generate_series` (no rows
//! cross the wire), written through the partitioned parent so each lands in
//! its month's partition, each with its id row (`telemetry_event_ids`), and
//! then everything ingest folds from them recomputed from the raw rows with
//! GROUP BY: hourly rollups, daily users, culture sessions and user agents;
//! the culture totals then come from `CultureStore::rebuild_culture_totals`.
//! So the aggregates equal what ingesting the same events would have made,
//! except the per-hour membership rows (`rollup_users`/`rollup_sessions`),
//! which only matter for a later event in one of those past hours; the load
//! ingests into the current hour, which holds no seeded events.
//!
//! Shape: license k's j-th event is on day j·80/per (of the last 80 days)
//! in an eight-hour working day shifted by k mod 8 hours, in sessions of 10
//! events, by 25 users, over 4 types and 6 features, 2% with status 500.

use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

/// Rows per INSERT: bounds one statement's memory and shows progress.
const CHUNK: i64 = 2_000_000;
/// Writers at once: the machine has two cores.
const WRITERS: usize = 2;

const EVENTS_OF: &str = "SELECT 'bench-install-' || lpad((n % $3)::text, 6, '0') AS install_id, \
     'seed-' || n AS event_id, \
     (ARRAY['page_view','feature_used','api_call','error'])[1 + (n / $3) % 4] AS type, \
     (ARRAY['pos','reports','dashboard','transcripts','quickbooks','locations'])[1 + ((n % $3) + (n / $3) / 50) % 6] AS feature, \
     'user-' || ((n / $3) % 25) AS user_hash, \
     's-' || ((n / $3) / 10) AS session, \
     date_trunc('day', $4::timestamptz) \
       - make_interval(days => 80 - ((n / $3) * 80 / $5)::int) \
       + make_interval(hours => 8 + ((n % $3) % 8)::int, mins => (((n / $3) * 7) % 480)::int) AS ts, \
     (ARRAY['Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0','Mozilla/5.0 (Macintosh) Safari/605.1.15','python-requests/2.31.0'])[1 + ((n / $3) / 10) % 3] AS user_agent, \
     '/api/pos/sale' AS endpoint, (n % 900)::bigint AS duration_ms, \
     CASE WHEN n % 50 = 0 THEN 500 ELSE 200 END AS status \
     FROM generate_series($1::bigint, $2::bigint) AS n";

/// What seeding took.
pub struct Seeded {
    pub events: i64,
    pub raw_secs: f64,
    pub fold_secs: f64,
}

/// Writes `events` events for `licenses` licenses and their aggregates.
pub async fn seed(
    url: &str,
    events: i64,
    licenses: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<Seeded> {
    let pool = PgPoolOptions::new()
        .max_connections(WRITERS as u32)
        // Folds queue for the two connections and each may take minutes.
        .acquire_timeout(std::time::Duration::from_secs(6 * 3600))
        .after_connect(|conn, _| {
            Box::pin(async move {
                // A bulk load: losing it to a crash costs a rerun, not data;
                // date_trunc and ::date work in UTC as the store's folds do.
                for set in [
                    "SET synchronous_commit = off",
                    "SET TIME ZONE 'UTC'",
                    "SET work_mem = '256MB'",
                ] {
                    sqlx::query(set).execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
        .context("seeding pool")?;
    let per_license = (events / licenses).max(1);
    // The seeded months' partitions first, as a server that has been running
    // for those months would have them (the retention worker makes them).
    sqlx::query("SELECT calos_make_telemetry_partitions($1 - INTERVAL '81 days', $1)")
        .bind(now)
        .execute(&pool)
        .await
        .context("making the seeded months' partitions")?;
    let started = Instant::now();
    let chunks: Vec<(i64, i64)> = (0..events)
        .step_by(CHUNK as usize)
        .map(|from| (from, (from + CHUNK).min(events) - 1))
        .collect();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let chunks = std::sync::Arc::new(chunks);
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let (pool, next, chunks) = (pool.clone(), next.clone(), chunks.clone());
        writers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&(from, to)) = chunks.get(i) else {
                    return anyhow::Ok(());
                };
                insert_chunk(&pool, from, to, licenses, now, per_license).await?;
                println!(
                    "    raw events {:>11} .. {:>11} stored ({:.0}s)",
                    from,
                    to,
                    started.elapsed().as_secs_f64()
                );
            }
        }));
    }
    for w in writers {
        w.await.context("seeding task")??;
    }
    let raw_secs = started.elapsed().as_secs_f64();
    let folded = Instant::now();
    fold(&pool).await?;
    pool.close().await;
    Ok(Seeded {
        events,
        raw_secs,
        fold_secs: folded.elapsed().as_secs_f64(),
    })
}

async fn insert_chunk(
    pool: &PgPool,
    from: i64,
    to: i64,
    licenses: i64,
    now: DateTime<Utc>,
    per_license: i64,
) -> anyhow::Result<()> {
    let sql = format!(
        "WITH g AS MATERIALIZED ({EVENTS_OF}), \
         ids AS (INSERT INTO telemetry_event_ids (install_id, event_id, ts) SELECT install_id, event_id, ts FROM g) \
         INSERT INTO telemetry_events (install_id, event_id, type, feature, user_hash, session, ts, \
         user_agent, endpoint, duration_ms, status) \
         SELECT install_id, event_id, type, feature, user_hash, session, ts, user_agent, endpoint, \
         duration_ms, status FROM g"
    );
    sqlx::query(&sql)
        .bind(from)
        .bind(to)
        .bind(licenses)
        .bind(now)
        .bind(per_license)
        .execute(pool)
        .await
        .with_context(|| format!("seeding events {from}..{to}"))?;
    Ok(())
}

/// The aggregates ingest would have folded, recomputed from the raw rows.
/// Errors count as in `calos_core::rollup::is_error`.
async fn fold(pool: &PgPool) -> anyhow::Result<()> {
    const FOLDS: [(&str, &str); 4] = [
        (
            "hourly rollups",
            "INSERT INTO telemetry_rollups (install_id, hour, type, feature, events, users, sessions, \
             errors, duration_sum_ms, duration_count) \
             SELECT install_id, date_trunc('hour', ts), type, coalesce(feature, ''), count(*), \
             count(DISTINCT user_hash), count(DISTINCT session), \
             count(*) FILTER (WHERE type = 'error' OR error IS NOT NULL OR status >= 400), \
             coalesce(sum(duration_ms), 0), count(duration_ms) \
             FROM telemetry_events GROUP BY 1, 2, 3, 4",
        ),
        (
            "daily users",
            "INSERT INTO daily_users (install_id, day, user_hash) \
             SELECT DISTINCT install_id, ts::date, user_hash FROM telemetry_events WHERE user_hash IS NOT NULL",
        ),
        (
            "culture sessions",
            "INSERT INTO culture_sessions (install_id, session, user_hash, first_ts, last_ts, events) \
             SELECT install_id, session, min(user_hash COLLATE \"C\"), min(ts), max(ts), count(*) \
             FROM telemetry_events WHERE session IS NOT NULL GROUP BY 1, 2",
        ),
        (
            "culture user agents",
            "INSERT INTO culture_user_agents (install_id, day, user_agent, events) \
             SELECT install_id, ts::date, user_agent, count(*) FROM telemetry_events \
             WHERE user_agent IS NOT NULL GROUP BY 1, 2, 3",
        ),
    ];
    // Independent of each other: two at a time, one per core.
    let mut pending = Vec::new();
    for (name, sql) in FOLDS {
        let pool = pool.clone();
        pending.push(tokio::spawn(async move {
            let t = Instant::now();
            let done = sqlx::query(sql)
                .execute(&pool)
                .await
                .with_context(|| format!("folding {name}"))?;
            println!(
                "    {name}: {} rows in {:.0}s",
                done.rows_affected(),
                t.elapsed().as_secs_f64()
            );
            anyhow::Ok(())
        }));
    }
    for p in pending {
        p.await.context("fold task")??;
    }
    Ok(())
}
