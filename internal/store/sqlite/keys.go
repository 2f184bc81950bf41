package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// EndpointKeysReseal implements store.Store. It runs with secure_delete
// ON, so the pages it writes keep nothing of the keys they replace (the
// writer's usual FAST mode already zeroes a replaced row within its page,
// but not a page that a rewrite frees); Scrub then clears the WAL.
func (s *Store) EndpointKeysReseal(ctx context.Context, p *store.EndpointKeysResealParams) (*store.EndpointKeysResealResult, error) {
	var res *store.EndpointKeysResealResult
	err := s.write(ctx, durable, func(w *wtx) (err error) {
		if _, err := w.s.wconn.ExecContext(w.ctx, "PRAGMA secure_delete = ON"); err != nil {
			return fmt.Errorf("secure_delete: %w", err)
		}
		defer func() {
			if _, rerr := w.s.wconn.ExecContext(w.ctx, "PRAGMA secure_delete = FAST"); rerr != nil && err == nil {
				err = fmt.Errorf("secure_delete: %w", rerr)
			}
		}()
		var batch []store.EndpointKeys
		rs, err := w.query(`SELECT id, keys, headers FROM endpoints WHERE id > ? ORDER BY id LIMIT ?`, p.After, p.Limit)
		if err != nil {
			return err
		}
		for rs.Next() {
			var id, raw, rawHeads string
			if err := rs.Scan(&id, &raw, &rawHeads); err != nil {
				rs.Close()
				return err
			}
			var (
				keys    []hook.Key
				headers []hook.Header
			)
			if err := json.Unmarshal([]byte(raw), &keys); err != nil {
				rs.Close()
				return fmt.Errorf("endpoint %s keys: %w", id, err)
			}
			if rawHeads != "[]" {
				if err := json.Unmarshal([]byte(rawHeads), &headers); err != nil {
					rs.Close()
					return fmt.Errorf("endpoint %s headers: %w", id, err)
				}
			}
			batch = append(batch, store.EndpointKeys{ID: id, Keys: keys, Headers: headers})
		}
		if err := errors.Join(rs.Err(), rs.Close()); err != nil {
			return err
		}
		res, err = p.Apply(batch, func(id string, keys []hook.Key, headers []hook.Header) error {
			raw, err := marshalJSON(keys)
			if err != nil {
				return err
			}
			heads, err := marshalHeaders(headers)
			if err != nil {
				return err
			}
			if _, err := w.exec(`UPDATE endpoints SET keys = ?, headers = ? WHERE id = ?`, raw, heads, id); err != nil {
				return fmt.Errorf("update endpoint keys: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if res.Changed > 0 {
			w.endpointsChanged()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reseal endpoint keys: %w", err)
	}
	return res, nil
}

// Scrub implements store.Store: with p.Rewrite it VACUUMs (the database
// is written anew from its live rows, so no freed page keeps old
// content); then it copies the whole WAL into the database and truncates
// it to nothing, so no earlier version of a page is left in the log. The
// truncation waits for readers to leave the log; it tries for up to 10 s.
func (s *Store) Scrub(ctx context.Context, p *store.ScrubParams) error {
	if p.Rewrite {
		// VACUUM cannot run inside the writer's transactions; the
		// checkpointer's connection runs it, with a wait long enough for
		// the writer's commits under way.
		conn, err := s.cdb.Conn(ctx)
		if err != nil {
			return fmt.Errorf("scrub: %w", err)
		}
		_, err = conn.ExecContext(ctx, "PRAGMA busy_timeout = 10000")
		if err == nil {
			_, err = conn.ExecContext(ctx, "VACUUM")
		}
		_, _ = conn.ExecContext(ctx, "PRAGMA busy_timeout = 200")
		conn.Close()
		if err != nil {
			return fmt.Errorf("scrub: VACUUM: %w", err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var busy, logPages, done int
		err := s.cdb.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &done)
		if err != nil {
			return fmt.Errorf("scrub: checkpoint: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("scrub: the WAL could not be truncated: readers kept using it for 10 s; run hookd seal with hookd stopped")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
