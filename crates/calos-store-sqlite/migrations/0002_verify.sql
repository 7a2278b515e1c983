-- Issue 3: signing keys, deployment instances, domains seen by verify.

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    public_key BLOB NOT NULL,
    sealed_private_key BLOB NOT NULL,
    nonce BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    activated_at INTEGER NOT NULL,
    retired_at INTEGER,
    publish_until INTEGER
) STRICT;

-- At most one active (not retired) key, even when nodes race on first start.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;

CREATE TABLE verify_instances (
    install_id TEXT NOT NULL REFERENCES licenses (install_id),
    instance_id TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    domain TEXT,
    version TEXT,
    ip TEXT,
    user_agent TEXT,
    PRIMARY KEY (install_id, instance_id)
) STRICT;

CREATE INDEX verify_instances_last_seen ON verify_instances (install_id, last_seen_at);

CREATE TABLE verify_domains (
    install_id TEXT NOT NULL REFERENCES licenses (install_id),
    domain TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (install_id, domain)
) STRICT;
