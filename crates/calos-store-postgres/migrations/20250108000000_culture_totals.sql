-- Issue 5, speed: the hourly rollups kept in the folded forms the culture
-- analyzer reads, so its read is a few thousand small rows whatever the raw
-- volume. Ingest keeps them in the transaction that upserts the rollups;
-- like the rollups they outlive raw-event retention. The INSERT ... SELECT
-- statements below are the rebuild `CultureStore::rebuild_culture_totals`
-- runs (there per install): here they fold the rollups that exist already.

-- One row per install and hour: every rollup row of the hour summed.
-- good = events that were not errors, clamped per rollup row;
-- people_events = events of rollup rows with at least one user.
CREATE TABLE culture_hour_totals (
    install_id    TEXT NOT NULL CONSTRAINT culture_hour_totals_install_id_fkey
                  REFERENCES licenses (install_id) ON DELETE CASCADE,
    hour          TIMESTAMPTZ NOT NULL,
    events        BIGINT NOT NULL,
    errors        BIGINT NOT NULL,
    good          BIGINT NOT NULL,
    people_events BIGINT NOT NULL,
    api_events    BIGINT NOT NULL,
    api_good      BIGINT NOT NULL,
    PRIMARY KEY (install_id, hour)
);

-- One row per install, UTC day and feature (never '').
CREATE TABLE culture_feature_days (
    install_id TEXT NOT NULL CONSTRAINT culture_feature_days_install_id_fkey
               REFERENCES licenses (install_id) ON DELETE CASCADE,
    day        DATE NOT NULL,
    feature    TEXT NOT NULL,
    events     BIGINT NOT NULL,
    errors     BIGINT NOT NULL,
    good       BIGINT NOT NULL,
    PRIMARY KEY (install_id, day, feature)
);

INSERT INTO culture_hour_totals (install_id, hour, events, errors, good, people_events, api_events, api_good)
SELECT install_id, hour, sum(events), sum(errors), sum(greatest(events - greatest(errors, 0), 0)),
       sum(CASE WHEN users > 0 THEN events ELSE 0 END),
       sum(CASE WHEN type = 'api_call' THEN events ELSE 0 END),
       sum(CASE WHEN type = 'api_call' THEN greatest(events - greatest(errors, 0), 0) ELSE 0 END)
FROM telemetry_rollups GROUP BY install_id, hour;

INSERT INTO culture_feature_days (install_id, day, feature, events, errors, good)
SELECT install_id, (hour AT TIME ZONE 'UTC')::date, feature, sum(events), sum(errors),
       sum(greatest(events - greatest(errors, 0), 0))
FROM telemetry_rollups WHERE feature <> ''
GROUP BY install_id, (hour AT TIME ZONE 'UTC')::date, feature;

-- The newest sessions of an install are read in exactly this order with a
-- limit: an index in that order holding every column read needs no sort
-- (it replaces the one on (install_id, last_ts)).
DROP INDEX culture_sessions_recent_idx;
CREATE INDEX culture_sessions_newest_idx
    ON culture_sessions (install_id, last_ts DESC, session COLLATE "C")
    INCLUDE (first_ts, events, user_hash);
