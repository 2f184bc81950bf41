package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// EndpointKeysReseal implements store.Store. The batch's rows are locked
// (FOR UPDATE) so that a key rotation on another node waits for the
// batch rather than being overwritten by it.
func (s *Store) EndpointKeysReseal(ctx context.Context, p *store.EndpointKeysResealParams) (*store.EndpointKeysResealResult, error) {
	var res *store.EndpointKeysResealResult
	err := s.tx(ctx, false, func(t *txn) error {
		var batch []store.EndpointKeys
		t.queue(`SELECT id, keys, headers FROM endpoints WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`, p.After, p.Limit).
			Query(func(r pgx.Rows) error {
				for r.Next() {
					var (
						id            string
						raw, rawHeads []byte
					)
					if err := r.Scan(&id, &raw, &rawHeads); err != nil {
						return err
					}
					var (
						keys    []hook.Key
						headers []hook.Header
					)
					if err := json.Unmarshal(raw, &keys); err != nil {
						return fmt.Errorf("endpoint %s keys: %w", id, err)
					}
					if err := unmarshalHeaders(rawHeads, &headers); err != nil {
						return fmt.Errorf("endpoint %s headers: %w", id, err)
					}
					batch = append(batch, store.EndpointKeys{ID: id, Keys: keys, Headers: headers})
				}
				return r.Err()
			})
		if err := t.flush(); err != nil {
			return err
		}
		var err error
		res, err = p.Apply(batch, func(id string, keys []hook.Key, headers []hook.Header) error {
			raw, err := json.Marshal(keys)
			if err != nil {
				return err
			}
			heads, err := marshalHeaders(headers)
			if err != nil {
				return err
			}
			t.queue(`UPDATE endpoints SET keys = $1, headers = $3 WHERE id = $2`, string(raw), id, heads)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reseal endpoint keys: %w", err)
	}
	return res, nil
}

// Scrub implements store.Store: with p.Rewrite, VACUUM FULL endpoints,
// which writes the table anew without the row versions earlier updates
// left behind (a plain VACUUM only marks their space reusable). VACUUM
// FULL still copies a replaced version that a transaction begun before
// the replacement might see, so Scrub first waits (up to 30 s) for the
// transactions of this database that began before it was called to end
// (autovacuum's included: an ANALYZE holds a snapshot too).
// It holds an exclusive lock on the table while it runs (milliseconds for
// thousands of endpoints) and gives up rather than queue behind a long
// transaction for more than 10 s.
func (s *Store) Scrub(ctx context.Context, p *store.ScrubParams) error {
	if !p.Rewrite {
		return nil
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("scrub: %w", err)
	}
	defer conn.Release()
	var (
		since   time.Time
		waiting []int32
	)
	if err := conn.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&since); err != nil {
		return fmt.Errorf("scrub: %w", err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		waiting = waiting[:0]
		rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start < $1`, since)
		if err != nil {
			return fmt.Errorf("scrub: %w", err)
		}
		if waiting, err = pgx.AppendRows(waiting, rows, pgx.RowTo[int32]); err != nil {
			return fmt.Errorf("scrub: %w", err)
		}
		if len(waiting) == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("SET lock_timeout = %d", (10*time.Second).Milliseconds())); err != nil {
		return fmt.Errorf("scrub: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "RESET lock_timeout") }()
	if _, err := conn.Exec(ctx, "VACUUM FULL endpoints"); err != nil {
		return fmt.Errorf("scrub: VACUUM FULL endpoints: %w", err)
	}
	if len(waiting) > 0 {
		return fmt.Errorf("scrub: transactions older than the seal (server pids %v) were still open after 30 s: "+
			"old row versions they could see may remain; run hookd seal again", waiting)
	}
	return nil
}
