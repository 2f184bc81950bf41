-- GET /v1/events lists an account's events newest first, by id.
CREATE INDEX events_account_id ON events (account_id, id);
