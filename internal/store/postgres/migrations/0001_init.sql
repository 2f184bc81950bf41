-- hookd's PostgreSQL schema, version 1. Times are timestamptz, written in
-- UTC truncated to milliseconds (the precision of hook's JSON).

CREATE TABLE accounts (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

CREATE TABLE endpoints (
    id                   text PRIMARY KEY,
    account_id           text NOT NULL REFERENCES accounts (id),
    url                  text NOT NULL,
    description          text NOT NULL DEFAULT '',
    event_types          text[] NOT NULL,
    signing              text NOT NULL,
    keys                 jsonb NOT NULL,             -- []hook.Key, newest first
    public_key           text NOT NULL DEFAULT '',
    enabled              boolean NOT NULL,
    disabled_reason      text,
    disabled_at          timestamptz,
    consecutive_failures integer NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    deleted_at           timestamptz
);
CREATE INDEX endpoints_account ON endpoints (account_id, id) WHERE deleted_at IS NULL;

CREATE TABLE events (
    id         text PRIMARY KEY,
    account_id text NOT NULL,
    type       text NOT NULL,
    body       bytea NOT NULL,                       -- the envelope, byte for byte as sent
    created_at timestamptz NOT NULL
);
CREATE INDEX events_account_created ON events (account_id, created_at);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE idempotency_keys (
    account_id   text NOT NULL,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    event_id     text NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE deliveries (
    id               text PRIMARY KEY,
    event_id         text NOT NULL,
    endpoint_id      text NOT NULL,
    account_id       text NOT NULL,
    trigger          text NOT NULL,
    status           text NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    -- When the next attempt may start; while leased, when the lease ends.
    next_attempt_at  timestamptz,
    lease            bigint NOT NULL DEFAULT 0,      -- 0: not claimed
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
-- The queue: due pending work in order (DeliveryClaim walks it with
-- FOR UPDATE SKIP LOCKED).
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, endpoint_id) WHERE status = 'pending';
-- An event never has two pending deliveries to the same endpoint; redeliver
-- and recover rely on it under concurrency (ON CONFLICT).
CREATE UNIQUE INDEX deliveries_one_pending ON deliveries (event_id, endpoint_id) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries (event_id, endpoint_id, status);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);
CREATE INDEX deliveries_account ON deliveries (account_id, id);

CREATE TABLE attempts (
    id              text PRIMARY KEY,
    delivery_id     text NOT NULL,
    number          integer NOT NULL,
    trigger         text NOT NULL,
    started_at      timestamptz NOT NULL,
    duration_ms     bigint NOT NULL,
    status_code     integer,
    error           text,
    response_body   text NOT NULL DEFAULT '',
    request_headers jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);

CREATE TABLE operator_messages (
    id              text PRIMARY KEY,                -- the event id
    body            bytea NOT NULL,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    lease           bigint NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX operator_messages_due ON operator_messages (next_attempt_at) WHERE status = 'pending';
