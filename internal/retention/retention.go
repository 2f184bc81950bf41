// Package retention deletes what is older than --retention (docs/delivery.md),
// a bounded chunk at a time so that it never holds the database for long.
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/hookd/hookd/internal/store"
)

// chunk is how many events one prune transaction deletes at most.
const chunk = 500

// Pruner runs retention passes every Interval until stopped.
type Pruner struct {
	Store          store.Store
	Retention      time.Duration
	IdempotencyTTL time.Duration
	Interval       time.Duration // default 10 minutes
	Now            func() time.Time
	Logger         *slog.Logger

	cancel context.CancelFunc
	done   chan struct{}
}

// Start launches the pruner; the first pass runs after one Interval.
func (p *Pruner) Start(ctx context.Context) {
	if p.Interval <= 0 {
		p.Interval = 10 * time.Minute
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	ctx, p.cancel = context.WithCancel(context.WithoutCancel(ctx))
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
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
	}()
}

// Stop stops the pruner and waits for it.
func (p *Pruner) Stop() {
	if p.cancel != nil {
		p.cancel()
		<-p.done
	}
}

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
