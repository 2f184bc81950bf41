-- Endpoint controls (docs/delivery.md): custom headers, a payload filter
-- and a delivery rate limit. Existing endpoints get none of them.
ALTER TABLE endpoints ADD COLUMN headers TEXT NOT NULL DEFAULT '[]';   -- JSON array of hook.Header, values sealed
ALTER TABLE endpoints ADD COLUMN filter TEXT;                          -- the filter's JSON text; NULL: none
ALTER TABLE endpoints ADD COLUMN rate_limit INTEGER NOT NULL DEFAULT 0; -- deliveries per second; 0: none
-- The rate limit's next free slot (Unix microseconds): a delivery may
-- start at or after it, and each one taken moves it on by 1/rate_limit.
ALTER TABLE endpoints ADD COLUMN rate_next INTEGER NOT NULL DEFAULT 0;
-- 1: the delivery was given a rate-limit slot (its next_attempt_at) and
-- starts then without taking another.
ALTER TABLE deliveries ADD COLUMN rate_slot INTEGER NOT NULL DEFAULT 0;
-- hookd_deliveries_rate_limited counts these.
CREATE INDEX deliveries_rate_slot ON deliveries (id) WHERE status = 'pending' AND rate_slot = 1;
