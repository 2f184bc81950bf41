package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

const endpointColumns = `id, account_id, url, description, event_types, signing, keys, public_key,
	enabled, disabled_reason, disabled_at, consecutive_failures, created_at, updated_at, headers, filter, rate_limit`

func scanEndpoint(r interface{ Scan(...any) error }) (*hook.Endpoint, error) {
	var (
		e                hook.Endpoint
		types, keys      string
		headers          string
		filter           sql.NullString
		reason           sql.NullString
		disabledAt       sql.NullInt64
		created, updated int64
	)
	if err := r.Scan(&e.ID, &e.AccountID, &e.URL, &e.Description, &types, &e.Signing, &keys, &e.PublicKey,
		&e.Enabled, &reason, &disabledAt, &e.ConsecutiveFailures, &created, &updated, &headers, &filter, &e.RateLimit); err != nil {
		return nil, err
	}
	if headers != "[]" {
		if err := json.Unmarshal([]byte(headers), &e.Headers); err != nil {
			return nil, fmt.Errorf("endpoint %s headers: %w", e.ID, err)
		}
	}
	if filter.Valid {
		e.Filter = []byte(filter.String)
	}
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return nil, fmt.Errorf("endpoint %s event types: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(keys), &e.Keys); err != nil {
		return nil, fmt.Errorf("endpoint %s keys: %w", e.ID, err)
	}
	e.DisabledReason = reason.String
	e.DisabledAt = fromNullMS(disabledAt)
	e.CreatedAt, e.UpdatedAt = fromMS(created), fromMS(updated)
	return &e, nil
}

// marshalHeaders encodes custom headers for the headers column.
func marshalHeaders(hs []hook.Header) (string, error) {
	if len(hs) == 0 {
		return "[]", nil
	}
	return marshalJSON(hs)
}

// nullFilter is the filter column's value: NULL for no filter.
func nullFilter(f []byte) any {
	if f == nil {
		return nil
	}
	return string(f)
}

func marshalJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// EndpointCreate implements store.Store.
func (s *Store) EndpointCreate(ctx context.Context, e *hook.Endpoint) error {
	types, err := marshalJSON(e.EventTypes)
	if err != nil {
		return err
	}
	keys, err := marshalJSON(e.Keys)
	if err != nil {
		return err
	}
	headers, err := marshalHeaders(e.Headers)
	if err != nil {
		return err
	}
	return s.write(ctx, relaxed, func(w *wtx) error {
		w.endpointsChanged()
		_, err := w.exec(`INSERT INTO endpoints (`+endpointColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.AccountID, e.URL, e.Description, types, e.Signing, keys, e.PublicKey,
			e.Enabled, nullString(e.DisabledReason), nullMS(e.DisabledAt), e.ConsecutiveFailures,
			ms(e.CreatedAt), ms(e.UpdatedAt), headers, nullFilter(e.Filter), e.RateLimit)
		if err != nil {
			return fmt.Errorf("insert endpoint: %w", err)
		}
		return nil
	})
}

