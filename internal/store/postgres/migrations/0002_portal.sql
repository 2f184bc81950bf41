-- Web UI sessions and portal links. Only SHA-256 hashes of the session id
-- and the link token are stored.
CREATE TABLE ui_sessions (
    id_hash      bytea PRIMARY KEY,
    admin        boolean NOT NULL,
    account_id   text NOT NULL DEFAULT '',
    read_only    boolean NOT NULL DEFAULT false,
    return_url   text NOT NULL DEFAULT '',
    accent_color text NOT NULL DEFAULT '',
    logo_url     text NOT NULL DEFAULT '',
    theme        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX ui_sessions_expires ON ui_sessions (expires_at);

CREATE TABLE portal_links (
    token_hash     bytea PRIMARY KEY,
    account_id     text NOT NULL REFERENCES accounts (id),
    read_only      boolean NOT NULL DEFAULT false,
    return_url     text NOT NULL DEFAULT '',
    accent_color   text NOT NULL DEFAULT '',
    logo_url       text NOT NULL DEFAULT '',
    theme          text NOT NULL DEFAULT '',
    session_ttl_ms bigint NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz
);
CREATE INDEX portal_links_expires ON portal_links (expires_at);

-- The stats chart counts an endpoint's finished deliveries by when they
-- finished.
CREATE INDEX deliveries_endpoint_updated ON deliveries (endpoint_id, updated_at) WHERE status IN ('succeeded', 'failed');
