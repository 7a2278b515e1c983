-- Issue 5: what the culture analyzer reads besides the hourly rollups, all
-- folded at ingest (aggregate-sized: one row per session, per user agent and
-- day, per meter and day), the customer's time zone, and cached health scores.

-- Set by an admin; NULL lets the analyzer infer the zone from activity.
ALTER TABLE customers ADD COLUMN timezone_offset_minutes INTEGER
    CHECK (timezone_offset_minutes BETWEEN -840 AND 840);

-- One row per session: its user (the smallest user id seen in it), first and
-- last event time (unix microseconds) and event count.
CREATE TABLE culture_sessions (
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    session TEXT NOT NULL,
    user_hash TEXT,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    events INTEGER NOT NULL,
    PRIMARY KEY (install_id, session)
) STRICT, WITHOUT ROWID;

-- The most recent sessions of an install are read newest first.
CREATE INDEX culture_sessions_recent_idx ON culture_sessions (install_id, last_ts);

-- Events per user-agent string and UTC day ('YYYY-MM-DD').
CREATE TABLE culture_user_agents (
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    events INTEGER NOT NULL,
    PRIMARY KEY (install_id, day, user_agent)
) STRICT, WITHOUT ROWID;

-- Metered units per meter and UTC day.
CREATE TABLE culture_usage_days (
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    meter TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    PRIMARY KEY (install_id, day, meter)
) STRICT, WITHOUT ROWID;

-- The last computed health score per license, for the customer list.
CREATE TABLE culture_health (
    install_id TEXT PRIMARY KEY NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    score INTEGER,
    label TEXT NOT NULL,
    computed_at INTEGER NOT NULL
) STRICT;
