// Package retention deletes what is older than --retention (docs/delivery.md),
// a bounded chunk at a time so that it never holds the database for long.
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookd/hookd/internal/startstop"
	"github.com/hookd/hookd/internal/store"
)

// chunk is how many events one prune transaction deletes at most.
const chunk = 500

// Store is what the pruner needs of the storage: store.Store's Prune.
type Store interface {
	Prune(ctx context.Context, p *store.PruneParams) (*store.PruneResult, error)
}

// Pruner runs retention passes every Interval until stopped. It is a
// startstop.Service.
type Pruner struct {
	Store          Store
	Retention      time.Duration // --retention; required
	IdempotencyTTL time.Duration // required
	Interval       time.Duration // 0 means 10 minutes
	Now            func() time.Time
	Logger         *slog.Logger

	loops startstop.Loops
}

// Start launches the pruner; the first pass runs after one Interval.
func (p *Pruner) Start(ctx context.Context) error {
	if p.Retention <= 0 || p.IdempotencyTTL <= 0 {
		return fmt.Errorf("retention: Retention %s and IdempotencyTTL %s must be positive", p.Retention, p.IdempotencyTTL)
	}
	if p.Interval <= 0 {
		p.Interval = 10 * time.Minute
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	return p.loops.Start(ctx, func(ctx context.Context) {
		t := time.NewTicker(p.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.Pass(ctx)
			}
		}
	})
}

// Stop stops the pruner and waits for it, but not past ctx. A pass under
// way is cut short between two chunks, or inside one, whose transaction
// then rolls back: nothing is half deleted, and the next pass (after a
// restart) takes up where it stopped.
func (p *Pruner) Stop(ctx context.Context) error { return p.loops.Stop(ctx) }

// Pass deletes everything retention allows now, chunk by chunk.
func (p *Pruner) Pass(ctx context.Context) {
	now := p.Now()
	var total store.PruneResult
	for ctx.Err() == nil {
		res, err := p.Store.Prune(ctx, &store.PruneParams{
			Before: now.Add(-p.Retention), IdempotencyBefore: now.Add(-p.IdempotencyTTL), Limit: chunk})
		if err != nil {
			if ctx.Err() == nil {
				p.Logger.Error("retention pass", slog.Any("error", err))
			}
			return
		}
		total.Events += res.Events
		total.Deliveries += res.Deliveries
		total.Attempts += res.Attempts
		if res.Events < chunk {
			break
		}
	}
	if total.Events > 0 {
		p.Logger.Info("retention pass", slog.Int("events", total.Events), slog.Int("deliveries", total.Deliveries),
			slog.Int("attempts", total.Attempts))
	}
}
