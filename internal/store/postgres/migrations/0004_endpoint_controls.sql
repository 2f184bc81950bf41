-- Endpoint controls (docs/delivery.md): custom headers, a payload filter
-- and a delivery rate limit. Existing endpoints get none of them.
ALTER TABLE endpoints ADD COLUMN headers jsonb NOT NULL DEFAULT '[]';  -- []hook.Header, values sealed
-- The filter's JSON text as the user wrote it (text, not jsonb, so that
-- member order, and so explanations, stay as written); NULL: none.
ALTER TABLE endpoints ADD COLUMN filter text;
ALTER TABLE endpoints ADD COLUMN rate_limit integer NOT NULL DEFAULT 0; -- deliveries per second; 0: none
-- A rate-limited endpoint's next free slot: a delivery may start at or
-- after it, and each one taken moves it on by 1/rate_limit. Claims on
-- every node advance it under this row's lock, so the limit holds for the
-- endpoint as a whole. A table of its own, so that claims never wait on
-- the endpoint rows that result writes lock.
CREATE TABLE endpoint_rate_slots (
    endpoint_id text PRIMARY KEY,
    next        timestamptz NOT NULL
);
-- true: the delivery was given a rate-limit slot (its next_attempt_at)
-- and starts then without taking another.
ALTER TABLE deliveries ADD COLUMN rate_slot boolean NOT NULL DEFAULT false;
-- hookd_deliveries_rate_limited counts these.
CREATE INDEX deliveries_rate_slot ON deliveries (id) WHERE status = 'pending' AND rate_slot;
