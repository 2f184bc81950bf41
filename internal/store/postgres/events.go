package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

var (
	// errKeyTaken: the idempotency key is already stored; replay it.
	errKeyTaken = errors.New("idempotency key taken")
	// errKeyGone: the stored key went away (pruned); start again.
	errKeyGone = errors.New("idempotency key gone")
)

// EventCreate implements store.Store.
//
// The event, its fan-out and its idempotency key commit in one durable
// transaction of two round trips. With a key, the transaction first
// inserts it ON CONFLICT DO NOTHING: of concurrent requests with the same
// key one inserts it, the others wait for that one to commit and then find
// the key taken, roll back and replay the first answer.
func (s *Store) EventCreate(ctx context.Context, p *store.EventCreateParams) (*store.EventCreateResult, error) {
	for range 3 {
		out, err := s.eventInsert(ctx, p)
		if errors.Is(err, errKeyTaken) {
			out, err = s.eventReplay(ctx, p)
			if errors.Is(err, errKeyGone) {
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		if len(out.Claims) < len(out.Deliveries) && !out.Replayed {
			s.wake() // some delivery was not handed off
		}
		return out, nil
	}
	return nil, errors.New("create event: idempotency key kept changing")
}

// eventInsert stores a new event; errKeyTaken if p's idempotency key is
// already stored.
func (s *Store) eventInsert(ctx context.Context, p *store.EventCreateParams) (*store.EventCreateResult, error) {
	var out *store.EventCreateResult
	err := s.tx(ctx, false, func(t *txn) error {
		out = nil
		ev := p.Event
		if p.IdempotencyKey != "" {
			t.queue(`INSERT INTO idempotency_keys (account_id, key, request_hash, event_id, created_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, key) DO NOTHING`,
				ev.AccountID, text(p.IdempotencyKey), bytesOf(p.RequestHash), ev.ID, ms(ev.CreatedAt)).
				Exec(func(ct pgconn.CommandTag) error {
					if ct.RowsAffected() == 0 {
						return errKeyTaken
					}
					return nil
				})
		}
		dels, claims, err := t.createEvent(ev, p.Handoff, p.Match)
		if err != nil {
			return err
		}
		out = &store.EventCreateResult{Event: ev, Deliveries: dels, Claims: claims}
		return nil
	})
	return out, err
}

// eventReplay answers a request whose idempotency key is stored: the
// first answer, an EIdempotencyConflict, or, when the key expired or its
// event was pruned, a new event that takes the key over.
func (s *Store) eventReplay(ctx context.Context, p *store.EventCreateParams) (*store.EventCreateResult, error) {
	var out *store.EventCreateResult
	err := s.tx(ctx, false, func(t *txn) error {
		out = nil
		ev := p.Event
		var (
			hash    []byte
			eventID string
			created time.Time
		)
		t.queue(`SELECT request_hash, event_id, created_at FROM idempotency_keys WHERE account_id = $1 AND key = $2 FOR UPDATE`,
			ev.AccountID, text(p.IdempotencyKey)).QueryRow(func(r pgx.Row) error {
			err := r.Scan(&hash, &eventID, &created)
			if errors.Is(err, pgx.ErrNoRows) {
				return errKeyGone
			}
			return err
		})
		if err := t.flush(); err != nil {
			return err
		}
		if hook.IdempotencyLive(created, p.Event.CreatedAt, p.IdempotencyTTL) {
			if !bytes.Equal(hash, p.RequestHash) {
				return hook.IdempotencyConflict(p.IdempotencyTTL)
			}
			first, dels, err := t.firstAnswer(eventID)
			if err != nil {
				return err
			}
			if first != nil {
				out = &store.EventCreateResult{Event: first, Deliveries: dels, Replayed: true}
				return nil
			}
		}
		// Expired, or its event is gone: the key starts afresh.
		t.queue(`UPDATE idempotency_keys SET request_hash = $1, event_id = $2, created_at = $3 WHERE account_id = $4 AND key = $5`,
			bytesOf(p.RequestHash), ev.ID, ms(ev.CreatedAt), ev.AccountID, text(p.IdempotencyKey))
		dels, claims, err := t.createEvent(ev, p.Handoff, p.Match)
		if err != nil {
			return err
		}
		out = &store.EventCreateResult{Event: ev, Deliveries: dels, Claims: claims}
		return nil
	})
	return out, err
}

// firstAnswer reads the event an idempotency key first created and its
// scheduled deliveries, in one round trip; first is nil if retention has
// pruned the event (the key then starts afresh).
func (t *txn) firstAnswer(eventID string) (first *hook.Event, dels []*hook.Delivery, err error) {
	t.queue(`SELECT `+eventColumns+` FROM events WHERE id = $1`, eventID).QueryRow(func(r pgx.Row) error {
		var err error
		first, err = scanEvent(r)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	t.queue(`SELECT `+deliveryColumns+` FROM deliveries WHERE event_id = $1 AND trigger = 'scheduled' ORDER BY id`,
		eventID).Query(func(rows pgx.Rows) error {
		var err error
		dels, err = scanDeliveries(rows)
		return err
	})
	if err := t.flush(); err != nil {
		return nil, nil, err
	}
	return first, dels, nil
}

// createEvent stores ev and queues one scheduled delivery for every
// enabled endpoint of its account that subscribes to its type; those that
// h takes are created leased to the caller and returned as claims as well.
// It flushes what is queued: the deliveries depend on the endpoints read.
//
// The endpoints are held FOR KEY SHARE until commit, so a concurrent
// disable or delete (which takes them FOR UPDATE) waits for this
// transaction and then cancels its deliveries too, or this transaction
// waits for the disable and sees the endpoint disabled.
func (t *txn) createEvent(ev *hook.Event, h *store.Handoff, match func([]byte) bool) ([]*hook.Delivery, []*store.Claim, error) {
	t.queue(`INSERT INTO events (id, account_id, type, body, created_at) VALUES ($1, $2, $3, $4, $5)`,
		ev.ID, ev.AccountID, ev.Type, bytesOf(ev.Body), ms(ev.CreatedAt))
	type target struct {
		id, url   string
		keys      []byte
		headers   []byte
		rateLimit int
	}
	var targets []target
	t.queue(`SELECT id, url, keys, headers, filter, rate_limit FROM endpoints WHERE account_id = $1 AND enabled AND deleted_at IS NULL
		AND ('*' = ANY (event_types) OR $2 = ANY (event_types)) ORDER BY id FOR KEY SHARE`, ev.AccountID, ev.Type).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var (
					tg     target
					filter *string
				)
				if err := rows.Scan(&tg.id, &tg.url, &tg.keys, &tg.headers, &filter, &tg.rateLimit); err != nil {
					return err
				}
				if filter != nil && match != nil && !match([]byte(*filter)) {
					continue // the endpoint's payload filter does not take it
				}
				targets = append(targets, tg)
			}
			return rows.Err()
		})
	if err := t.flush(); err != nil {
		return nil, nil, err
	}
	var (
		dels   = make([]*hook.Delivery, 0, len(targets))
		leases = make([]int64, 0, len(targets))
		claims []*store.Claim
		lease  int64
	)
	for _, tg := range targets {
		d := hook.NewDelivery(ev.ID, ev.AccountID, tg.id, hook.TriggerScheduled, ms(ev.CreatedAt))
		var dlease int64
		// A rate-limited endpoint's deliveries wait for a slot in
		// DeliveryClaim.
		if h != nil && tg.rateLimit == 0 && t.reserve(h.Reserve, tg.id, ev.AccountID) {
			var (
				keys    []hook.Key
				headers []hook.Header
			)
			if err := json.Unmarshal(tg.keys, &keys); err != nil {
				return nil, nil, fmt.Errorf("endpoint %s keys: %w", tg.id, err)
			}
			if err := unmarshalHeaders(tg.headers, &headers); err != nil {
				return nil, nil, fmt.Errorf("endpoint %s headers: %w", tg.id, err)
			}
			if lease == 0 {
				lease = newLease()
			}
			// Leased like a claim: due again at h.Until if the caller dies.
			dlease, d.NextAttemptAt = lease, ms(h.Until)
			claims = append(claims, &store.Claim{Delivery: d, Lease: lease, Body: ev.Body, URL: tg.url,
				Keys: hook.LiveKeys(keys, ev.CreatedAt), Headers: headers})
		}
		dels, leases = append(dels, d), append(leases, dlease)
	}
	t.insertDeliveries(dels, leases, nil)
	return dels, claims, nil
}

// newLease returns a claim's lease: random, never 0 (0 is "not leased").
func newLease() int64 { return rand.Int64N(1<<62) + 1 }

// insertDeliveries queues the insert of new pending deliveries that share
// their account, trigger and creation time, in one statement; leases, if
// not nil, holds the lease each is created under (0: none). A delivery
// whose event already has a pending one to its endpoint is skipped;
// inserted, if not nil, gets the number inserted.
func (t *txn) insertDeliveries(ds []*hook.Delivery, leases []int64, inserted *int64) {
	if len(ds) == 0 {
		return
	}
	n := len(ds)
	var (
		ids, events, endpoints = make([]string, n), make([]string, n), make([]string, n)
		nexts                  = make([]time.Time, n)
	)
	if leases == nil {
		leases = make([]int64, n)
	}
	for i, d := range ds {
		ids[i], events[i], endpoints[i], nexts[i] = d.ID, d.EventID, d.EndpointID, ms(d.NextAttemptAt)
	}
	d := ds[0]
	t.queue(`INSERT INTO deliveries (id, event_id, endpoint_id, account_id, trigger, status, attempts,
			next_attempt_at, lease, created_at, updated_at)
		SELECT u.id, u.event_id, u.endpoint_id, $6, $7, 'pending', 0, u.next, u.lease, $8, $8
		FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[])
			AS u (id, event_id, endpoint_id, next, lease)
		ON CONFLICT (event_id, endpoint_id) WHERE status = 'pending' DO NOTHING`,
		ids, events, endpoints, nexts, leases, d.AccountID, d.Trigger, ms(d.CreatedAt)).Exec(func(ct pgconn.CommandTag) error {
		if inserted != nil {
			*inserted = ct.RowsAffected()
		}
		return nil
	})
}

const eventColumns = `id, account_id, type, body, created_at`

func scanEvent(r pgx.Row) (*hook.Event, error) {
	var ev hook.Event
	if err := r.Scan(&ev.ID, &ev.AccountID, &ev.Type, &ev.Body, &ev.CreatedAt); err != nil {
		return nil, notFound(err)
	}
	ev.CreatedAt = ev.CreatedAt.UTC()
	return &ev, nil
}

// EventGet implements store.Store.
func (s *Store) EventGet(ctx context.Context, id string) (*hook.Event, error) {
	return scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1`, id))
}
