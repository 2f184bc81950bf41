package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	// Once an item of the batch has settled the key, later items with it
	// replay that item's answer: creator is the index of the item that
	// creates the key's event (-1: none), stored the event read back from
	// an earlier request.
	settled bool
	creator int
	stored  *store.EventCreateResult
}

// batchPlan is what one item of a batch does.
type batchPlan struct {
	create bool
	replay *store.EventCreateResult // an earlier request's answer
	of     int                      // >= 0: replays that item of the batch
}

// EventCreateBatch implements store.Store.
//
// The batch is one durable transaction of a few round trips, whatever its
// size. Its idempotency keys are first inserted together, in key order,
// ON CONFLICT DO NOTHING (so two batches sharing keys take their locks in
// the same order), and then all read back FOR UPDATE: a key whose row
// names this batch's event is new; any other was stored before and is
// replayed, taken over (expired, or its event pruned) or a conflict, as in
// EventCreate. Then every new event is inserted, and the endpoints of
// their accounts are read FOR KEY SHARE in one statement (see
// createEvent), and the deliveries go out with the COMMIT.
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
		plans := make([]batchPlan, len(items))
		var create []*store.EventCreateParams
		for i, p := range items {
			var k *batchKey
			if p.IdempotencyKey != "" {
				k = keys[[2]string{p.Event.AccountID, p.IdempotencyKey}]
			}
			plan, err := t.batchPlan(p, k, i)
			var he *hook.Error
			if errors.As(err, &he) {
				out[i].Err = err // this item's own: nothing of it is written
				continue
			}
			if err != nil {
				return fmt.Errorf("batch item %d: %w", i, err)
			}
			plans[i] = plan
			if plan.create {
				create = append(create, p)
			}
		}
		created, err := t.createEvents(create)
		if err != nil {
			return err
		}
		for i := range items {
			switch plan := plans[i]; {
			case out[i].Err != nil:
			case plan.create:
				out[i].Result, created = created[0], created[1:]
				if len(out[i].Result.Claims) < len(out[i].Result.Deliveries) {
					wake = true
				}
			case plan.of >= 0:
				first := out[plan.of].Result
				out[i].Result = &store.EventCreateResult{Event: first.Event, Deliveries: first.Deliveries, Replayed: true}
			default:
				out[i].Result = plan.replay
			}
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
			k := &batchKey{account: id[0], key: id[1], creator: -1}
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
		byStored                = make(map[[2]string]*batchKey, n)
	)
	for i, k := range order {
		p := first[k]
		accounts[i], names[i], events[i] = k.account, text(k.key), p.Event.ID
		hashes[i], created[i] = bytesOf(p.RequestHash), ms(p.Event.CreatedAt)
		byStored[[2]string{accounts[i], names[i]}] = k // the key as stored (text)
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
			if k := byStored[[2]string{account, key}]; k != nil {
				k.hash, k.eventID, k.created, k.found = r.hash, r.eventID, r.created, true
			}
		}
		return rows.Err()
	})
	if err := t.flush(); err != nil {
		return nil, err
	}
	return keys, nil
}

// batchPlan decides what item i of a batch does, given its idempotency
// key k (nil without one): create its event, replay an answer, or fail
// with an *hook.Error.
func (t *txn) batchPlan(p *store.EventCreateParams, k *batchKey, i int) (batchPlan, error) {
	create := batchPlan{create: true, of: -1}
	ev := p.Event
	switch {
	case k == nil:
		return create, nil
	case k.settled:
		// An earlier item of this batch settled the key.
		if !bytes.Equal(k.hash, p.RequestHash) {
			return batchPlan{}, hook.IdempotencyConflict(p.IdempotencyTTL)
		}
		if k.creator >= 0 {
			return batchPlan{of: k.creator}, nil
		}
		return batchPlan{replay: &store.EventCreateResult{Event: k.stored.Event, Deliveries: k.stored.Deliveries, Replayed: true}, of: -1}, nil
	case !k.found:
		return batchPlan{}, errKeyGone // deleted under our lock: cannot happen
	case k.eventID == ev.ID:
		k.settled, k.creator = true, i // the key is new, inserted with this item
		return create, nil
	}
	if hook.IdempotencyLive(k.created, ev.CreatedAt, p.IdempotencyTTL) {
		if !bytes.Equal(k.hash, p.RequestHash) {
			return batchPlan{}, hook.IdempotencyConflict(p.IdempotencyTTL)
		}
		first, dels, err := t.firstAnswer(k.eventID)
		if err != nil {
			return batchPlan{}, err
		}
		if first != nil {
			k.settled, k.stored = true, &store.EventCreateResult{Event: first, Deliveries: dels}
			return batchPlan{replay: &store.EventCreateResult{Event: first, Deliveries: dels, Replayed: true}, of: -1}, nil
		}
	}
	// Expired, or its event is gone: the key starts afresh with this item.
	t.queue(`UPDATE idempotency_keys SET request_hash = $1, event_id = $2, created_at = $3 WHERE account_id = $4 AND key = $5`,
		bytesOf(p.RequestHash), ev.ID, ms(ev.CreatedAt), ev.AccountID, text(p.IdempotencyKey))
	k.hash, k.settled, k.creator = p.RequestHash, true, i
	return create, nil
}