// EndpointGet implements store.Store.
func (s *Store) EndpointGet(ctx context.Context, id string) (*hook.Endpoint, error) {
	return scanEndpoint(s.queryRow(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE id = ? AND deleted_at IS NULL`, id))
}

func (w *wtx) endpointGet(id string) (*hook.Endpoint, error) {
	return scanEndpoint(w.queryRow(`SELECT `+endpointColumns+` FROM endpoints WHERE id = ? AND deleted_at IS NULL`, id))
}

// EndpointList implements store.Store.
func (s *Store) EndpointList(ctx context.Context, p *store.EndpointListParams) ([]*hook.Endpoint, error) {
	q := `SELECT ` + endpointColumns + ` FROM endpoints WHERE deleted_at IS NULL`
	var args []any
	if p.AccountID != "" {
		q += ` AND account_id = ?`
		args = append(args, p.AccountID)
	}
	if p.After != "" {
		q += ` AND id < ?`
		args = append(args, p.After)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, p.Limit)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
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
	return out, rows.Err()
}

// EndpointUpdate implements store.Store.
func (s *Store) EndpointUpdate(ctx context.Context, p *store.EndpointUpdateParams) (*hook.Endpoint, error) {
	var out *hook.Endpoint
	// wake: a re-enable may queue an operator message.
	err := s.write(ctx, wake, func(w *wtx) error {
		w.endpointsChanged()
		e, err := w.endpointGet(p.ID)
		if err != nil {
			return err
		}
		c := hook.ApplyPatch(e, p.Patch(), p.Now, p.OperatorEvents)
		if c.Enabled != nil {
			if err := w.operatorEnqueue(*c.Enabled); err != nil {
				return err
			}
		}
		if c.CancelPending {
			if err := w.cancelPending(e.ID, hook.CanceledDisabled, p.Now); err != nil {
				return err
			}
		}
		out = e
		if !c.Changed {
			return nil
		}
		types, err := marshalJSON(e.EventTypes)
		if err != nil {
			return err
		}
		headers, err := marshalHeaders(e.Headers)
		if err != nil {
			return err
		}
		_, err = w.exec(`UPDATE endpoints SET url = ?, description = ?, event_types = ?, enabled = ?,
			disabled_reason = ?, disabled_at = ?, consecutive_failures = ?, updated_at = ?,
			headers = ?, filter = ?, rate_limit = ? WHERE id = ?`,
			e.URL, e.Description, types, e.Enabled, nullString(e.DisabledReason), nullMS(e.DisabledAt),
			e.ConsecutiveFailures, ms(e.UpdatedAt), headers, nullFilter(e.Filter), e.RateLimit, e.ID)
		if err != nil {
			return fmt.Errorf("update endpoint: %w", err)
		}
		return nil
	})
	return out, err
}

// cancelPending cancels the endpoint's pending deliveries, in-flight ones
// included (their attempts finish and are recorded; see hook.Decide).
func (w *wtx) cancelPending(endpointID, reason string, now time.Time) error {
	_, err := w.exec(`UPDATE deliveries SET status = 'canceled', next_attempt_at = NULL, last_error = ?, updated_at = ?
		WHERE endpoint_id = ? AND status = 'pending'`, reason, ms(now), endpointID)
	if err != nil {
		return fmt.Errorf("cancel pending deliveries: %w", err)
	}
	return nil
}

// disable stores the disable hook.AutoDisable made of e and cancels its
// pending deliveries.
func (w *wtx) disable(e *hook.Endpoint) error {
	w.endpointsChanged()
	_, err := w.exec(`UPDATE endpoints SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ?`,
		e.DisabledReason, ms(e.DisabledAt), ms(e.UpdatedAt), e.ID)
	if err != nil {
		return fmt.Errorf("disable endpoint: %w", err)
	}
	return w.cancelPending(e.ID, hook.CanceledDisabled, e.DisabledAt)
}

// EndpointDelete implements store.Store.
func (s *Store) EndpointDelete(ctx context.Context, id string, now time.Time) error {
	return s.write(ctx, relaxed, func(w *wtx) error {
		w.endpointsChanged()
		res, err := w.exec(`UPDATE endpoints SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL`, ms(now), ms(now), id)
		if err != nil {
			return fmt.Errorf("delete endpoint: %w", err)
		}
		if err := mustAffect(res); err != nil {
			return err
		}
		return w.cancelPending(id, hook.CanceledDeleted, now)
	})
}

// EndpointRotateKey implements store.Store.
func (s *Store) EndpointRotateKey(ctx context.Context, p *store.EndpointRotateKeyParams) (*hook.Endpoint, error) {
	var out *hook.Endpoint
	err := s.write(ctx, durable, func(w *wtx) error {
		w.endpointsChanged()
		e, err := w.endpointGet(p.ID)
		if err != nil {
			return err
		}
		e.Keys = hook.RotateKeys(e.Keys, p.Key, p.Overlap, p.Now)
		e.PublicKey, e.UpdatedAt = p.PublicKey, p.Now
		keys, err := marshalJSON(e.Keys)
		if err != nil {
			return err
		}
		if _, err := w.exec(`UPDATE endpoints SET keys = ?, public_key = ?, updated_at = ? WHERE id = ?`,
			keys, e.PublicKey, ms(p.Now), p.ID); err != nil {
			return fmt.Errorf("update endpoint keys: %w", err)
		}
		out = e
		return nil
	})
	return out, err
}
