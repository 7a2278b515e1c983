-- Issue 4: telemetry ingest. Hourly rollups with exact distinct counts,
-- per-day distinct users, and usage metered per billing period at ingest.

-- A usage record made by an event is tied to it, so a retried event never
-- meters twice; records from before this migration have no event id.
ALTER TABLE usage_records
    ADD COLUMN event_id TEXT,
    -- The billing period (its start) the record was metered in, and how much
    -- of it the allowance covered: what an invoice needs.
    ADD COLUMN period_start TIMESTAMPTZ,
    ADD COLUMN free_quantity BIGINT CHECK (free_quantity >= 0),
    ADD COLUMN billable_quantity BIGINT CHECK (billable_quantity >= 0),
    ADD COLUMN cost_micros BIGINT CHECK (cost_micros >= 0);

CREATE UNIQUE INDEX usage_records_install_event_idx ON usage_records (install_id, event_id);
CREATE INDEX usage_records_install_period_idx ON usage_records (install_id, period_start);

-- Running total per meter and period: the row every metering write of an
-- install locks, so concurrent batches split free/billable in one order.
CREATE TABLE usage_period_totals (
    install_id   TEXT NOT NULL CONSTRAINT usage_period_totals_install_id_fkey
                 REFERENCES licenses (install_id) ON DELETE CASCADE,
    meter        TEXT NOT NULL,
    period_start TIMESTAMPTZ NOT NULL,
    quantity     BIGINT NOT NULL,
    PRIMARY KEY (install_id, meter, period_start)
);

-- feature is '' when the event had none (it is part of the key).
CREATE TABLE telemetry_rollups (
    install_id      TEXT NOT NULL CONSTRAINT telemetry_rollups_install_id_fkey
                    REFERENCES licenses (install_id) ON DELETE CASCADE,
    hour            TIMESTAMPTZ NOT NULL,
    type            TEXT NOT NULL,
    feature         TEXT NOT NULL,
    events          BIGINT NOT NULL,
    users           BIGINT NOT NULL,
    sessions        BIGINT NOT NULL,
    errors          BIGINT NOT NULL,
    duration_sum_ms BIGINT NOT NULL,
    duration_count  BIGINT NOT NULL,
    PRIMARY KEY (install_id, hour, type, feature)
);

-- Who was already counted in a rollup bucket. Pruned with the raw events:
-- events older than retention are refused, so those buckets never change again.
CREATE TABLE rollup_users (
    install_id TEXT NOT NULL,
    hour       TIMESTAMPTZ NOT NULL,
    type       TEXT NOT NULL,
    feature    TEXT NOT NULL,
    user_hash  TEXT NOT NULL,
    PRIMARY KEY (install_id, hour, type, feature, user_hash)
);

CREATE TABLE rollup_sessions (
    install_id TEXT NOT NULL,
    hour       TIMESTAMPTZ NOT NULL,
    type       TEXT NOT NULL,
    feature    TEXT NOT NULL,
    session    TEXT NOT NULL,
    PRIMARY KEY (install_id, hour, type, feature, session)
);

CREATE INDEX rollup_users_hour_idx ON rollup_users (hour);
CREATE INDEX rollup_sessions_hour_idx ON rollup_sessions (hour);

-- Distinct users per install and day; kept (seats per period and daily
-- actives are counted from it).
CREATE TABLE daily_users (
    install_id TEXT NOT NULL CONSTRAINT daily_users_install_id_fkey
               REFERENCES licenses (install_id) ON DELETE CASCADE,
    day        DATE NOT NULL,
    user_hash  TEXT NOT NULL,
    PRIMARY KEY (install_id, day, user_hash)
);

-- Retention prunes raw events by time across installs.
CREATE INDEX telemetry_events_ts_idx ON telemetry_events (ts);
