-- The rate limit's start bucket: the earliest time the next delivery to
-- the endpoint may start. It spaces starts by 1/rate_limit even when turns
-- fell due together because a node was late (docs/delivery.md, "Delivery
-- rate limit"). deliveries.rate_slot = true now means the delivery was
-- given a turn and waits for it.
ALTER TABLE endpoint_rate_slots ADD COLUMN bucket timestamptz NOT NULL DEFAULT 'epoch';
