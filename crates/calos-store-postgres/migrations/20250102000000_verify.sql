-- Issue 3: signing keys, deployment instances, domains seen by verify, and
-- the change notifications that keep every node's license cache fresh.

CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    public_key         BYTEA NOT NULL,
    sealed_private_key BYTEA NOT NULL,
    nonce              BYTEA NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    activated_at       TIMESTAMPTZ NOT NULL,
    retired_at         TIMESTAMPTZ,
    publish_until      TIMESTAMPTZ
);

-- At most one active (not retired) key, even when nodes race on first start.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;

CREATE TABLE verify_instances (
    install_id    TEXT NOT NULL REFERENCES licenses (install_id),
    instance_id   TEXT NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    domain        TEXT,
    version       TEXT,
    ip            TEXT,
    user_agent    TEXT,
    PRIMARY KEY (install_id, instance_id)
);

CREATE INDEX verify_instances_last_seen ON verify_instances (install_id, last_seen_at);

CREATE TABLE verify_domains (
    install_id    TEXT NOT NULL REFERENCES licenses (install_id),
    domain        TEXT NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (install_id, domain)
);

-- Every node caches licenses; a change on any node (admin action, expiry
-- worker) is announced on commit so all caches drop the entry at once. The
-- verify path's own last_seen_at writes do not bump the version and stay quiet.
CREATE FUNCTION calos_notify_license_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('calos_license_changed', NEW.install_id);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER licenses_notify_insert AFTER INSERT ON licenses
    FOR EACH ROW EXECUTE FUNCTION calos_notify_license_change();

CREATE TRIGGER licenses_notify_update AFTER UPDATE ON licenses
    FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version)
    EXECUTE FUNCTION calos_notify_license_change();

-- A plan edit changes what every license on it may do: '*' drops every entry.
CREATE FUNCTION calos_notify_plan_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('calos_license_changed', '*');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER plans_notify_change AFTER INSERT OR UPDATE OR DELETE ON plans
    FOR EACH STATEMENT EXECUTE FUNCTION calos_notify_plan_change();
