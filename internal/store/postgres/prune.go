package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookd/hookd/internal/store"
)

// Prune implements store.Store. An event goes with its deliveries and
// attempts once it and all of them are older than the cutoff and none is
// pending: a recent redelivery or recover keeps an old event. Each call
// deletes at most p.Limit events in one short transaction; call it until
// it returns fewer than p.Limit events.
//
// An event is locked FOR UPDATE (skipping those locked by others) before
// it is checked again for pending deliveries: redeliver and recover hold
// the events they add deliveries to FOR KEY SHARE, so an event either gets
// its new delivery and is kept, or is deleted first and cannot get one.
func (s *Store) Prune(ctx context.Context, p *store.PruneParams) (*store.PruneResult, error) {
	out := &store.PruneResult{}
	err := s.tx(ctx, false, func(t *txn) error {
		*out = store.PruneResult{}
		var candidates, events, deliveries []string
		t.queue(`SELECT id FROM events ev WHERE created_at < $1
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = ev.id
				AND (d.status = 'pending' OR d.updated_at >= $1))
			ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED`, ms(p.Before), p.Limit).Query(collectStrings(&candidates))
		if err := t.flush(); err != nil {
			return err
		}
		if len(candidates) > 0 {
			// Again, with a snapshot taken now that they are locked.
			t.queue(`SELECT id FROM events ev WHERE id = ANY ($1)
				AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = ev.id
					AND (d.status = 'pending' OR d.updated_at >= $2))`,
				candidates, ms(p.Before)).Query(collectStrings(&events))
			if err := t.flush(); err != nil {
				return err
			}
		}
		if len(events) > 0 {
			// Deliveries before attempts: an attempt recorded meanwhile
			// holds its delivery, so it is committed, and seen, by the
			// time its delivery is deleted.
			t.queue(`DELETE FROM deliveries WHERE event_id = ANY ($1) RETURNING id`, events).Query(collectStrings(&deliveries))
			if err := t.flush(); err != nil {
				return err
			}
			t.queue(`DELETE FROM attempts WHERE delivery_id = ANY ($1)`, deliveries).Exec(func(ct pgconn.CommandTag) error {
				out.Attempts = int(ct.RowsAffected())
				return nil
			})
			t.queue(`DELETE FROM events WHERE id = ANY ($1)`, events).Exec(func(ct pgconn.CommandTag) error {
				out.Events = int(ct.RowsAffected())
				return nil
			})
			out.Deliveries = len(deliveries)
		}
		t.queue(`DELETE FROM operator_messages WHERE status <> 'pending' AND created_at < $1`, ms(p.Before))
		t.queue(`DELETE FROM idempotency_keys WHERE created_at < $1`, ms(p.IdempotencyBefore))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	return out, nil
}

// collectStrings is a batch callback that reads one text column into *dst.
func collectStrings(dst *[]string) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		var err error
		*dst, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}
}
