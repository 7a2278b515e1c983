-- Issue 5, speed: the hourly rollups kept in the folded forms the culture
-- analyzer reads, so its read is a few thousand small rows whatever the raw
-- volume. Ingest keeps them in the transaction that upserts the rollups;
-- like the rollups they outlive raw-event retention. The INSERT ... SELECT
-- statements below are the rebuild `CultureStore::rebuild_culture_totals`
-- runs (there per install): here they fold the rollups that exist already.

-- One row per install and hour (unix microseconds): every rollup row of the
-- hour summed. good = events that were not errors, clamped per rollup row;
-- people_events = events of rollup rows with at least one user.
CREATE TABLE culture_hour_totals (
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    hour INTEGER NOT NULL,
    events INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    good INTEGER NOT NULL,
    people_events INTEGER NOT NULL,
    api_events INTEGER NOT NULL,
    api_good INTEGER NOT NULL,
    PRIMARY KEY (install_id, hour)
) STRICT, WITHOUT ROWID;

-- One row per install, UTC day ('YYYY-MM-DD') and feature (never '').
CREATE TABLE culture_feature_days (
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    feature TEXT NOT NULL,
    events INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    good INTEGER NOT NULL,
    PRIMARY KEY (install_id, day, feature)
) STRICT, WITHOUT ROWID;

INSERT INTO culture_hour_totals (install_id, hour, events, errors, good, people_events, api_events, api_good)
SELECT install_id, hour, sum(events), sum(errors), sum(max(events - max(errors, 0), 0)),
       sum(CASE WHEN users > 0 THEN events ELSE 0 END),
       sum(CASE WHEN type = 'api_call' THEN events ELSE 0 END),
       sum(CASE WHEN type = 'api_call' THEN max(events - max(errors, 0), 0) ELSE 0 END)
FROM telemetry_rollups GROUP BY install_id, hour;

INSERT INTO culture_feature_days (install_id, day, feature, events, errors, good)
SELECT install_id, date(hour / 1000000, 'unixepoch'), feature, sum(events), sum(errors),
       sum(max(events - max(errors, 0), 0))
FROM telemetry_rollups WHERE feature <> ''
GROUP BY install_id, date(hour / 1000000, 'unixepoch'), feature;

-- The newest sessions of an install are read in exactly this order with a
-- limit: an index in that order holding every column read answers from the
-- index alone, without sorting (it replaces the one on (install_id, last_ts)).
DROP INDEX culture_sessions_recent_idx;
CREATE INDEX culture_sessions_newest_idx
    ON culture_sessions (install_id, last_ts DESC, session, first_ts, events, user_hash);
