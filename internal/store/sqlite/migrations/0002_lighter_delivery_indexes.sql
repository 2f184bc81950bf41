-- Every delivery insert and status change pays for each index on
-- deliveries. Two are dropped:
-- * deliveries_one_pending: with one writer, "one pending delivery per
--   (event, endpoint)" is checked in the transactions that create them
--   (redeliver, recover), which see all committed and uncommitted rows;
-- * status in deliveries_event: the queries that filter on it read the
--   row anyway, and a status change no longer moves an index entry.
DROP INDEX deliveries_one_pending;
DROP INDEX deliveries_event;
CREATE INDEX deliveries_event ON deliveries (event_id, endpoint_id);
