package bench

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/client"
)

// submitter submits events through the public API, round-robin over the
// nodes' clients, and counts what hookd answered.
type submitter struct {
	clients  []*client.Client
	accounts []string
	payloads *payloads
	// healthy marks the endpoints that count (isolation); nil: all do.
	healthy map[string]bool

	submitted, failed   atomic.Int64
	deliveries, counted atomic.Int64 // fan-out reported by hookd; counted: to healthy endpoints
	// latency of POST /v1/events; paced: from when the event was due.
	latency  Histogram
	firstErr atomic.Value // error

	startNS, endNS atomic.Int64
	done           chan struct{}
}

func newSubmitter(clients []*client.Client, accounts []string, p *payloads, healthy map[string]bool) *submitter {
	return &submitter{clients: clients, accounts: accounts, payloads: p, healthy: healthy, done: make(chan struct{})}
}

// submit sends event i: account i mod accounts, and each account
// alternates calls and SMS. Transient failures (transport errors, 429,
// 5xx) are retried a few times; the event counts as failed after that.
func (s *submitter) submit(ctx context.Context, i int, due time.Time) {
	a := len(s.accounts)
	event, data := s.payloads.eventAt(i / a)
	c := s.clients[i%len(s.clients)]
	p := client.SubmitEventParams{AccountID: s.accounts[i%a], Event: event, Data: data}
	var (
		res *client.SubmitEventResult
		err error
	)
	for try := 0; try < 4; try++ {
		if res, err = c.SubmitEvent(ctx, p); err == nil || !transient(err) || ctx.Err() != nil {
			break
		}
		sleepCtx(ctx, time.Duration(try+1)*100*time.Millisecond)
	}
	if err != nil {
		if ctx.Err() == nil {
			s.failed.Add(1)
			s.firstErr.CompareAndSwap(nil, errBox{err})
		}
		return
	}
	s.latency.Record(time.Since(due))
	n, counted := int64(len(res.Deliveries)), int64(len(res.Deliveries))
	if s.healthy != nil {
		counted = 0
		for _, d := range res.Deliveries {
			if s.healthy[d.EndpointID] {
				counted++
			}
		}
	}
	s.deliveries.Add(n)
	s.counted.Add(counted)
	s.submitted.Add(1)
}

func transient(err error) bool {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.StatusCode == http.StatusTooManyRequests || ce.StatusCode >= 500
	}
	return true
}

// runClosed submits events 0..n-1 from workers goroutines, each sending
// the next event as soon as hookd answered the last (closed loop).
func (s *submitter) runClosed(ctx context.Context, n, workers int) {
	s.runClosedSteps(ctx, n, 1, workers, func(from, _ int) { s.submit(ctx, from, time.Now()) })
}

// runClosedSteps hands events 0..n-1 out in steps of size (the last may
// be shorter) to workers goroutines, each calling send(from, to) for the
// next step as soon as the last returned.
func (s *submitter) runClosedSteps(ctx context.Context, n, size, workers int, send func(from, to int)) {
	defer close(s.done)
	s.startNS.Store(time.Now().UnixNano())
	defer func() { s.endNS.Store(time.Now().UnixNano()) }()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				from := int(next.Add(int64(size))) - size
				if from >= n {
					return
				}
				send(from, min(from+size, n))
			}
		}()
	}
	wg.Wait()
}

// runPaced submits n events at perSec, open loop: event i is due at
// start + i/perSec whether or not hookd kept up, and its latency counts
// from then, so a slow hookd shows as latency instead of a lower rate.
// workers bounds the requests in flight; events wait for a free worker in
// a queue.
func (s *submitter) runPaced(ctx context.Context, n int, perSec float64, workers int) {
	defer close(s.done)
	start := time.Now()
	s.startNS.Store(start.UnixNano())
	defer func() { s.endNS.Store(time.Now().UnixNano()) }()
	type item struct {
		i   int
		due time.Time
	}
	queue := make(chan item, n)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range queue {
				if ctx.Err() == nil {
					s.submit(ctx, it.i, it.due)
				}
			}
		}()
	}
	interval := time.Duration(float64(time.Second) / perSec)
	for i := 0; i < n && ctx.Err() == nil; {
		now := time.Now()
		for ; i < n; i++ {
			due := start.Add(time.Duration(i) * interval)
			if due.After(now) {
				break
			}
			queue <- item{i, due}
		}
		if i < n {
			sleepCtx(ctx, time.Until(start.Add(time.Duration(i)*interval)))
		}
	}
	close(queue)
	wg.Wait()
}

// finished reports whether submission is over.
func (s *submitter) finished() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// span is the time from the first submission to the end of the last.
func (s *submitter) span() (start, end time.Time) {
	return time.Unix(0, s.startNS.Load()), time.Unix(0, s.endNS.Load())
}
