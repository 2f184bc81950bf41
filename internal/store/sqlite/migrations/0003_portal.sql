-- Web UI sessions and portal links. Only SHA-256 hashes of the session id
-- and the link token are stored.
CREATE TABLE ui_sessions (
    id_hash      BLOB PRIMARY KEY,
    admin        INTEGER NOT NULL,
    account_id   TEXT NOT NULL DEFAULT '',
    read_only    INTEGER NOT NULL DEFAULT 0,
    return_url   TEXT NOT NULL DEFAULT '',
    accent_color TEXT NOT NULL DEFAULT '',
    logo_url     TEXT NOT NULL DEFAULT '',
    theme        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ui_sessions_expires ON ui_sessions (expires_at);

CREATE TABLE portal_links (
    token_hash   BLOB PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    read_only    INTEGER NOT NULL DEFAULT 0,
    return_url   TEXT NOT NULL DEFAULT '',
    accent_color TEXT NOT NULL DEFAULT '',
    logo_url     TEXT NOT NULL DEFAULT '',
    theme        TEXT NOT NULL DEFAULT '',
    session_ttl_ms INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
) WITHOUT ROWID;
CREATE INDEX portal_links_expires ON portal_links (expires_at);

-- The stats chart counts an endpoint's finished deliveries by when they
-- finished.
CREATE INDEX deliveries_endpoint_updated ON deliveries (endpoint_id, updated_at) WHERE status IN ('succeeded', 'failed');
