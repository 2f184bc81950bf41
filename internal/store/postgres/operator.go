package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hookd/hookd/internal/store"
)

// OperatorClaim implements store.Store. Like DeliveryClaim, it skips the
// messages other nodes are claiming (FOR UPDATE SKIP LOCKED).
func (s *Store) OperatorClaim(ctx context.Context, p *store.OperatorClaimParams) ([]*store.OperatorMessage, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	lease := newLease()
	rows, err := s.pool.Query(ctx, `UPDATE operator_messages SET lease = $1, next_attempt_at = $2
		WHERE id IN (SELECT id FROM operator_messages WHERE status = 'pending' AND next_attempt_at <= $3
			ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING id, body, attempts`, lease, ms(p.LeaseUntil), ms(p.Now), p.Limit)
	if err != nil {
		return nil, fmt.Errorf("claim operator messages: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.OperatorMessage, error) {
		m := &store.OperatorMessage{Lease: lease}
		return m, r.Scan(&m.ID, &m.Body, &m.Attempts)
	})
	if err != nil {
		return nil, fmt.Errorf("claim operator messages: %w", err)
	}
	return out, nil
}

// OperatorComplete implements store.Store.
func (s *Store) OperatorComplete(ctx context.Context, p *store.OperatorCompleteParams) error {
	if len(p.Results) == 0 {
		return nil
	}
	retry := false
	err := s.tx(ctx, false, func(t *txn) error {
		retry = false
		for _, r := range p.Results {
			status, next := "failed", pgtype.Timestamptz{} // NULL
			switch {
			case r.OK:
				status = "succeeded"
			case !r.RetryAt.IsZero():
				status, next, retry = "pending", nullTime(r.RetryAt), true
			}
			t.queue(`UPDATE operator_messages SET status = $1, attempts = attempts + 1, next_attempt_at = $2,
				lease = 0, last_error = $3, updated_at = $4 WHERE id = $5 AND lease = $6`,
				status, next, nullString(text(r.Error)), ms(p.Now), r.ID, r.Lease)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("complete operator messages: %w", err)
	}
	if retry {
		s.wake()
	} else {
		s.signal()
	}
	return nil
}
