package retention

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/sqlite"
)

// countingStore records each Prune call made through it.
type countingStore struct {
	store.Store
	mu     sync.Mutex
	calls  []store.PruneParams
	failAt int // fail the call with this number (1-based); 0 never
}

func (c *countingStore) Prune(ctx context.Context, p *store.PruneParams) (*store.PruneResult, error) {
	c.mu.Lock()
	c.calls = append(c.calls, *p)
	n := len(c.calls)
	c.mu.Unlock()
	if n == c.failAt {
		return nil, errors.New("disk I/O error")
	}
	return c.Store.Prune(ctx, p)
}

func (c *countingStore) Calls() []store.PruneParams {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]store.PruneParams(nil), c.calls...)
}

type testBundle struct {
	store   *sqlite.Store
	counter *countingStore
	account string
	now     time.Time
	logs    *bytes.Buffer
	pruner  *Pruner
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	acc := &hook.Account{ID: hook.NewID(hook.PrefixAccount), Name: "Acme", CreatedAt: now.Add(-1000 * time.Hour)}
	if err := s.AccountCreate(context.Background(), acc, []byte("token-hash-0123456789abcdef012345")); err != nil {
		t.Fatal(err)
	}
	counter := &countingStore{Store: s}
	logs := &bytes.Buffer{}
	return &testBundle{
		store: s, counter: counter, account: acc.ID, now: now, logs: logs,
		pruner: &Pruner{
			Store: counter, Retention: 720 * time.Hour, IdempotencyTTL: 24 * time.Hour,
			Now:    func() time.Time { return now },
			Logger: slog.New(slog.NewTextHandler(logs, nil)),
		},
	}
}

// addEvents stores n events accepted at t and returns their ids.
func (b *testBundle) addEvents(t *testing.T, n int, at time.Time) []string {
	t.Helper()
	ids := make([]string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	// Concurrent creates share the writer's commits: quicker than one by one.
	for i := range n {
		ids[i] = hook.NewIDAt(hook.PrefixEvent, at)
		wg.Go(func() {
			e := &hook.Event{ID: ids[i], AccountID: b.account, Type: "call.received",
				Body: []byte(`{"data":{}}`), CreatedAt: at}
			_, err := b.store.EventCreate(context.Background(), &store.EventCreateParams{Event: e})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func TestPassDeletesInChunks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	old := b.addEvents(t, 2*chunk+7, b.now.Add(-721*time.Hour))
	kept := b.addEvents(t, 3, b.now.Add(-719*time.Hour))

	b.pruner.Pass(context.Background())

	calls := b.counter.Calls()
	// 1007 old events: two full chunks, then one of 7 that ends the pass.
	if len(calls) != 3 {
		t.Fatalf("Pass made %d Prune calls, want 3 (two full chunks and the rest)", len(calls))
	}
	for i, c := range calls {
		if c.Limit != chunk {
			t.Errorf("call %d: Limit = %d, want %d", i, c.Limit, chunk)
		}
		if want := b.now.Add(-720 * time.Hour); !c.Before.Equal(want) {
			t.Errorf("call %d: Before = %v, want %v", i, c.Before, want)
		}
		if want := b.now.Add(-24 * time.Hour); !c.IdempotencyBefore.Equal(want) {
			t.Errorf("call %d: IdempotencyBefore = %v, want %v", i, c.IdempotencyBefore, want)
		}
	}
	for _, id := range []string{old[0], old[chunk], old[len(old)-1]} {
		if _, err := b.store.EventGet(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("EventGet(%s) of an event past retention: err = %v, want ErrNotFound", id, err)
		}
	}
	for _, id := range kept {
		if _, err := b.store.EventGet(context.Background(), id); err != nil {
			t.Errorf("EventGet(%s) of an event within retention: %v", id, err)
		}
	}
	if !bytes.Contains(b.logs.Bytes(), []byte("events=1007")) {
		t.Errorf("log does not report the 1007 events deleted:\n%s", b.logs)
	}
}

func TestPassWithNothingToDeleteLogsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addEvents(t, 2, b.now.Add(-time.Hour))
	b.pruner.Pass(context.Background())
	if n := len(b.counter.Calls()); n != 1 {
		t.Errorf("Pass made %d Prune calls, want 1", n)
	}
	if b.logs.Len() != 0 {
		t.Errorf("Pass logged although it deleted nothing:\n%s", b.logs)
	}
}

func TestPassStopsAtAnError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addEvents(t, 2*chunk+1, b.now.Add(-800*time.Hour))
	b.counter.failAt = 2
	b.pruner.Pass(context.Background())
	if n := len(b.counter.Calls()); n != 2 {
		t.Fatalf("Pass made %d Prune calls, want 2 (it stops at the failed one)", n)
	}
	if !bytes.Contains(b.logs.Bytes(), []byte("disk I/O error")) {
		t.Errorf("the failure is not logged:\n%s", b.logs)
	}
	// The next pass takes up where this one stopped.
	b.counter.failAt = 0
	b.pruner.Pass(context.Background())
	if n := len(b.counter.Calls()); n != 4 {
		t.Errorf("after the second pass: %d Prune calls in all, want 4", n)
	}
}

func TestStartRunsPassesUntilStop(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addEvents(t, 1, b.now.Add(-800*time.Hour))
	b.pruner.Interval = time.Millisecond
	if err := b.pruner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(b.counter.Calls()) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // polling a count; no signal exists for "a pass ran"
	}
	if err := b.pruner.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := len(b.counter.Calls())
	if n < 2 {
		t.Fatalf("the pruner made %d Prune calls in 10 s with a 1 ms interval, want at least 2", n)
	}
	if got := len(b.counter.Calls()); got != n {
		t.Errorf("Prune called after Stop returned (%d calls, then %d)", n, got)
	}
}

func TestStopWithoutStart(t *testing.T) {
	t.Parallel()
	if err := (&Pruner{}).Stop(context.Background()); err != nil { // must not block or panic
		t.Fatal(err)
	}
}

// Start refuses a pruner without its periods rather than guess them.
func TestStartNeedsPeriods(t *testing.T) {
	t.Parallel()
	for _, p := range []*Pruner{{IdempotencyTTL: time.Hour}, {Retention: time.Hour}} {
		if err := p.Start(context.Background()); err == nil {
			p.Stop(context.Background())
			t.Errorf("Start with Retention %v, IdempotencyTTL %v: no error", p.Retention, p.IdempotencyTTL)
		}
	}
}

// blockedStore's Prune holds until released, whatever its context says.
type blockedStore struct {
	store.Store
	entered chan struct{}
	release chan struct{}
}

func (b *blockedStore) Prune(ctx context.Context, p *store.PruneParams) (*store.PruneResult, error) {
	close(b.entered)
	<-b.release
	return &store.PruneResult{}, nil
}

// Stop honours its deadline even when a pass does not end.
func TestStopHonoursTheDeadline(t *testing.T) {
	t.Parallel()
	bs := &blockedStore{entered: make(chan struct{}), release: make(chan struct{})}
	p := &Pruner{Store: bs, Retention: time.Hour, IdempotencyTTL: time.Hour, Interval: time.Millisecond}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer close(bs.release)
	select {
	case <-bs.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("no pass began")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Stop with a pass stuck and its deadline passed = %v, want context.Canceled", err)
	}
}