// createEvents stores new events and their fan-out as createEvent does
// for one, in one round trip for all of them: the events are inserted in
// one statement, the enabled endpoints of all their accounts are read
// FOR KEY SHARE in another (in id order, as createEvent takes them), and
// the deliveries are queued to go with the COMMIT.
func (t *txn) createEvents(ps []*store.EventCreateParams) ([]*store.EventCreateResult, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	n := len(ps)
	var (
		ids, accounts, types = make([]string, n), make([]string, n), make([]string, n)
		bodies               = make([][]byte, n)
		created              = make([]time.Time, n)
		distinct             []string
	)
	for i, p := range ps {
		ev := p.Event
		ids[i], accounts[i], types[i], bodies[i], created[i] = ev.ID, ev.AccountID, ev.Type, bytesOf(ev.Body), ms(ev.CreatedAt)
		if !slices.Contains(distinct, ev.AccountID) {
			distinct = append(distinct, ev.AccountID)
		}
	}
	t.queue(`INSERT INTO events (id, account_id, type, body, created_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::timestamptz[])`,
		ids, accounts, types, bodies, created)
	type target struct {
		id, url   string
		types     []string
		keys      []byte
		headers   []byte
		filter    []byte // nil: none
		rateLimit int
		parsed    []hook.Key
		hparsed   []hook.Header
	}
	byAccount := map[string][]*target{}
	t.queue(`SELECT account_id, id, url, event_types, keys, headers, filter, rate_limit FROM endpoints
		WHERE account_id = ANY($1) AND enabled AND deleted_at IS NULL ORDER BY id FOR KEY SHARE`, distinct).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var (
					account string
					tg      target
					filter  *string
				)
				if err := rows.Scan(&account, &tg.id, &tg.url, &tg.types, &tg.keys, &tg.headers, &filter, &tg.rateLimit); err != nil {
					return err
				}
				if filter != nil {
					tg.filter = []byte(*filter)
				}
				byAccount[account] = append(byAccount[account], &tg)
			}
			return rows.Err()
		})
	if err := t.flush(); err != nil {
		return nil, err
	}
	out := make([]*store.EventCreateResult, n)
	for i, p := range ps {
		ev, h := p.Event, p.Handoff
		var (
			dels   []*hook.Delivery
			leases []int64
			claims []*store.Claim
			lease  int64
		)
		for _, tg := range byAccount[ev.AccountID] {
			if !slices.Contains(tg.types, hook.AllEventTypes) && !slices.Contains(tg.types, ev.Type) {
				continue
			}
			if tg.filter != nil && p.Match != nil && !p.Match(tg.filter) {
				continue // the endpoint's payload filter does not take it
			}
			d := hook.NewDelivery(ev.ID, ev.AccountID, tg.id, hook.TriggerScheduled, ms(ev.CreatedAt))
			var dlease int64
			// A rate-limited endpoint's deliveries wait for a slot in
			// DeliveryClaim.
			if h != nil && tg.rateLimit == 0 && t.reserve(h.Reserve, tg.id, ev.AccountID) {
				if tg.parsed == nil {
					if err := json.Unmarshal(tg.keys, &tg.parsed); err != nil {
						return nil, fmt.Errorf("endpoint %s keys: %w", tg.id, err)
					}
					if err := unmarshalHeaders(tg.headers, &tg.hparsed); err != nil {
						return nil, fmt.Errorf("endpoint %s headers: %w", tg.id, err)
					}
				}
				if lease == 0 {
					lease = newLease()
				}
				// Leased like a claim: due again at h.Until if the caller dies.
				dlease, d.NextAttemptAt = lease, ms(h.Until)
				claims = append(claims, &store.Claim{Delivery: d, Lease: lease, Body: ev.Body, URL: tg.url,
					Keys: hook.LiveKeys(tg.parsed, ev.CreatedAt), Headers: tg.hparsed})
			}
			dels, leases = append(dels, d), append(leases, dlease)
		}
		if dels == nil {
			dels = []*hook.Delivery{}
		}
		t.insertDeliveries(dels, leases, nil)
		out[i] = &store.EventCreateResult{Event: ev, Deliveries: dels, Claims: claims}
	}
	return out, nil
}
