package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/sqlite"
	"github.com/hookd/hookd/webhook"
)

// slowClaim widens the gap between a claim's transaction and the
// dispatcher seeing its result, where a handoff could count on the same
// endpoint slots.
type slowClaim struct {
	store.Store
	once    sync.Once
	claimed chan struct{}
}

func (s *slowClaim) DeliveryClaim(ctx context.Context, p *store.DeliveryClaimParams) ([]*store.Claim, error) {
	cs, err := s.Store.DeliveryClaim(ctx, p)
	if len(cs) > 0 {
		s.once.Do(func() { close(s.claimed) })
		time.Sleep(300 * time.Millisecond)
	}
	return cs, err
}

// bundle is a SQLite store with one endpoint, pointing at a receiver that
// records how many requests it holds at once.
type bundle struct {
	st      *sqlite.Store
	acc     string
	url     string
	cur     atomic.Int32
	peak    atomic.Int32
	seen    atomic.Int32
	arrived chan struct{} // one per request
	release chan struct{}
	delay   time.Duration
}

func setup(t *testing.T, delay time.Duration) *bundle {
	t.Helper()
	b := &bundle{release: make(chan struct{}), arrived: make(chan struct{}, 1000), delay: delay}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := b.cur.Add(1)
		b.seen.Add(1)
		b.arrived <- struct{}{}
		for m := b.peak.Load(); n > m && !b.peak.CompareAndSwap(m, n); m = b.peak.Load() {
		}
		<-b.release
		time.Sleep(b.delay)
		b.cur.Add(-1)
	}))
	t.Cleanup(srv.Close)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b.st = st
	now := time.Now().UTC().Truncate(time.Millisecond)
	acc := &hook.Account{ID: hook.NewIDAt(hook.PrefixAccount, now), Name: "a", CreatedAt: now}
	if err := st.AccountCreate(context.Background(), acc, []byte("token hash")); err != nil {
		t.Fatal(err)
	}
	b.acc, b.url = acc.ID, srv.URL
	b.addEndpoint(t)
	return b
}

// addEndpoint adds an endpoint of the account, pointing at the receiver.
func (b *bundle) addEndpoint(t *testing.T) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	sec, _ := webhook.NewSecret()
	ep := &hook.Endpoint{ID: hook.NewIDAt(hook.PrefixEndpoint, now), AccountID: b.acc, URL: b.url, EventTypes: []string{"*"},
		Signing: hook.SigningHMAC, Keys: []hook.Key{{Value: sec, CreatedAt: now}}, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := b.st.EndpointCreate(context.Background(), ep); err != nil {
		t.Fatal(err)
	}
}

// event stores an event, handing its delivery to d if d is not nil.
func (b *bundle) event(t *testing.T, d *delivery.Dispatcher) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	ev := &hook.Event{ID: hook.NewIDAt(hook.PrefixEvent, now), AccountID: b.acc, Type: "sms.received", Body: []byte(`{}`), CreatedAt: now}
	p := &store.EventCreateParams{Event: ev}
	var err error
	if d != nil {
		_, err = d.EventCreate(context.Background(), p)
	} else {
		_, err = b.st.EventCreate(context.Background(), p)
	}
	if err != nil {
		t.Error(err)
	}
}

func newDispatcher(t *testing.T, st store.Store, workers int) *delivery.Dispatcher {
	return startDispatcher(t, delivery.Config{Store: st, Workers: workers, EndpointConcurrency: 2})
}

// startDispatcher starts a dispatcher with cfg, plus a sender, a lease, a
// retry policy and, unless cfg has one, no account limit.
func startDispatcher(t *testing.T, cfg delivery.Config) *delivery.Dispatcher {
	cfg.Sender = delivery.NewSender(delivery.SenderConfig{Timeout: 2 * time.Second})
	cfg.Lease = 10 * time.Second
	cfg.Policy = delivery.RetryPolicy{MaxRetries: 3, Base: time.Second, Factor: 2}
	if cfg.AccountConcurrency == 0 {
		cfg.AccountConcurrency = cfg.Workers
	}
	d, err := delivery.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return d
}

// A claim and a handoff never both count on the same endpoint slot: the
// per-endpoint in-flight limit holds while both take work.
func TestEndpointLimitAcrossClaimAndHandoff(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	b.event(t, nil) // two deliveries for the claim loop
	b.event(t, nil)
	wrapped := &slowClaim{Store: b.st, claimed: make(chan struct{})}
	d := newDispatcher(t, wrapped, 10)
	<-wrapped.claimed // both slots are leased, the dispatcher not yet told
	for range 3 {
		b.event(t, d) // must not take the slots again
	}
	// If the limit were broken, the three handed-off attempts would now
	// reach the receiver beside the two claimed ones.
	for deadline := time.Now().Add(time.Second); b.seen.Load() < 5 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	close(b.release)
	b.wait(t, 5)
	if p := b.peak.Load(); p > 2 {
		t.Fatalf("the endpoint had %d attempts in flight at once; its limit is 2", p)
	}
}

