-- Issue 7, login protection: idle timeout of sessions, TOTP second factors
-- and the challenges between the password and code steps of a login.

-- When the session was last used; sessions idle for the configured timeout
-- no longer authenticate. Existing sessions count from their creation.
ALTER TABLE admin_sessions ADD COLUMN last_seen_at TIMESTAMPTZ;
UPDATE admin_sessions SET last_seen_at = created_at;
ALTER TABLE admin_sessions ALTER COLUMN last_seen_at SET NOT NULL;

-- One TOTP factor per admin; `enabled` is false while enrolment waits for
-- the first code. The secret is sealed (AEAD under a subkey of the master key).
CREATE TABLE admin_totp (
    admin_id BIGINT PRIMARY KEY REFERENCES admins (id) ON DELETE CASCADE,
    sealed_secret BYTEA NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    -- The last 30-second step a code was accepted for (no replays).
    last_step BIGINT,
    created_at TIMESTAMPTZ NOT NULL
);

-- A password that was right for an admin with TOTP: the login continues
-- with a code and this single-use, short-lived challenge (stored hashed).
CREATE TABLE login_challenges (
    token_hash BYTEA PRIMARY KEY,
    admin_id BIGINT NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX login_challenges_expires_at_idx ON login_challenges (expires_at);
