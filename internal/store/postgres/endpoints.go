package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

const endpointColumns = `id, account_id, url, description, event_types, signing, keys, public_key,
	enabled, COALESCE(disabled_reason, ''), disabled_at, consecutive_failures, created_at, updated_at,
	headers, filter, rate_limit`

func scanEndpoint(r pgx.Row) (*hook.Endpoint, error) {
	var (
		e          hook.Endpoint
		keys       []byte
		headers    []byte
		filter     *string
		disabledAt pgtype.Timestamptz
	)
	if err := r.Scan(&e.ID, &e.AccountID, &e.URL, &e.Description, &e.EventTypes, &e.Signing, &keys, &e.PublicKey,
		&e.Enabled, &e.DisabledReason, &disabledAt, &e.ConsecutiveFailures, &e.CreatedAt, &e.UpdatedAt,
		&headers, &filter, &e.RateLimit); err != nil {
		return nil, notFound(err)
	}
	if err := unmarshalHeaders(headers, &e.Headers); err != nil {
		return nil, fmt.Errorf("endpoint %s headers: %w", e.ID, err)
	}
	if filter != nil {
		e.Filter = []byte(*filter)
	}
	if err := json.Unmarshal(keys, &e.Keys); err != nil {
		return nil, fmt.Errorf("endpoint %s keys: %w", e.ID, err)
	}
	e.DisabledAt = fromNull(disabledAt)
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return &e, nil
}

// marshalHeaders encodes custom headers for the headers column.
func marshalHeaders(hs []hook.Header) (string, error) {
	if len(hs) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(hs)
	return string(b), err
}

// unmarshalHeaders decodes the headers column; [] is nil.
func unmarshalHeaders(b []byte, hs *[]hook.Header) error {
	if len(b) == 0 || string(b) == "[]" {
		*hs = nil
		return nil
	}
	return json.Unmarshal(b, hs)
}

// nullFilter is the filter column's value: NULL for no filter.
func nullFilter(f []byte) *string {
	if f == nil {
		return nil
	}
	s := string(f)
	return &s
}

// EndpointCreate implements store.Store.
func (s *Store) EndpointCreate(ctx context.Context, e *hook.Endpoint) error {
	keys, err := json.Marshal(e.Keys)
	if err != nil {
		return err
	}
	headers, err := marshalHeaders(e.Headers)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO endpoints (id, account_id, url, description, event_types, signing, keys,
		public_key, enabled, disabled_reason, disabled_at, consecutive_failures, created_at, updated_at,
		headers, filter, rate_limit)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		e.ID, e.AccountID, text(e.URL), text(e.Description), strs(e.EventTypes), e.Signing, string(keys), e.PublicKey,
		e.Enabled, nullString(e.DisabledReason), nullTime(e.DisabledAt), e.ConsecutiveFailures,
		ms(e.CreatedAt), ms(e.UpdatedAt), headers, nullFilter(e.Filter), e.RateLimit)
	if err != nil {
		return unavailable(fmt.Errorf("insert endpoint: %w", err))
	}
	return nil
}