// The same under load: a backlog being claimed while events are handed
// off from many goroutines.
func TestEndpointLimitUnderLoad(t *testing.T) {
	t.Parallel()
	b := setup(t, 2*time.Millisecond)
	close(b.release)
	for range 100 {
		b.event(t, nil)
	}
	d := newDispatcher(t, b.st, 50)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				b.event(t, d)
			}
		}()
	}
	wg.Wait()
	b.wait(t, 260)
	if p := b.peak.Load(); p > 2 {
		t.Fatalf("the endpoint had %d attempts in flight at once; its limit is 2", p)
	}
}

// An account's endpoints together hold at most AccountConcurrency
// attempts, whether the work was claimed or handed off, and the backlog
// still drains once they answer.
func TestAccountLimitAcrossClaimAndHandoff(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	for range 3 {
		b.addEndpoint(t) // 4 endpoints of 2 slots each: 8 would fit without the account limit
	}
	b.event(t, nil) // 8 deliveries for the claim loop
	b.event(t, nil)
	d := startDispatcher(t, delivery.Config{Store: b.st, Workers: 20, EndpointConcurrency: 2, AccountConcurrency: 3})
	for range 3 {
		b.event(t, d) // 12 more, offered to the handoff
	}
	b.wait(t, 3)
	// If the limit were broken, more attempts would reach the hanging
	// receiver within this second.
	for deadline := time.Now().Add(time.Second); b.seen.Load() <= 3 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := b.seen.Load(); n != 3 {
		t.Errorf("%d attempts reached the account's hanging receiver; its limit is 3", n)
	}
	close(b.release)
	b.wait(t, 17)
	if p := b.peak.Load(); p != 3 {
		t.Fatalf("the account had at most %d attempts in flight at once; want its limit 3", p)
	}
}

// With the default, one account gets a quarter of the workers, and never
// less than one endpoint's limit.
func TestDefaultAccountConcurrency(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ workers, endpoint, want int }{
		{256, 10, 64}, {1000, 10, 250}, {32, 10, 10}, {4, 10, 4}, {256, 100, 100}, {1, 1, 1},
	} {
		if got := delivery.DefaultAccountConcurrency(tt.workers, tt.endpoint); got != tt.want {
			t.Errorf("DefaultAccountConcurrency(%d, %d) = %d, want %d", tt.workers, tt.endpoint, got, tt.want)
		}
	}
}

// wait returns once n requests have arrived in all.
func (b *bundle) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-b.arrived:
		case <-time.After(20 * time.Second):
			t.Fatalf("only %d of %d requests arrived", b.seen.Load(), n)
		}
	}
}

// countingStore counts the claim loop's store calls.
type countingStore struct {
	store.Store
	claims, nextDue atomic.Int32
}

func (s *countingStore) DeliveryClaim(ctx context.Context, p *store.DeliveryClaimParams) ([]*store.Claim, error) {
	s.claims.Add(1)
	return s.Store.DeliveryClaim(ctx, p)
}

func (s *countingStore) DeliveryNextDue(ctx context.Context, now time.Time) (time.Time, bool, error) {
	s.nextDue.Add(1)
	return s.Store.DeliveryNextDue(ctx, now)
}

// A delivery handed to a worker as its event is stored costs no claim
// pass: neither its attempt's end nor its result's commit sends the claim
// loop looking for work that is not there (each look is two queries).
func TestHandoffCostsNoClaimPass(t *testing.T) {
	b := setup(t, 0)
	close(b.release)
	cs := &countingStore{Store: b.st}
	d := startDispatcher(t, delivery.Config{Store: cs, Workers: 8, EndpointConcurrency: 4, PollInterval: time.Hour})
	const events = 40
	for range events {
		b.event(t, d)
		b.wait(t, 1)
	}
	if err := d.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := b.seen.Load(); n != events {
		t.Fatalf("%d requests arrived, want %d", n, events)
	}
	// The loop looks once as it starts; before, it looked again after
	// each of the 40 attempts.
	if c, n := cs.claims.Load(), cs.nextDue.Load(); c > 3 || n > 3 {
		t.Errorf("%d claim passes and %d next-due queries for %d handed-off deliveries; want at most 3 each", c, n, events)
	}
}
