package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

const deliveryColumns = `id, event_id, endpoint_id, account_id, trigger, status, attempts, next_attempt_at,
	COALESCE(last_status_code, 0), COALESCE(last_error, ''), created_at, updated_at`

func scanDelivery(r pgx.Row) (*hook.Delivery, error) {
	var (
		d    hook.Delivery
		next pgtype.Timestamptz
	)
	if err := r.Scan(&d.ID, &d.EventID, &d.EndpointID, &d.AccountID, &d.Trigger, &d.Status, &d.Attempts, &next,
		&d.LastStatusCode, &d.LastError, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return nil, notFound(err)
	}
	d.NextAttemptAt = fromNull(next)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return &d, nil
}

func scanDeliveries(rows pgx.Rows) ([]*hook.Delivery, error) {
	defer rows.Close()
	var out []*hook.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeliveryGet implements store.Store.
func (s *Store) DeliveryGet(ctx context.Context, id string) (*hook.Delivery, error) {
	return scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, id))
}

// DeliveryList implements store.Store.
func (s *Store) DeliveryList(ctx context.Context, p *store.DeliveryListParams) ([]*hook.Delivery, error) {
	cols, args := p.Where()
	where := make([]string, len(cols), len(cols)+1)
	for i, c := range cols {
		where[i] = fmt.Sprintf("%s = $%d", c, i+1)
	}
	if p.After != "" {
		args = append(args, p.After)
		where = append(where, fmt.Sprintf("id < $%d", len(args)))
	}
	q := `SELECT ` + deliveryColumns + ` FROM deliveries`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, p.Limit)
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list deliveries: %w", err))
	}
	ds, err := scanDeliveries(rows)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list deliveries: %w", err))
	}
	return ds, nil
}

// AttemptList implements store.Store.
func (s *Store) AttemptList(ctx context.Context, p *store.AttemptListParams) ([]*hook.Attempt, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, delivery_id, number, trigger, started_at, duration_ms,
		COALESCE(status_code, 0), COALESCE(error, ''), response_body, request_headers
		FROM attempts WHERE delivery_id = $1 AND number > $2 ORDER BY number LIMIT $3`, p.DeliveryID, p.After, p.Limit)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list attempts: %w", err))
	}
	defer rows.Close()
	var out []*hook.Attempt
	for rows.Next() {
		var (
			a          hook.Attempt
			durationMS int64
			headers    []byte
		)
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.Number, &a.Trigger, &a.StartedAt, &durationMS, &a.StatusCode,
			&a.Error, &a.ResponseBody, &headers); err != nil {
			return nil, unavailable(fmt.Errorf("list attempts: %w", err))
		}
		a.StartedAt = a.StartedAt.UTC()
		a.Duration = time.Duration(durationMS) * time.Millisecond
		if err := json.Unmarshal(headers, &a.RequestHeaders); err != nil {
			return nil, fmt.Errorf("attempt %s headers: %w", a.ID, err)
		}
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("list attempts: %w", err))
	}
	return out, nil
}

// insertAttempts queues the insert of attempts in one statement.
func (t *txn) insertAttempts(as []*hook.Attempt) error {
	if len(as) == 0 {
		return nil
	}
	n := len(as)
	var (
		ids, deliveries, triggers = make([]string, n), make([]string, n), make([]string, n)
		errs, bodies, headers     = make([]string, n), make([]string, n), make([]string, n)
		numbers, codes            = make([]int32, n), make([]int32, n)
		started                   = make([]time.Time, n)
		durations                 = make([]int64, n)
	)
	for i, a := range as {
		h := make(map[string]string, len(a.RequestHeaders))
		for k, v := range a.RequestHeaders {
			h[text(k)] = text(v)
		}
		if a.RequestHeaders == nil {
			h = nil
		}
		hb, err := json.Marshal(h)
		if err != nil {
			return fmt.Errorf("attempt %s headers: %w", a.ID, err)
		}
		ids[i], deliveries[i], triggers[i] = a.ID, a.DeliveryID, a.Trigger
		errs[i], bodies[i], headers[i] = text(a.Error), text(a.ResponseBody), string(hb)
		numbers[i], codes[i] = int32(a.Number), int32(a.StatusCode)
		started[i], durations[i] = ms(a.StartedAt), a.Duration.Milliseconds()
	}
	t.queue(`INSERT INTO attempts (id, delivery_id, number, trigger, started_at, duration_ms, status_code, error,
			response_body, request_headers)
		SELECT u.id, u.delivery_id, u.number, u.trigger, u.started_at, u.duration_ms, NULLIF(u.status_code, 0),
			NULLIF(u.error, ''), u.response_body, u.request_headers::jsonb
		FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[], $6::bigint[], $7::int[],
			$8::text[], $9::text[], $10::text[])
			AS u (id, delivery_id, number, trigger, started_at, duration_ms, status_code, error, response_body, request_headers)`,
		ids, deliveries, numbers, triggers, started, durations, codes, errs, bodies, headers)
	return nil
}

// DeliveryRedeliver implements store.Store.
//
// The endpoint and the event are held FOR KEY SHARE (see createEvent and
// Prune), and the partial unique index on pending deliveries decides
// already_pending, also against a concurrent redeliver or recover.
func (s *Store) DeliveryRedeliver(ctx context.Context, p *store.DeliveryRedeliverParams) (*hook.Delivery, error) {
	var (
		out      *hook.Delivery
		inserted int64
	)
	err := s.tx(ctx, false, func(t *txn) error {
		out, inserted = nil, 0
		var (
			d                     *hook.Delivery
			epFound, epOn, evLive bool
		)
		t.queue(`SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, p.DeliveryID).QueryRow(func(r pgx.Row) error {
			var err error
			d, err = scanDelivery(r)
			return err
		})
		t.queue(`SELECT enabled FROM endpoints WHERE id = (SELECT endpoint_id FROM deliveries WHERE id = $1)
			AND deleted_at IS NULL FOR KEY SHARE`, p.DeliveryID).QueryRow(func(r pgx.Row) error {
			err := r.Scan(&epOn)
			epFound = err == nil
			return ignoreNoRows(err)
		})
		t.queue(`SELECT true FROM events WHERE id = (SELECT event_id FROM deliveries WHERE id = $1) FOR KEY SHARE`,
			p.DeliveryID).QueryRow(func(r pgx.Row) error {
			return ignoreNoRows(r.Scan(&evLive))
		})
		if err := t.flush(); err != nil {
			return err
		}
		if err := hook.RedeliverRefusal(d.Trigger, hook.EndpointState{Found: epFound, Enabled: epOn}); err != nil {
			return err
		}
		if !evLive {
			return store.ErrNotFound // pruned meanwhile
		}
		out = hook.NewDelivery(d.EventID, d.AccountID, d.EndpointID, hook.TriggerRedeliver, ms(p.Now))
		// The only write: when it inserts nothing, committing changes
		// nothing either.
		t.insertDeliveries([]*hook.Delivery{out}, nil, &inserted)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if inserted == 0 {
		return nil, hook.AlreadyPending()
	}
	s.wake()
	return out, nil
}

