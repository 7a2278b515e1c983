-- Issue 10, notifications: a durable outbox of notifications, one delivery
-- per channel, the vendor's webhook endpoints and admins' subscriptions.

-- Secrets are not stored: each endpoint's secret is derived from the master
-- key and this random salt (a new salt rotates the secret).
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    description TEXT,
    -- JSON array of event names; [] = every event webhooks carry.
    events_json TEXT NOT NULL,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    allow_private INTEGER NOT NULL CHECK (allow_private IN (0, 1)),
    secret_salt BLOB NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    disabled_reason TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- No foreign key to licenses: a notification outlives what it was about.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event TEXT NOT NULL,
    -- One notification per key (NULL: change events, never deduplicated).
    dedupe_key TEXT UNIQUE,
    install_id TEXT,
    data_json TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX notifications_install_idx ON notifications (install_id);

CREATE TABLE notification_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    endpoint_id INTEGER REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    -- Bumped by every claim and resend: a finished attempt must name it.
    claim_seq INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER,
    last_error TEXT,
    target TEXT,
    sent_at INTEGER,
    created_at INTEGER NOT NULL
) STRICT;

-- The claim query: due pending rows and sending rows whose lease ran out.
CREATE INDEX notification_deliveries_due_idx
    ON notification_deliveries (status, next_attempt_at);
CREATE INDEX notification_deliveries_endpoint_idx
    ON notification_deliveries (endpoint_id);

CREATE TABLE notify_subscriptions (
    admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    PRIMARY KEY (admin_id, event)
) STRICT, WITHOUT ROWID;
