package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookd/hookd/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// DeliveryBacklog implements store.Store for the whole cluster. Both
// queries walk the deliveries_due index (pending only, ordered by
// next_attempt_at): the count stops at the limit, the oldest is its first
// entry.
func (s *Store) DeliveryBacklog(ctx context.Context, p *store.BacklogParams) (*store.Backlog, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = store.DefaultBacklogLimit
	}
	now := ms(p.Now)
	var b store.Backlog
	var oldest pgtype.Timestamptz
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM (SELECT 1 FROM deliveries
			WHERE status = 'pending' AND next_attempt_at <= $1 LIMIT $2) due),
		(SELECT next_attempt_at FROM deliveries
			WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT 1)`,
		now, limit).Scan(&b.Due, &oldest)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("delivery backlog: %w", unavailable(err))
	}
	b.Capped = b.Due >= limit
	b.OldestDue = fromNull(oldest)
	return &b, nil
}

// EndpointCounts implements store.Store.
func (s *Store) EndpointCounts(ctx context.Context) (*store.EndpointCounts, error) {
	var c store.EndpointCounts
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE enabled), count(*) FILTER (WHERE NOT enabled)
		FROM endpoints WHERE deleted_at IS NULL`).Scan(&c.Enabled, &c.Disabled); err != nil {
		return nil, fmt.Errorf("count endpoints: %w", unavailable(err))
	}
	return &c, nil
}

// PoolStats reports the connection pool, for the pool gauges of /metrics.
func (s *Store) PoolStats() store.PoolStats {
	st := s.pool.Stat()
	return store.PoolStats{
		Max: int(st.MaxConns()), Total: int(st.TotalConns()), Acquired: int(st.AcquiredConns()),
		Idle: int(st.IdleConns()), Constructing: int(st.ConstructingConns()),
		Acquires: st.AcquireCount(), EmptyAcquires: st.EmptyAcquireCount(), AcquireWait: st.AcquireDuration(),
	}
}
