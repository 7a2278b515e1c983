-- CALOS schema for SQLite. Times are INTEGER unix microseconds (UTC): exact,
-- sortable and the same precision PostgreSQL keeps. Tables are STRICT so a
-- wrong type is an error, not a silent conversion. Names match the PostgreSQL
-- schema column for column.

CREATE TABLE plans (
    slug TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    price_monthly_minor INTEGER NOT NULL CHECK (price_monthly_minor >= 0),
    price_annual_minor INTEGER NOT NULL CHECK (price_annual_minor >= 0),
    trial_days INTEGER NOT NULL CHECK (trial_days >= 0),
    verification_interval_hours INTEGER NOT NULL CHECK (verification_interval_hours >= 0),
    limits_json TEXT NOT NULL,
    features_json TEXT NOT NULL,
    usage_prices_json TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    -- Lower-cased by calos-core before it gets here.
    email TEXT NOT NULL UNIQUE,
    company TEXT,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE licenses (
    install_id TEXT PRIMARY KEY NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    plan_slug TEXT NOT NULL REFERENCES plans (slug),
    billing_period TEXT NOT NULL CHECK (billing_period IN ('monthly', 'annual')),
    status TEXT NOT NULL CHECK (status IN ('trial', 'active', 'suspended', 'revoked', 'expired')),
    trial_ends_at INTEGER,
    converted_at INTEGER,
    current_period_start INTEGER NOT NULL,
    current_period_end INTEGER NOT NULL,
    ends_at INTEGER,
    status_reason TEXT,
    notes TEXT NOT NULL DEFAULT '',
    -- Keyed hash of the license key; the key itself is never stored.
    key_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    last_seen_at INTEGER
) STRICT;

CREATE INDEX licenses_status_idx ON licenses (status);
CREATE INDEX licenses_plan_slug_idx ON licenses (plan_slug);
CREATE INDEX licenses_customer_id_idx ON licenses (customer_id);
CREATE INDEX licenses_created_at_idx ON licenses (created_at);

-- A domain belongs to at most one license.
CREATE TABLE license_domains (
    domain TEXT PRIMARY KEY NOT NULL,
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE
) STRICT;

CREATE INDEX license_domains_install_id_idx ON license_domains (install_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor_json TEXT NOT NULL,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    ip TEXT
) STRICT;

CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE TABLE admins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    email TEXT,
    role TEXT NOT NULL,
    -- Argon2id PHC string.
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE admin_sessions (
    -- SHA-256 of the cookie value; the value itself is never stored.
    token_hash BLOB PRIMARY KEY NOT NULL,
    admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX admin_sessions_expires_at_idx ON admin_sessions (expires_at);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
) STRICT;

CREATE TABLE telemetry_events (
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    feature TEXT,
    user_hash TEXT,
    session TEXT,
    ts INTEGER NOT NULL,
    user_agent TEXT,
    endpoint TEXT,
    duration_ms INTEGER,
    status INTEGER,
    error TEXT,
    props_json TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    -- A retried batch never counts twice.
    PRIMARY KEY (install_id, event_id)
) STRICT;

CREATE INDEX telemetry_events_install_ts_idx ON telemetry_events (install_id, ts);

CREATE TABLE usage_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    usage_type TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    amount_minor INTEGER,
    at INTEGER NOT NULL
) STRICT;

CREATE INDEX usage_records_install_type_at_idx ON usage_records (install_id, usage_type, at);

CREATE TABLE brandings (
    install_id TEXT PRIMARY KEY NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    product_name TEXT NOT NULL,
    primary_color TEXT NOT NULL,
    logo_url TEXT,
    updated_at INTEGER NOT NULL
) STRICT;
