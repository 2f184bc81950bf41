package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hookd/hookd/internal/store"
)

// DeliveryBacklog implements store.Store. Both queries walk the
// deliveries_due index (pending only, ordered by next_attempt_at): the
// count stops at the limit, the oldest is its first entry.
func (s *Store) DeliveryBacklog(ctx context.Context, p *store.BacklogParams) (*store.Backlog, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = store.DefaultBacklogLimit
	}
	now := ms(p.Now)
	var b store.Backlog
	if err := s.queryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM deliveries INDEXED BY deliveries_due
		WHERE status = 'pending' AND next_attempt_at <= ? LIMIT ?)`, now, limit).Scan(&b.Due); err != nil {
		return nil, fmt.Errorf("count due deliveries: %w", err)
	}
	b.Capped = b.Due >= limit
	var oldest sql.NullInt64
	err := s.queryRow(ctx, `SELECT next_attempt_at FROM deliveries INDEXED BY deliveries_due
		WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT 1`, now).Scan(&oldest)
	switch {
	case err == store.ErrNotFound:
	case err != nil:
		return nil, fmt.Errorf("oldest due delivery: %w", err)
	case oldest.Valid:
		b.OldestDue = fromMS(oldest.Int64)
	}
	return &b, nil
}

// EndpointCounts implements store.Store.
func (s *Store) EndpointCounts(ctx context.Context) (*store.EndpointCounts, error) {
	var c store.EndpointCounts
	if err := s.queryRow(ctx, `SELECT coalesce(sum(enabled <> 0), 0), coalesce(sum(enabled = 0), 0)
		FROM endpoints WHERE deleted_at IS NULL`).Scan(&c.Enabled, &c.Disabled); err != nil {
		return nil, fmt.Errorf("count endpoints: %w", err)
	}
	return &c, nil
}
