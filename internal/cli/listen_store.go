package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// listenSchema is the --store schema, meant to be queried by people with
// sqlite3. Times are RFC 3339 UTC with milliseconds, so they sort as text.
// docs/receiving.md documents it; keep the two in step.
const listenSchema = `
CREATE TABLE IF NOT EXISTS events (
  webhook_id  TEXT PRIMARY KEY,  -- the webhook-id header, equal to the event id
  event       TEXT NOT NULL,     -- event type, e.g. call.received
  account_id  TEXT NOT NULL,
  accepted_at TEXT NOT NULL,     -- the envelope's timestamp: when hookd accepted the event
  received_at TEXT NOT NULL,     -- when hookd listen processed it
  data        TEXT NOT NULL      -- the envelope's data, JSON as received
);
CREATE INDEX IF NOT EXISTS events_accepted_at ON events (accepted_at);
CREATE VIEW IF NOT EXISTS calls AS
SELECT webhook_id, account_id, accepted_at, received_at,
  json_extract(data, '$.call_id')              AS call_id,
  json_extract(data, '$.direction')            AS direction,
  json_extract(data, '$.from.number')          AS from_number,
  json_extract(data, '$.from.name')            AS from_name,
  json_extract(data, '$.to.number')            AS to_number,
  json_extract(data, '$.status')               AS status,
  json_extract(data, '$.started_at')           AS started_at,
  json_extract(data, '$.ended_at')             AS ended_at,
  json_extract(data, '$.duration_seconds')     AS duration_seconds,
  json_extract(data, '$.recording.url')        AS recording_url,
  json_extract(data, '$.summary.one_sentence') AS summary
FROM events WHERE event = 'call.received';
CREATE VIEW IF NOT EXISTS sms AS
SELECT webhook_id, account_id, accepted_at, received_at,
  json_extract(data, '$.message_id')  AS message_id,
  json_extract(data, '$.from.number') AS from_number,
  json_extract(data, '$.from.name')   AS from_name,
  json_extract(data, '$.to.number')   AS to_number,
  json_extract(data, '$.received_at') AS sms_received_at,
  json_extract(data, '$.body')        AS body,
  json_array_length(data, '$.media')  AS media_count
FROM events WHERE event = 'sms.received';
PRAGMA user_version = 1;
`

// listenStoreTime is the text form of times in the store.
const listenStoreTime = "2006-01-02T15:04:05.000Z"

// listenStore is the --store database: one row per processed event.
type listenStore struct {
	db   *sql.DB
	path string
}

// listenEvent is one row of the events table.
type listenEvent struct {
	msgID      string
	event      string
	accountID  string
	acceptedAt time.Time
	receivedAt time.Time
	data       json.RawMessage
}

// openListenStore opens or creates the SQLite file at path and its schema.
// It refuses a file that holds an events table of another shape, such as
// hookd serve's own database.
func openListenStore(ctx context.Context, path string) (*listenStore, error) {
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("--store %q: the file name must not contain '?'", path)
	}
	// WAL lets a person query the file with sqlite3 while listen writes;
	// the busy timeout makes each side wait for the other's lock.
	db, err := sql.Open("sqlite", path+"?_busy_timeout=10000&_journal_mode=WAL")
	if err != nil {
		return nil, fmt.Errorf("--store %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; also keeps the check-then-insert simple
	s := &listenStore{db: db, path: path}
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("--store %s: %w", path, err)
	}
	return s, nil
}

func (s *listenStore) init(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if version > 1 {
		return fmt.Errorf("schema version %d is newer than this hookd knows (1)", version)
	}
	var tables int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'events'`).Scan(&tables); err != nil {
		return err
	}
	if tables > 0 {
		if _, err := s.db.ExecContext(ctx, `SELECT webhook_id, event, account_id, accepted_at, received_at, data FROM events LIMIT 0`); err != nil {
			return errors.New("the file has an events table that is not hookd listen's; use another file")
		}
	}
	if _, err := s.db.ExecContext(ctx, listenSchema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	return nil
}

// Has reports whether the event with this webhook-id was processed.
func (s *listenStore) Has(ctx context.Context, msgID string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM events WHERE webhook_id = ?`, msgID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// Insert keeps ev unless its webhook-id is there already, and reports
// whether it did.
func (s *listenStore) Insert(ctx context.Context, ev listenEvent) (bool, error) {
	data := ev.data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO events (webhook_id, event, account_id, accepted_at, received_at, data)
		 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (webhook_id) DO NOTHING`,
		ev.msgID, ev.event, ev.accountID, listenFormatTime(ev.acceptedAt), listenFormatTime(ev.receivedAt), string(data))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Count returns the number of events kept.
func (s *listenStore) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n)
	return n, err
}

func (s *listenStore) Close() error { return s.db.Close() }

func listenFormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(listenStoreTime)
}