func ignoreNoRows(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	return err
}

// DeliveryRecover implements store.Store.
func (s *Store) DeliveryRecover(ctx context.Context, p *store.DeliveryRecoverParams) (int, error) {
	var inserted int64
	err := s.tx(ctx, false, func(t *txn) error {
		inserted = 0
		var (
			accountID string
			enabled   bool
			types     []string
			filter    *string
		)
		t.queue(`SELECT account_id, enabled, event_types, filter FROM endpoints WHERE id = $1 AND deleted_at IS NULL FOR KEY SHARE`,
			p.EndpointID).QueryRow(func(r pgx.Row) error {
			return notFound(r.Scan(&accountID, &enabled, &types, &filter))
		})
		if err := t.flush(); err != nil {
			return err
		}
		if err := hook.RecoverRefusal(enabled); err != nil {
			return err
		}
		// With a filter, the bodies are read too: the endpoint's current
		// filter decides.
		filtered := filter != nil && p.Match != nil
		var eventIDs []string
		t.queue(`SELECT ev.id, CASE WHEN $6 THEN ev.body END FROM events ev
			WHERE ev.account_id = $1 AND ev.created_at >= $2 AND ev.type <> 'webhook.test'
			AND ($3 OR ev.type = ANY ($4))
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = ev.id AND d.endpoint_id = $5
				AND d.status IN ('succeeded', 'pending'))
			ORDER BY ev.created_at, ev.id FOR KEY SHARE OF ev`,
			accountID, ms(p.Since), slices.Contains(types, hook.AllEventTypes), strs(types), p.EndpointID, filtered).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var (
						id   string
						body []byte
					)
					if err := rows.Scan(&id, &body); err != nil {
						return err
					}
					if filtered && !p.Match([]byte(*filter), body) {
						continue
					}
					eventIDs = append(eventIDs, id)
				}
				return rows.Err()
			})
		if err := t.flush(); err != nil {
			return err
		}
		ds := make([]*hook.Delivery, len(eventIDs))
		for i, id := range eventIDs {
			ds[i] = hook.NewDelivery(id, accountID, p.EndpointID, hook.TriggerRecover, ms(p.Now))
		}
		// A concurrent redeliver or recover may have queued some
		// meanwhile: the unique index skips those.
		t.insertDeliveries(ds, nil, &inserted)
		return nil
	})
	if err != nil {
		return 0, err
	}
	if inserted > 0 {
		s.wake()
	}
	return int(inserted), nil
}

// TestRecord implements store.Store.
func (s *Store) TestRecord(ctx context.Context, p *store.TestRecordParams) error {
	return s.tx(ctx, false, func(t *txn) error {
		ev, d := p.Event, p.Delivery
		t.queue(`INSERT INTO events (id, account_id, type, body, created_at) VALUES ($1, $2, $3, $4, $5)`,
			ev.ID, ev.AccountID, ev.Type, bytesOf(ev.Body), ms(ev.CreatedAt))
		t.queue(`INSERT INTO deliveries (id, event_id, endpoint_id, account_id, trigger, status, attempts,
			next_attempt_at, last_status_code, last_error, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			d.ID, d.EventID, d.EndpointID, d.AccountID, d.Trigger, d.Status, d.Attempts, nullTime(d.NextAttemptAt),
			nullInt(d.LastStatusCode), nullString(text(d.LastError)), ms(d.CreatedAt), ms(d.UpdatedAt))
		return t.insertAttempts([]*hook.Attempt{p.Attempt})
	})
}
