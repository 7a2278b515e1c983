-- Issue 11, scale: raw telemetry partitioned by month on the event time, so
-- retention drops whole months (no row-by-row DELETE of millions of rows and
-- the bloat it leaves) and a query over a time range reads only its months.
--
-- A partitioned table's unique keys must contain the partition key, so
-- (install_id, event_id) can no longer be unique on telemetry_events itself.
-- The API promises more than (install_id, event_id, ts) would give: an
-- eventId seen before is a duplicate whatever its ts. That promise is kept by
-- telemetry_event_ids, one narrow row per stored event: ingest inserts there
-- first (ON CONFLICT DO NOTHING) and writes the raw row only for ids that
-- were new, in the same statement. Its rows are deleted with the raw events
-- they stand for (same ts), a few thousand per statement.

ALTER TABLE telemetry_events RENAME TO telemetry_events_unpartitioned;
ALTER TABLE telemetry_events_unpartitioned
    RENAME CONSTRAINT telemetry_events_pkey TO telemetry_events_unpartitioned_pkey;
ALTER TABLE telemetry_events_unpartitioned
    RENAME CONSTRAINT telemetry_events_install_id_fkey TO telemetry_events_unpartitioned_install_id_fkey;
ALTER INDEX telemetry_events_install_ts_idx RENAME TO telemetry_events_unpartitioned_install_ts_idx;
ALTER INDEX telemetry_events_ts_idx RENAME TO telemetry_events_unpartitioned_ts_idx;

CREATE TABLE telemetry_event_ids (
    install_id TEXT NOT NULL CONSTRAINT telemetry_event_ids_install_id_fkey
               REFERENCES licenses (install_id) ON DELETE CASCADE,
    event_id   TEXT NOT NULL,
    -- The stored event's ts: retention forgets the id with the event.
    ts         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (install_id, event_id)
);
CREATE INDEX telemetry_event_ids_ts_idx ON telemetry_event_ids (ts);

CREATE TABLE telemetry_events (
    install_id  TEXT NOT NULL CONSTRAINT telemetry_events_install_id_fkey
                REFERENCES licenses (install_id) ON DELETE CASCADE,
    event_id    TEXT NOT NULL,
    type        TEXT NOT NULL CHECK (type IN ('page_view', 'feature_used', 'api_call', 'usage',
                                              'session_start', 'session_end', 'error', 'custom')),
    feature     TEXT,
    user_hash   TEXT,
    session     TEXT,
    ts          TIMESTAMPTZ NOT NULL,
    user_agent  TEXT,
    endpoint    TEXT,
    duration_ms BIGINT CHECK (duration_ms >= 0),
    status      INTEGER CHECK (status BETWEEN 0 AND 65535),
    error       TEXT,
    props_json  JSONB NOT NULL DEFAULT '{}'::jsonb,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
) PARTITION BY RANGE (ts);
CREATE INDEX telemetry_events_install_ts_idx ON telemetry_events (install_id, ts);
-- Retention deletes the rows of the month the cutoff falls in by ts.
CREATE INDEX telemetry_events_ts_idx ON telemetry_events (ts);

-- Catches any row whose month has no partition yet, so no insert ever fails
-- for want of one; making that month's partition moves its rows out.
CREATE TABLE telemetry_events_default PARTITION OF telemetry_events DEFAULT;

-- Makes the partition of the month holding `month_start` unless it exists:
-- telemetry_events_pYYYYMM for [first of the month, first of the next) in
-- UTC. Rows of that month already in the default partition move into it.
-- Nodes may call this at the same time: an advisory lock serialises them.
CREATE FUNCTION calos_make_telemetry_partition(month_start TIMESTAMPTZ) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    lo   TIMESTAMPTZ := date_trunc('month', month_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    hi   TIMESTAMPTZ := (date_trunc('month', month_start AT TIME ZONE 'UTC') + INTERVAL '1 month') AT TIME ZONE 'UTC';
    name TEXT := 'telemetry_events_p' || to_char(month_start AT TIME ZONE 'UTC', 'YYYYMM');
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('calos_telemetry_partitions'));
    IF to_regclass(quote_ident(name)) IS NOT NULL THEN
        RETURN FALSE;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE telemetry_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    EXECUTE format('WITH moved AS (DELETE FROM telemetry_events_default WHERE ts >= $1 AND ts < $2 RETURNING *) '
                   'INSERT INTO %I SELECT * FROM moved', name) USING lo, hi;
    -- Attaching checks the default partition holds nothing of the month any
    -- more; the bounds as a CHECK first spare the scan of the new table.
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (ts >= %L AND ts < %L)', name, name || '_range', lo, hi);
    EXECUTE format('ALTER TABLE telemetry_events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', name, name || '_range');
    RETURN TRUE;
END;
$$;

-- Makes the partitions of the months from `from_ts` through `through_ts`
-- (both included); returns how many were new.
CREATE FUNCTION calos_make_telemetry_partitions(from_ts TIMESTAMPTZ, through_ts TIMESTAMPTZ) RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    m    TIMESTAMPTZ := date_trunc('month', from_ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    made INTEGER := 0;
BEGIN
    WHILE m <= through_ts LOOP
        IF calos_make_telemetry_partition(m) THEN
            made := made + 1;
        END IF;
        m := (m AT TIME ZONE 'UTC' + INTERVAL '1 month') AT TIME ZONE 'UTC';
    END LOOP;
    RETURN made;
END;
$$;

-- Drops the monthly partitions that end at or before `cutoff`: every row in
-- them is older than retention. Returns the number of rows they held.
-- (Their ids in telemetry_event_ids are deleted by the prune, which counts
-- them.) The rows of the month the cutoff falls in are deleted row by row.
CREATE FUNCTION calos_drop_telemetry_partitions(cutoff TIMESTAMPTZ) RETURNS TABLE (partitions INTEGER, events BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    child TEXT;
    n     BIGINT;
BEGIN
    partitions := 0;
    events := 0;
    PERFORM pg_advisory_xact_lock(hashtext('calos_telemetry_partitions'));
    FOR child IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'telemetry_events'::regclass AND c.relname ~ '^telemetry_events_p[0-9]{6}$'
        ORDER BY c.relname
    LOOP
        IF (to_date(substr(child, 19), 'YYYYMM') + INTERVAL '1 month') AT TIME ZONE 'UTC' <= cutoff THEN
            EXECUTE format('SELECT count(*) FROM %I', child) INTO n;
            EXECUTE format('DROP TABLE %I', child);
            partitions := partitions + 1;
            events := events + n;
        END IF;
    END LOOP;
    RETURN NEXT;
END;
$$;

-- Partitions for every month the existing events fall in, and for this
-- month and the next two; then the rows move over.
SELECT calos_make_telemetry_partitions(
    least(coalesce((SELECT min(ts) FROM telemetry_events_unpartitioned), now()), now()),
    greatest(coalesce((SELECT max(ts) FROM telemetry_events_unpartitioned), now()), now() + INTERVAL '2 months'));

INSERT INTO telemetry_events
SELECT install_id, event_id, type, feature, user_hash, session, ts, user_agent, endpoint,
       duration_ms, status, error, props_json, received_at
FROM telemetry_events_unpartitioned;

INSERT INTO telemetry_event_ids (install_id, event_id, ts)
SELECT install_id, event_id, ts FROM telemetry_events_unpartitioned;

DROP TABLE telemetry_events_unpartitioned;
