-- Issue 4: telemetry ingest. Hourly rollups with exact distinct counts,
-- per-day distinct users, and usage metered per billing period at ingest.
-- Times are unix microseconds, days 'YYYY-MM-DD'.

-- A usage record made by an event is tied to it, so a retried event never
-- meters twice; records from before this migration have no event id.
ALTER TABLE usage_records ADD COLUMN event_id TEXT;
-- The billing period (its start) the record was metered in, and how much of
-- it the allowance covered: what an invoice needs.
ALTER TABLE usage_records ADD COLUMN period_start INTEGER;
ALTER TABLE usage_records ADD COLUMN free_quantity INTEGER;
ALTER TABLE usage_records ADD COLUMN billable_quantity INTEGER;
ALTER TABLE usage_records ADD COLUMN cost_micros INTEGER;

CREATE UNIQUE INDEX usage_records_install_event_idx ON usage_records (install_id, event_id);
CREATE INDEX usage_records_install_period_idx ON usage_records (install_id, period_start);

-- Running total per meter and period: the row every metering write of an
-- install updates, so concurrent batches split free/billable in one order.
CREATE TABLE usage_period_totals (
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    meter TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    PRIMARY KEY (install_id, meter, period_start)
) STRICT, WITHOUT ROWID;

-- feature is '' when the event had none (it is part of the key).
CREATE TABLE telemetry_rollups (
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    hour INTEGER NOT NULL,
    type TEXT NOT NULL,
    feature TEXT NOT NULL,
    events INTEGER NOT NULL,
    users INTEGER NOT NULL,
    sessions INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    duration_sum_ms INTEGER NOT NULL,
    duration_count INTEGER NOT NULL,
    PRIMARY KEY (install_id, hour, type, feature)
) STRICT, WITHOUT ROWID;

-- Who was already counted in a rollup bucket. Pruned with the raw events:
-- events older than retention are refused, so those buckets never change again.
CREATE TABLE rollup_users (
    install_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    type TEXT NOT NULL,
    feature TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    PRIMARY KEY (install_id, hour, type, feature, user_hash)
) STRICT, WITHOUT ROWID;

CREATE TABLE rollup_sessions (
    install_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    type TEXT NOT NULL,
    feature TEXT NOT NULL,
    session TEXT NOT NULL,
    PRIMARY KEY (install_id, hour, type, feature, session)
) STRICT, WITHOUT ROWID;

CREATE INDEX rollup_users_hour_idx ON rollup_users (hour);
CREATE INDEX rollup_sessions_hour_idx ON rollup_sessions (hour);

-- Distinct users per install and day; kept forever (seats per period and
-- daily actives are counted from it).
CREATE TABLE daily_users (
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    PRIMARY KEY (install_id, day, user_hash)
) STRICT, WITHOUT ROWID;

-- Retention prunes raw events by time across installs.
CREATE INDEX telemetry_events_ts_idx ON telemetry_events (ts);
