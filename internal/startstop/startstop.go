// Package startstop is the one lifecycle of hookd's background work: the
// dispatcher, the retention pruner, the SQLite writer, the PostgreSQL
// listener, the API server and the metrics server all start and stop the
// same way, so that one shutdown budget (--shutdown-timeout, see
// docs/deployment.md) reaches every part.
package startstop

import (
	"context"
	"errors"
	"sync"
)

// Service is a component that works in the background.
//
// Start launches the service's goroutines and returns. The context it is
// given carries values only: cancelling it does not stop the service, Stop
// does, so that the context of whatever started it (a request, a test)
// cannot end background work by accident. Start returns an error if the
// service cannot start, or was started before.
//
// Stop asks the service to finish what it has under way and waits for it,
// but not past ctx: when ctx ends first, the service abandons its work
// (cancels what is running, gives up writes; each service says what that
// leaves behind, and nothing it leaves is lost, only postponed), waits for
// its goroutines, which return promptly because every blocking call they
// make takes the cancelled context, and returns ctx's error. Stop of a
// service that was never started, or is stopped already, returns nil.
type Service interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// ErrStarted is returned by Start when the service was started before.
var ErrStarted = errors.New("already started")

// StopAll stops the services at the same time, all under ctx, and joins
// their errors.
func StopAll(ctx context.Context, services ...Service) error {
	errs := make([]error, len(services))
	var wg sync.WaitGroup
	for i, s := range services {
		wg.Go(func() { errs[i] = s.Stop(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Loops does the bookkeeping of a Service made of loops that run until
// their context ends: its Start runs them, its Stop cancels their context
// and waits for every loop to return. A service embeds it and calls it
// from its own Start and Stop. The zero value is ready to use; it can be
// started once.
type Loops struct {
	mu      sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// Start runs each loop in a goroutine of its own, with a context that only
// Stop cancels.
func (l *Loops) Start(ctx context.Context, loops ...func(ctx context.Context)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		return ErrStarted
	}
	l.started = true
	ctx, l.cancel = context.WithCancel(context.WithoutCancel(ctx))
	l.done = make(chan struct{})
	var wg sync.WaitGroup
	for _, loop := range loops {
		wg.Go(func() { loop(ctx) })
	}
	go func() {
		wg.Wait()
		close(l.done)
	}()
	return nil
}

// Stop cancels the loops' context and waits for them to return, or for
// ctx to end, whichever comes first.
func (l *Loops) Stop(ctx context.Context) error {
	l.mu.Lock()
	if !l.started || l.stopped {
		l.mu.Unlock()
		return nil
	}
	l.stopped = true
	l.cancel()
	done := l.done
	l.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
