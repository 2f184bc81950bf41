package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// batchKey is an idempotency key of a batch and what this transaction
// knows of it.
type batchKey struct {
	account, key string
	// The stored row, read FOR UPDATE after this transaction's insert.
	hash    []byte
	eventID string
	created time.Time
	found   bool
	// owner is the answer of the batch item that settled the key (created
	// its event or replayed it); later items with the key replay it.
	owner *store.EventCreateResult
}

// EventCreateBatch implements store.Store.
//
// The batch is one durable transaction. Its idempotency keys are first
// inserted together, in key order, ON CONFLICT DO NOTHING (so two batches
// sharing keys take their locks in the same order), and then all read
// back FOR UPDATE: a key whose row names this batch's event is new; any
// other was stored before and is replayed, taken over (expired, or its
// event pruned) or a conflict, as in EventCreate. The items then run in
// order, each fanning out as EventCreate does.
func (s *Store) EventCreateBatch(ctx context.Context, items []*store.EventCreateParams) ([]store.EventBatchItem, error) {
	var (
		out  []store.EventBatchItem
		wake bool
	)
	err := s.tx(ctx, false, func(t *txn) error {
		out, wake = make([]store.EventBatchItem, len(items)), false
		keys, err := t.batchKeys(items)
		if err != nil {
			return err
		}
		for i, p := range items {
			var k *batchKey
			if p.IdempotencyKey != "" {
				k = keys[[2]string{p.Event.AccountID, p.IdempotencyKey}]
			}
			res, err := t.batchItem(p, k)
			var he *hook.Error
			if errors.As(err, &he) {
				out[i].Err = err // this item's own: nothing of it was written
				continue
			}
			if err != nil {
				return fmt.Errorf("batch item %d: %w", i, err)
			}
			if k != nil && k.owner == nil {
				k.owner = res
			}
			if !res.Replayed && len(res.Claims) < len(res.Deliveries) {
				wake = true
			}
			out[i].Result = res
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if wake {
		s.wake() // some delivery was not handed off
	}
	return out, nil
}

// batchKeys inserts the batch's idempotency keys (each with the first
// item that has it) where they are not stored yet, and reads all of them
// back, locked.
func (t *txn) batchKeys(items []*store.EventCreateParams) (map[[2]string]*batchKey, error) {
	keys := map[[2]string]*batchKey{}
	var (
		order []*batchKey
		first = map[*batchKey]*store.EventCreateParams{}
	)
	for _, p := range items {
		if p.IdempotencyKey == "" {
			continue
		}
		id := [2]string{p.Event.AccountID, p.IdempotencyKey}
		if keys[id] == nil {
			k := &batchKey{account: id[0], key: id[1]}
			keys[id], first[k] = k, p
			order = append(order, k)
		}
	}
	if len(order) == 0 {
		return keys, nil
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].account != order[j].account {
			return order[i].account < order[j].account
		}
		return order[i].key < order[j].key
	})
	n := len(order)
	var (
		accounts, names, events = make([]string, n), make([]string, n), make([]string, n)
		hashes                  = make([][]byte, n)
		created                 = make([]time.Time, n)
	)
	for i, k := range order {
		p := first[k]
		accounts[i], names[i], events[i] = k.account, text(k.key), p.Event.ID
		hashes[i], created[i] = bytesOf(p.RequestHash), ms(p.Event.CreatedAt)
	}
	t.queue(`INSERT INTO idempotency_keys (account_id, key, request_hash, event_id, created_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[], $5::timestamptz[])
		ON CONFLICT (account_id, key) DO NOTHING`, accounts, names, hashes, events, created)
	t.queue(`SELECT account_id, key, request_hash, event_id, created_at FROM idempotency_keys
		WHERE (account_id, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))
		ORDER BY account_id, key FOR UPDATE`, accounts, names).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				account, key string
				r            batchKey
			)
			if err := rows.Scan(&account, &key, &r.hash, &r.eventID, &r.created); err != nil {
				return err
			}
			// The key as stored may differ from the key sent (text()).
			for _, k := range order {
				if k.account == account && text(k.key) == key {
					k.hash, k.eventID, k.created, k.found = r.hash, r.eventID, r.created, true
				}
			}
		}
		return rows.Err()
	})
	if err := t.flush(); err != nil {
		return nil, err
	}
	return keys, nil
}

// batchItem stores one item of a batch, or answers it from its
// idempotency key k (nil without one).
func (t *txn) batchItem(p *store.EventCreateParams, k *batchKey) (*store.EventCreateResult, error) {
	ev := p.Event
	if k == nil {
		return t.batchCreate(p)
	}
	if k.owner != nil {
		// An earlier item of this batch settled the key.
		if !bytes.Equal(k.hash, p.RequestHash) {
			return nil, conflict()
		}
		return &store.EventCreateResult{Event: k.owner.Event, Deliveries: k.owner.Deliveries, Replayed: true}, nil
	}
	if !k.found {
		return nil, errKeyGone // pruned between insert and read: cannot happen under the lock
	}
	if k.eventID == ev.ID {
		return t.batchCreate(p) // the key is new, inserted with this item
	}
	if ev.CreatedAt.Before(k.created.Add(p.IdempotencyTTL)) {
		if !bytes.Equal(k.hash, p.RequestHash) {
			return nil, conflict()
		}
		var (
			first *hook.Event
			dels  []*hook.Delivery
		)
		t.queue(`SELECT `+eventColumns+` FROM events WHERE id = $1`, k.eventID).QueryRow(func(r pgx.Row) error {
			var err error
			first, err = scanEvent(r)
			if errors.Is(err, store.ErrNotFound) {
				return nil // pruned by retention: start afresh
			}
			return err
		})
		t.queue(`SELECT `+deliveryColumns+` FROM deliveries WHERE event_id = $1 AND trigger = 'scheduled' ORDER BY id`,
			k.eventID).Query(func(rows pgx.Rows) error {
			var err error
			dels, err = scanDeliveries(rows)
			return err
		})
		if err := t.flush(); err != nil {
			return nil, err
		}
		if first != nil {
			return &store.EventCreateResult{Event: first, Deliveries: dels, Replayed: true}, nil
		}
	}
	// Expired, or its event is gone: the key starts afresh with this item.
	t.queue(`UPDATE idempotency_keys SET request_hash = $1, event_id = $2, created_at = $3 WHERE account_id = $4 AND key = $5`,
		bytesOf(p.RequestHash), ev.ID, ms(ev.CreatedAt), ev.AccountID, text(p.IdempotencyKey))
	k.hash = p.RequestHash
	return t.batchCreate(p)
}

func (t *txn) batchCreate(p *store.EventCreateParams) (*store.EventCreateResult, error) {
	dels, claims, err := t.createEvent(p.Event, p.Handoff)
	if err != nil {
		return nil, err
	}
	return &store.EventCreateResult{Event: p.Event, Deliveries: dels, Claims: claims}, nil
}

func conflict() error {
	return hook.FieldErrorf(hook.EIdempotencyConflict, "idempotency_key",
		"This idempotency key was used within the last 24 hours for a different event or data.")
}
