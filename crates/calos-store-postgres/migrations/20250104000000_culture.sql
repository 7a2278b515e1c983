-- Issue 5: what the culture analyzer reads besides the hourly rollups, all
-- folded at ingest (aggregate-sized: one row per session, per user agent and
-- day, per meter and day), the customer's time zone, and cached health scores.

-- Set by an admin; NULL lets the analyzer infer the zone from activity.
ALTER TABLE customers ADD COLUMN timezone_offset_minutes INTEGER
    CHECK (timezone_offset_minutes BETWEEN -840 AND 840);

-- One row per session: its user (the smallest user id seen in it, byte
-- order), first and last event time and event count.
CREATE TABLE culture_sessions (
    install_id TEXT NOT NULL CONSTRAINT culture_sessions_install_id_fkey
               REFERENCES licenses (install_id) ON DELETE CASCADE,
    session    TEXT NOT NULL,
    user_hash  TEXT COLLATE "C",
    first_ts   TIMESTAMPTZ NOT NULL,
    last_ts    TIMESTAMPTZ NOT NULL,
    events     BIGINT NOT NULL,
    PRIMARY KEY (install_id, session)
);

-- The most recent sessions of an install are read newest first.
CREATE INDEX culture_sessions_recent_idx ON culture_sessions (install_id, last_ts);

-- Events per user-agent string and UTC day.
CREATE TABLE culture_user_agents (
    install_id TEXT NOT NULL CONSTRAINT culture_user_agents_install_id_fkey
               REFERENCES licenses (install_id) ON DELETE CASCADE,
    day        DATE NOT NULL,
    user_agent TEXT NOT NULL,
    events     BIGINT NOT NULL,
    PRIMARY KEY (install_id, day, user_agent)
);

-- Metered units per meter and UTC day.
CREATE TABLE culture_usage_days (
    install_id TEXT NOT NULL CONSTRAINT culture_usage_days_install_id_fkey
               REFERENCES licenses (install_id) ON DELETE CASCADE,
    day        DATE NOT NULL,
    meter      TEXT NOT NULL,
    quantity   BIGINT NOT NULL,
    PRIMARY KEY (install_id, day, meter)
);

-- The last computed health score per license, for the customer list.
CREATE TABLE culture_health (
    install_id  TEXT PRIMARY KEY CONSTRAINT culture_health_install_id_fkey
                REFERENCES licenses (install_id) ON DELETE CASCADE,
    score       INTEGER,
    label       TEXT NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL
);
