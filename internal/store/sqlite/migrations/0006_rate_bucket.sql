-- The rate limit's start bucket (Unix microseconds): the earliest time the
-- next delivery to the endpoint may start. It spaces starts by
-- 1/rate_limit even when turns fell due together (docs/delivery.md,
-- "Delivery rate limit"). deliveries.rate_slot = 1 now means the delivery
-- was given a turn and waits for it.
ALTER TABLE endpoints ADD COLUMN rate_bucket INTEGER NOT NULL DEFAULT 0;