// EndpointGet implements store.Store.
func (s *Store) EndpointGet(ctx context.Context, id string) (*hook.Endpoint, error) {
	return scanEndpoint(s.pool.QueryRow(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE id = $1 AND deleted_at IS NULL`, id))
}

// EndpointList implements store.Store.
func (s *Store) EndpointList(ctx context.Context, p *store.EndpointListParams) ([]*hook.Endpoint, error) {
	q := `SELECT ` + endpointColumns + ` FROM endpoints WHERE deleted_at IS NULL`
	var args []any
	if p.AccountID != "" {
		args = append(args, p.AccountID)
		q += fmt.Sprintf(` AND account_id = $%d`, len(args))
	}
	if p.After != "" {
		args = append(args, p.After)
		q += fmt.Sprintf(` AND id < $%d`, len(args))
	}
	args = append(args, p.Limit)
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list endpoints: %w", err))
	}
	defer rows.Close()
	var out []*hook.Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("list endpoints: %w", err))
	}
	return out, nil
}

// lockEndpoint queues the read of a live endpoint, locked FOR UPDATE: a
// disable must wait for the writes that hold it FOR KEY SHARE while they
// add pending deliveries (see the package doc). The result lands in *e
// when the batch is flushed; ErrNotFound if there is none.
func (t *txn) lockEndpoint(id string, e **hook.Endpoint) {
	t.queue(`SELECT `+endpointColumns+` FROM endpoints WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id).
		QueryRow(func(r pgx.Row) error {
			var err error
			*e, err = scanEndpoint(r)
			return err
		})
}

// EndpointUpdate implements store.Store.
func (s *Store) EndpointUpdate(ctx context.Context, p *store.EndpointUpdateParams) (*hook.Endpoint, error) {
	var (
		out    *hook.Endpoint
		queued bool // an operator message was queued
	)
	err := s.tx(ctx, false, func(t *txn) error {
		out, queued = nil, false
		var e *hook.Endpoint
		t.lockEndpoint(p.ID, &e)
		if err := t.flush(); err != nil {
			return err
		}
		c := hook.ApplyPatch(e, p.Patch(), ms(p.Now), p.OperatorEvents)
		if c.Enabled != nil {
			t.operatorEnqueue(*c.Enabled)
			queued = true
		}
		if c.CancelPending {
			t.cancelPending([]string{e.ID}, hook.CanceledDisabled, p.Now)
		}
		out = e
		if !c.Changed {
			return nil
		}
		headers, err := marshalHeaders(e.Headers)
		if err != nil {
			return err
		}
		t.queue(`UPDATE endpoints SET url = $1, description = $2, event_types = $3, enabled = $4,
			disabled_reason = $5, disabled_at = $6, consecutive_failures = $7, updated_at = $8,
			headers = $10, filter = $11, rate_limit = $12 WHERE id = $9`,
			text(e.URL), text(e.Description), strs(e.EventTypes), e.Enabled, nullString(e.DisabledReason),
			nullTime(e.DisabledAt), e.ConsecutiveFailures, e.UpdatedAt, e.ID, headers, nullFilter(e.Filter), e.RateLimit)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if queued {
		s.wake()
	} else {
		s.signal()
	}
	return out, nil
}

// cancelPending queues the cancel of the endpoints' pending deliveries,
// in-flight ones included (their attempts finish and are recorded; see
// hook.Decide). The caller holds the endpoints FOR UPDATE.
func (t *txn) cancelPending(endpointIDs []string, reason string, now time.Time) {
	t.queue(`UPDATE deliveries SET status = 'canceled', next_attempt_at = NULL, last_error = $1, updated_at = $2
		WHERE endpoint_id = ANY ($3) AND status = 'pending'`, reason, ms(now), endpointIDs)
}

// operatorEnqueue queues an operator message, due now.
func (t *txn) operatorEnqueue(m hook.OperatorEvent) {
	at := ms(m.CreatedAt)
	t.queue(`INSERT INTO operator_messages (id, body, status, next_attempt_at, created_at, updated_at)
		VALUES ($1, $2, 'pending', $3, $3, $3)`, m.ID, m.Body, at)
}

// EndpointDelete implements store.Store.
func (s *Store) EndpointDelete(ctx context.Context, id string, now time.Time) error {
	return s.tx(ctx, false, func(t *txn) error {
		var e *hook.Endpoint
		t.lockEndpoint(id, &e)
		if err := t.flush(); err != nil {
			return err
		}
		t.queue(`UPDATE endpoints SET deleted_at = $1, updated_at = $1 WHERE id = $2`, ms(now), id)
		t.cancelPending([]string{id}, hook.CanceledDeleted, now)
		return nil
	})
}

// EndpointRotateKey implements store.Store.
func (s *Store) EndpointRotateKey(ctx context.Context, p *store.EndpointRotateKeyParams) (*hook.Endpoint, error) {
	var out *hook.Endpoint
	err := s.tx(ctx, false, func(t *txn) error {
		out = nil
		var e *hook.Endpoint
		t.lockEndpoint(p.ID, &e)
		if err := t.flush(); err != nil {
			return err
		}
		e.Keys = hook.RotateKeys(e.Keys, p.Key, p.Overlap, p.Now)
		e.PublicKey, e.UpdatedAt = p.PublicKey, ms(p.Now)
		keys, err := json.Marshal(e.Keys)
		if err != nil {
			return err
		}
		t.queue(`UPDATE endpoints SET keys = $1, public_key = $2, updated_at = $3 WHERE id = $4`,
			string(keys), e.PublicKey, e.UpdatedAt, e.ID)
		out = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
