package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// EventCreateBatch implements store.Store.
//
// The whole batch is one write op, so it commits, fsync'd, in one writer
// group (with whatever other writes share that group). Items run in order
// in that transaction, so an item whose idempotency key an earlier item of
// the same batch stored finds it as a replay or a conflict, exactly as a
// later request would.
func (s *Store) EventCreateBatch(ctx context.Context, items []*store.EventCreateParams) ([]store.EventBatchItem, error) {
	var out []store.EventBatchItem
	err := s.write(ctx, durable, func(w *wtx) error {
		// The op may run again (see runBatch): start afresh.
		out = make([]store.EventBatchItem, len(items))
		for i, p := range items {
			res, err := w.eventCreate(p)
			var he *hook.Error
			if errors.As(err, &he) {
				out[i].Err = err // this item's own: nothing of it was written
				continue
			}
			if err != nil {
				return fmt.Errorf("batch item %d: %w", i, err)
			}
			out[i].Result = res
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eventCreate stores one event (EventCreate, and each item of
// EventCreateBatch) in the writer's transaction.
func (w *wtx) eventCreate(p *store.EventCreateParams) (*store.EventCreateResult, error) {
	ev := p.Event
	if p.IdempotencyKey != "" {
		prev, err := w.idempotentReplay(p)
		if err != nil || prev != nil {
			return prev, err
		}
	}
	if _, err := w.exec(`INSERT INTO events (id, account_id, type, body, created_at) VALUES (?, ?, ?, ?, ?)`,
		ev.ID, ev.AccountID, ev.Type, ev.Body, ms(ev.CreatedAt)); err != nil {
		return nil, fmt.Errorf("insert event: %w", err)
	}
	dels, claims, err := w.fanOut(ev, p.Handoff, p.Match)
	if err != nil {
		return nil, err
	}
	if p.IdempotencyKey != "" {
		if _, err := w.exec(`INSERT OR REPLACE INTO idempotency_keys (account_id, key, request_hash, event_id, created_at)
			VALUES (?, ?, ?, ?, ?)`, ev.AccountID, p.IdempotencyKey, p.RequestHash, ev.ID, ms(ev.CreatedAt)); err != nil {
			return nil, fmt.Errorf("insert idempotency key: %w", err)
		}
	}
	if len(claims) < len(dels) {
		w.wakeDispatcher()
	}
	return &store.EventCreateResult{Event: ev, Deliveries: dels, Claims: claims}, nil
}
