-- Issue 8: brands (vendor default and per customer) with versions and
-- uploaded logos, customer portal accounts and sessions, domain ownership checks.

-- scope: an install id, or '_default' for the vendor-wide brand (so no
-- foreign key; a license's brand is removed with it by the trigger below).
CREATE TABLE brand_profiles (
    scope TEXT PRIMARY KEY NOT NULL,
    settings_json TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE brand_logos (
    scope TEXT PRIMARY KEY NOT NULL REFERENCES brand_profiles (scope) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TRIGGER brand_profiles_follow_licenses AFTER DELETE ON licenses
BEGIN
    DELETE FROM brand_profiles WHERE scope = OLD.install_id;
END;

CREATE TABLE portal_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    password_hash TEXT,
    invite_token_hash BLOB,
    invite_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    last_login_at INTEGER,
    UNIQUE (install_id, email)
) STRICT;

CREATE UNIQUE INDEX portal_users_invite_idx ON portal_users (invite_token_hash)
    WHERE invite_token_hash IS NOT NULL;

CREATE TABLE portal_sessions (
    token_hash BLOB PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
    install_id TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE domain_claims (
    domain TEXT PRIMARY KEY NOT NULL,
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    verified_at INTEGER,
    checked_at INTEGER
) STRICT;

CREATE INDEX domain_claims_install_idx ON domain_claims (install_id);
