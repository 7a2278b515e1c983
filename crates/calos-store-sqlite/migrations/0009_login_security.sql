-- Issue 7, login protection: idle timeout of sessions, TOTP second factors
-- and the challenges between the password and code steps of a login.

-- When the session was last used (unix microseconds); sessions idle for the
-- configured timeout no longer authenticate. Existing sessions count from
-- their creation.
ALTER TABLE admin_sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE admin_sessions SET last_seen_at = created_at;

-- One TOTP factor per admin; `enabled` = 0 while enrolment waits for the
-- first code. The secret is sealed (AEAD under a subkey of the master key).
CREATE TABLE admin_totp (
    admin_id INTEGER PRIMARY KEY NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    sealed_secret BLOB NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    -- The last 30-second step a code was accepted for (no replays).
    last_step INTEGER,
    created_at INTEGER NOT NULL
) STRICT;

-- A password that was right for an admin with TOTP: the login continues
-- with a code and this single-use, short-lived challenge (stored hashed).
CREATE TABLE login_challenges (
    token_hash BLOB PRIMARY KEY NOT NULL,
    admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX login_challenges_expires_at_idx ON login_challenges (expires_at);
