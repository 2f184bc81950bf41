-- Times are Unix milliseconds (INTEGER), UTC.

CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE endpoints (
    id                   TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts (id),
    url                  TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    event_types          TEXT NOT NULL,              -- JSON array of strings
    signing              TEXT NOT NULL,
    keys                 TEXT NOT NULL,              -- JSON array of hook.Key, newest first
    public_key           TEXT NOT NULL DEFAULT '',
    enabled              INTEGER NOT NULL,
    disabled_reason      TEXT,
    disabled_at          INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    deleted_at           INTEGER
);
CREATE INDEX endpoints_account ON endpoints (account_id, id) WHERE deleted_at IS NULL;

CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    type       TEXT NOT NULL,
    body       BLOB NOT NULL,                        -- the envelope, byte for byte as sent
    created_at INTEGER NOT NULL
);
CREATE INDEX events_account_created ON events (account_id, created_at);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE idempotency_keys (
    account_id   TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    event_id     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL,
    account_id       TEXT NOT NULL,
    trigger          TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- When the next attempt may start; while leased, when the lease ends.
    next_attempt_at  INTEGER,
    lease            INTEGER NOT NULL DEFAULT 0,     -- 0: not claimed
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
-- The queue: due pending work in order, covering the claim query.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, endpoint_id, id) WHERE status = 'pending';
-- An event never has two pending deliveries to the same endpoint.
CREATE UNIQUE INDEX deliveries_one_pending ON deliveries (event_id, endpoint_id) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries (event_id, endpoint_id, status);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);
CREATE INDEX deliveries_account ON deliveries (account_id, id);

CREATE TABLE attempts (
    id              TEXT PRIMARY KEY,
    delivery_id     TEXT NOT NULL,
    number          INTEGER NOT NULL,
    trigger         TEXT NOT NULL,
    started_at      INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL,
    status_code     INTEGER,
    error           TEXT,
    response_body   TEXT NOT NULL DEFAULT '',
    request_headers TEXT NOT NULL DEFAULT '{}'       -- JSON object
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);

CREATE TABLE operator_messages (
    id              TEXT PRIMARY KEY,                -- the event id
    body            BLOB NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    lease           INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX operator_messages_due ON operator_messages (next_attempt_at) WHERE status = 'pending';
