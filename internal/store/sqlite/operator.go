package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/hookd/hookd/internal/store"
)

// OperatorClaim implements store.Store.
func (s *Store) OperatorClaim(ctx context.Context, p *store.OperatorClaimParams) ([]*store.OperatorMessage, error) {
	var out []*store.OperatorMessage
	err := s.write(ctx, relaxed, func(w *wtx) error {
		out = nil
		lease := rand.Int64N(1<<62) + 1
		rows, err := w.query(`UPDATE operator_messages SET lease = ?, next_attempt_at = ?
			WHERE id IN (SELECT id FROM operator_messages WHERE status = 'pending' AND next_attempt_at <= ?
				ORDER BY next_attempt_at LIMIT ?)
			RETURNING id, body, attempts`, lease, ms(p.LeaseUntil), ms(p.Now), p.Limit)
		if err != nil {
			return fmt.Errorf("claim operator messages: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			m := &store.OperatorMessage{Lease: lease}
			if err := rows.Scan(&m.ID, &m.Body, &m.Attempts); err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, err
}

// OperatorComplete implements store.Store.
func (s *Store) OperatorComplete(ctx context.Context, p *store.OperatorCompleteParams) error {
	return s.write(ctx, wake, func(w *wtx) error {
		for _, r := range p.Results {
			status, next := "failed", any(nil)
			switch {
			case r.OK:
				status = "succeeded"
			case !r.RetryAt.IsZero():
				status, next = "pending", ms(r.RetryAt)
			}
			if _, err := w.exec(`UPDATE operator_messages SET status = ?, attempts = attempts + 1, next_attempt_at = ?,
				lease = 0, last_error = ?, updated_at = ? WHERE id = ? AND lease = ?`,
				status, next, nullString(r.Error), ms(p.Now), r.ID, r.Lease); err != nil {
				return fmt.Errorf("update operator message: %w", err)
			}
		}
		return nil
	})
}
