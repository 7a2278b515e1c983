-- Issue 8: brands (vendor default and per customer) with versions and
-- uploaded logos, customer portal accounts and sessions, domain ownership checks.

-- scope: an install id, or '_default' for the vendor-wide brand (so no
-- foreign key; a license's brand is removed with it by the trigger below).
CREATE TABLE brand_profiles (
    scope TEXT PRIMARY KEY,
    settings JSONB NOT NULL,
    version BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE brand_logos (
    scope TEXT PRIMARY KEY REFERENCES brand_profiles (scope) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    data BYTEA NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION brand_profiles_follow_licenses() RETURNS trigger AS $$
BEGIN
    DELETE FROM brand_profiles WHERE scope = OLD.install_id;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER brand_profiles_follow_licenses AFTER DELETE ON licenses
    FOR EACH ROW EXECUTE FUNCTION brand_profiles_follow_licenses();

CREATE TABLE portal_users (
    id BIGSERIAL PRIMARY KEY,
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    password_hash TEXT,
    invite_token_hash BYTEA,
    invite_expires_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    last_login_at TIMESTAMPTZ,
    UNIQUE (install_id, email)
);

CREATE UNIQUE INDEX portal_users_invite_idx ON portal_users (invite_token_hash)
    WHERE invite_token_hash IS NOT NULL;

CREATE TABLE portal_sessions (
    token_hash BYTEA PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
    install_id TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE domain_claims (
    domain TEXT PRIMARY KEY,
    install_id TEXT NOT NULL REFERENCES licenses (install_id) ON DELETE CASCADE,
    token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    verified_at TIMESTAMPTZ,
    checked_at TIMESTAMPTZ
);

CREATE INDEX domain_claims_install_idx ON domain_claims (install_id);
