package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// EventCreate implements store.Store.
func (s *Store) EventCreate(ctx context.Context, p *store.EventCreateParams) (*store.EventCreateResult, error) {
	var out *store.EventCreateResult
	// Wakes the dispatcher only if some delivery was not handed off.
	err := s.write(ctx, durable, func(w *wtx) error {
		var err error
		out, err = w.eventCreate(p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// idempotentReplay returns the first answer for p's idempotency key, nil
// if the key is new (or expired), or an EIdempotencyConflict error.
func (w *wtx) idempotentReplay(p *store.EventCreateParams) (*store.EventCreateResult, error) {
	var (
		hash    []byte
		eventID string
		created int64
	)
	err := w.queryRow(`SELECT request_hash, event_id, created_at FROM idempotency_keys WHERE account_id = ? AND key = ?`,
		p.Event.AccountID, p.IdempotencyKey).Scan(&hash, &eventID, &created)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	if !hook.IdempotencyLive(fromMS(created), p.Event.CreatedAt, p.IdempotencyTTL) {
		return nil, nil // expired: the key starts afresh
	}
	if !bytes.Equal(hash, p.RequestHash) {
		return nil, hook.IdempotencyConflict(p.IdempotencyTTL)
	}
	ev, err := scanEvent(w.queryRow(`SELECT `+eventColumns+` FROM events WHERE id = ?`, eventID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // pruned by retention: start afresh
	}
	if err != nil {
		return nil, err
	}
	rows, err := w.query(`SELECT `+deliveryColumns+` FROM deliveries WHERE event_id = ? AND trigger = 'scheduled' ORDER BY id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	dels, err := scanDeliveries(rows)
	if err != nil {
		return nil, err
	}
	return &store.EventCreateResult{Event: ev, Deliveries: dels, Replayed: true}, nil
}

// fanOut creates a scheduled delivery of ev for every enabled endpoint of
// its account that subscribes to its type and whose filter match passes.
// Those that h takes (never an endpoint with a rate limit) are created
// leased to the caller and returned as claims as well.
func (w *wtx) fanOut(ev *hook.Event, h *store.Handoff, match func([]byte) bool) ([]*hook.Delivery, []*store.Claim, error) {
	eps, err := w.accountEndpoints(ev.AccountID)
	if err != nil {
		return nil, nil, fmt.Errorf("select endpoints: %w", err)
	}
	var (
		dels   []*hook.Delivery
		leases []int64
		claims []*store.Claim
		lease  int64
	)
	for _, e := range eps {
		if !e.Subscribes(ev.Type) || e.Filter != nil && match != nil && !match(e.Filter) {
			continue
		}
		d := hook.NewDelivery(ev.ID, ev.AccountID, e.ID, hook.TriggerScheduled, ev.CreatedAt)
		var dlease int64
		if h != nil && e.RateLimit == 0 && h.Reserve(e.ID, ev.AccountID) {
			if lease == 0 {
				lease = newLease()
			}
			// Leased like a claim: due again at h.Until if the caller dies.
			dlease, d.NextAttemptAt = lease, h.Until
			claims = append(claims, &store.Claim{Delivery: d, Lease: lease, Body: ev.Body, URL: e.URL,
				Keys: hook.LiveKeys(e.Keys, ev.CreatedAt), Headers: e.Headers})
		}
		dels = append(dels, d)
		leases = append(leases, dlease)
	}
	if err := w.insertDeliveries(dels, leases); err != nil {
		return nil, nil, err
	}
	return dels, claims, nil
}

// insertDeliveries stores ds, each under its lease (0: none), in one
// statement.
func (w *wtx) insertDeliveries(ds []*hook.Delivery, leases []int64) error {
	if len(ds) == 0 {
		return nil
	}
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	q := `INSERT INTO deliveries (id, event_id, endpoint_id, account_id, trigger, status, attempts,
		next_attempt_at, lease, last_status_code, last_error, created_at, updated_at) VALUES ` +
		strings.TrimSuffix(strings.Repeat(row+", ", len(ds)), ", ")
	args := make([]any, 0, 13*len(ds))
	for i, d := range ds {
		args = append(args, d.ID, d.EventID, d.EndpointID, d.AccountID, d.Trigger, d.Status, d.Attempts, nullMS(d.NextAttemptAt),
			leases[i], nullInt(d.LastStatusCode), nullString(d.LastError), ms(d.CreatedAt), ms(d.UpdatedAt))
	}
	if _, err := w.exec(q, args...); err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}
	return nil
}

// insertDelivery stores d; lease is 0, or the lease it is created under.
func (w *wtx) insertDelivery(d *hook.Delivery, lease int64) error {
	_, err := w.exec(`INSERT INTO deliveries (id, event_id, endpoint_id, account_id, trigger, status, attempts,
		next_attempt_at, lease, last_status_code, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.EventID, d.EndpointID, d.AccountID, d.Trigger, d.Status, d.Attempts, nullMS(d.NextAttemptAt), lease,
		nullInt(d.LastStatusCode), nullString(d.LastError), ms(d.CreatedAt), ms(d.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert delivery: %w", err)
	}
	return nil
}

const eventColumns = `id, account_id, type, body, created_at`

func scanEvent(r interface{ Scan(...any) error }) (*hook.Event, error) {
	var ev hook.Event
	var created int64
	if err := r.Scan(&ev.ID, &ev.AccountID, &ev.Type, &ev.Body, &created); err != nil {
		return nil, err
	}
	ev.CreatedAt = fromMS(created)
	return &ev, nil
}

// EventGet implements store.Store.
func (s *Store) EventGet(ctx context.Context, id string) (*hook.Event, error) {
	return scanEvent(s.queryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
}

// operatorEnqueue stores an operator message, due now.
func (w *wtx) operatorEnqueue(m hook.OperatorEvent) error {
	_, err := w.exec(`INSERT INTO operator_messages (id, body, status, next_attempt_at, created_at, updated_at)
		VALUES (?, ?, 'pending', ?, ?, ?)`, m.ID, m.Body, ms(m.CreatedAt), ms(m.CreatedAt), ms(m.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert operator message: %w", err)
	}
	return nil
}
