package sqlite

import (
	"context"
	"fmt"

	"github.com/hookd/hookd/internal/store"
)

// Prune implements store.Store. Each call deletes at most p.Limit events
// (with their deliveries and attempts) in one short transaction, so that
// retention never holds the writer for long; call it until it returns
// fewer than p.Limit events.
func (s *Store) Prune(ctx context.Context, p *store.PruneParams) (*store.PruneResult, error) {
	out := &store.PruneResult{}
	err := s.write(ctx, relaxed, func(w *wtx) error {
		*out = store.PruneResult{}
		// An event goes with its deliveries and attempts once it and all
		// of them are older than the cutoff and none is pending: a recent
		// redelivery or recover keeps an old event.
		ids, err := scanIDs(w.query(`SELECT id FROM events ev WHERE created_at < ?
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = ev.id
				AND (d.status = 'pending' OR d.updated_at >= ?))
			ORDER BY created_at LIMIT ?`, ms(p.Before), ms(p.Before), p.Limit))
		if err != nil {
			return fmt.Errorf("select events to prune: %w", err)
		}
		for _, id := range ids {
			res, err := w.exec(`DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id = ?)`, id)
			if err != nil {
				return fmt.Errorf("prune attempts: %w", err)
			}
			n, _ := res.RowsAffected()
			out.Attempts += int(n)
			if res, err = w.exec(`DELETE FROM deliveries WHERE event_id = ?`, id); err != nil {
				return fmt.Errorf("prune deliveries: %w", err)
			}
			n, _ = res.RowsAffected()
			out.Deliveries += int(n)
			if _, err := w.exec(`DELETE FROM events WHERE id = ?`, id); err != nil {
				return fmt.Errorf("prune events: %w", err)
			}
		}
		out.Events = len(ids)
		if _, err := w.exec(`DELETE FROM operator_messages WHERE status <> 'pending' AND created_at < ?`, ms(p.Before)); err != nil {
			return fmt.Errorf("prune operator messages: %w", err)
		}
		if _, err := w.exec(`DELETE FROM idempotency_keys WHERE created_at < ?`, ms(p.IdempotencyBefore)); err != nil {
			return fmt.Errorf("prune idempotency keys: %w", err)
		}
		return nil
	})
	return out, err
}
