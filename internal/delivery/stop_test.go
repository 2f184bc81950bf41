package delivery_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// newStoppable returns a dispatcher that the test stops itself: a long
// attempt timeout, so that only Stop can end an attempt, and the lease
// that goes with it.
func newStoppable(t *testing.T, st store.Store, now func() time.Time, logger *slog.Logger) *delivery.Dispatcher {
	t.Helper()
	sender := delivery.NewSender(delivery.SenderConfig{Timeout: time.Minute})
	d, err := delivery.New(delivery.Config{Store: st, Sender: sender, Workers: 4, EndpointConcurrency: 2, AccountConcurrency: 4,
		Lease: delivery.MinLease(time.Minute), Policy: delivery.RetryPolicy{MaxRetries: 0, Base: time.Second, Factor: 1},
		Now: now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

func (b *bundle) deliveries(t *testing.T) []*hook.Delivery {
	t.Helper()
	ds, err := b.st.DeliveryList(context.Background(), &store.DeliveryListParams{AccountID: b.acc, Page: store.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// Stop at its deadline abandons an attempt under way instead of waiting
// for it, records nothing of it, and the delivery is attempted again once
// its lease has ended: at least once, never lost.
func TestStopAtTheDeadlineAbandonsAndNothingIsLost(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	b.event(t, nil)
	logs := &syncBuffer{}
	d := newStoppable(t, b.st, time.Now, slog.New(slog.NewTextHandler(logs, nil)))
	b.wait(t, 1) // the attempt is under way; the receiver holds it

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the shutdown budget is spent
	stopped := make(chan error, 1)
	go func() { stopped <- d.Stop(ctx) }()
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Stop with its deadline passed = %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Stop did not return with its deadline passed; it waited for the attempt")
	}
	close(b.release) // the receiver may answer now; nobody listens
	if !strings.Contains(logs.String(), "attempts_canceled=1") {
		t.Errorf("the stop does not log the canceled attempt:\n%s", logs)
	}
	ds := b.deliveries(t)
	if len(ds) != 1 || ds[0].Status != hook.StatusPending || ds[0].Attempts != 0 {
		t.Fatalf("after an abandoned attempt: %+v, want one pending delivery with no attempt recorded", ds)
	}

	// A node that starts after the lease has ended delivers it.
	later := func() time.Time { return time.Now().Add(delivery.MinLease(time.Minute) + time.Second) }
	d2 := newStoppable(t, b.st, later, nil)
	b.wait(t, 1)
	if err := d2.Stop(context.Background()); err != nil {
		t.Fatalf("graceful Stop = %v", err)
	}
	ds = b.deliveries(t)
	if ds[0].Status != hook.StatusSucceeded || ds[0].Attempts != 1 {
		t.Errorf("after the lease: %+v, want succeeded after the one recorded attempt", ds[0])
	}
}

// A graceful Stop lets the attempt under way finish and records it.
func TestStopFinishesAttempts(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	b.event(t, nil)
	d := newStoppable(t, b.st, time.Now, nil)
	b.wait(t, 1)
	stopped := make(chan error, 1)
	go func() { stopped <- d.Stop(context.Background()) }()
	close(b.release)
	if err := <-stopped; err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if ds := b.deliveries(t); ds[0].Status != hook.StatusSucceeded {
		t.Errorf("after a graceful stop: %+v, want succeeded", ds[0])
	}
}

// A receiver that fails every attempt under load does not flood the log:
// its first failure is logged in full at info, the rest are counted and
// summed up. Every failure is accounted for, successes stay at debug, and
// the log holds no secret, signature or URL query.
func TestFailingEndpointDoesNotFloodTheLog(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	const events = 200
	var mu sync.Mutex
	seen := 0
	all := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if seen++; seen == events {
			close(all)
		}
		mu.Unlock()
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	b.url = srv.URL + "/hook?token=query-secret-123"
	b.addEndpoint(t) // a second endpoint of the account, failing
	// The first endpoint (the holding receiver) gets deliveries too.
	close(b.release)
	for range events {
		b.event(t, nil)
	}
	logs := &syncBuffer{}
	d := newStoppable(t, b.st, time.Now, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	select {
	case <-all:
	case <-time.After(60 * time.Second):
		t.Fatalf("the failing receiver got %d of %d requests", seen, events)
	}
	b.wait(t, events)
	if err := d.Stop(context.Background()); err != nil { // flushes the summaries
		t.Fatal(err)
	}
	out := logs.String()
	lines := strings.Count(out, `msg="attempt failed"`)
	summed := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, `msg="more attempts failed"`) {
			var n int
			if i := strings.Index(l, " failed="); i >= 0 {
				for _, c := range l[i+len(" failed="):] {
					if c < '0' || c > '9' {
						break
					}
					n = n*10 + int(c-'0')
				}
			}
			summed += n
		}
	}
	if lines+summed != events {
		t.Errorf("%d failure lines + %d summed up = %d, want every one of the %d failures accounted for:\n%s",
			lines, summed, lines+summed, events, out)
	}
	if lines >= events/2 {
		t.Errorf("%d full failure lines for %d failures of one endpoint: the log is not rate-limited", lines, events)
	}
	if strings.Contains(out, "attempt succeeded") {
		t.Errorf("successes logged at info:\n%s", out)
	}
	for _, secret := range []string{"query-secret-123", "whsec_", "v1,", "/hook"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q:\n%s", secret, out)
		}
	}
}

// syncBuffer is a log sink safe for the dispatcher's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
