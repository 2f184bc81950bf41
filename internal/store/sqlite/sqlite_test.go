package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/sqlite"
	"github.com/hookd/hookd/internal/store/storetest"
)

// seed gives s one account and fanOut endpoints that take every event.
func seed(tb testing.TB, s *sqlite.Store, fanOut int) (*hook.Account, []*hook.Endpoint) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	a := &hook.Account{ID: hook.NewIDAt(hook.PrefixAccount, now), Name: "Acme", CreatedAt: now}
	if err := s.AccountCreate(ctx, a, []byte("token hash")); err != nil {
		tb.Fatal(err)
	}
	var eps []*hook.Endpoint
	for i := range fanOut {
		e := &hook.Endpoint{ID: hook.NewIDAt(hook.PrefixEndpoint, now), AccountID: a.ID, URL: fmt.Sprintf("https://example.com/%d", i),
			EventTypes: []string{"*"}, Signing: hook.SigningHMAC, Keys: []hook.Key{{Value: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: now}},
			Enabled: true, CreatedAt: now, UpdatedAt: now}
		if err := s.EndpointCreate(ctx, e); err != nil {
			tb.Fatal(err)
		}
		eps = append(eps, e)
	}
	return a, eps
}

// newEvent is an sms.received event of account a, accepted at at.
func newEvent(a *hook.Account, at time.Time) *hook.Event {
	id := hook.NewIDAt(hook.PrefixEvent, at)
	return &hook.Event{ID: id, AccountID: a.ID, Type: "sms.received", CreatedAt: at,
		Body: hook.EncodeEnvelope(id, "sms.received", at, a.ID, benchBody)}
}

func mustOpen(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Exercise(t, func(t *testing.T) store.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "hookd.db"))
	})
}

func TestOneProcessPerDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookd.db")
	mustOpen(t, path)
	if s, err := sqlite.Open(context.Background(), path, sqlite.Options{}); err == nil {
		s.Close()
		t.Fatal("second Open of the same database succeeded, want an error")
	}
}

// A write that races with Close fails; it never hangs.
func TestWriteAfterClose(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	done := make(chan error, 1)
	go func() {
		done <- s.AccountCreate(context.Background(), &hook.Account{ID: "acc_x", Name: "x", CreatedAt: time.Now()}, []byte("h"))
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("write after Close succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("write after Close hangs")
	}
}

// Reopening releases what the previous process had leased: only one
// process uses a database, so nobody can still be working on it. Work
// scheduled for later (a retry) keeps its time.
func TestOpenReleasesLeases(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookd.db")
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	s, err := sqlite.Open(ctx, path, sqlite.Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	a, eps := seed(t, s, 1)
	e := eps[0]
	event := func(at time.Time) string {
		r, err := s.EventCreate(ctx, &store.EventCreateParams{Event: newEvent(a, at)})
		if err != nil {
			t.Fatal(err)
		}
		return r.Deliveries[0].ID
	}
	claim := func(s *sqlite.Store, now time.Time, lease time.Duration) []*store.Claim {
		cl, err := s.DeliveryClaim(ctx, &store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(lease), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	var short, long, retry string
	for _, c := range []struct {
		id    *string
		lease time.Duration
	}{{&short, time.Second}, {&long, time.Hour}, {&retry, time.Minute}} {
		*c.id = event(t0)
		cl := claim(s, t0, c.lease)
		if len(cl) != 1 || cl[0].Delivery.ID != *c.id {
			t.Fatalf("claim = %v, want %s", cl, *c.id)
		}
		if c.id != &retry {
			continue
		}
		// Its attempt failed: due again at t0+10m.
		at := t0.Add(time.Second)
		_, err := s.DeliveryComplete(ctx, &store.DeliveryCompleteParams{Now: at, DisableAfter: 3, Results: []*hook.Result{{
			DeliveryID: retry, EndpointID: e.ID, Lease: cl[0].Lease, RetryAt: t0.Add(10 * time.Minute),
			Attempt: hook.Attempt{ID: hook.NewIDAt(hook.PrefixAttempt, at), Trigger: hook.TriggerScheduled,
				StartedAt: at, StatusCode: 500}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	// Reopened at t0+5s: the short lease is over, the long one is
	// released; both are due now, the retry is not.
	now := t0.Add(5 * time.Second)
	s2, err := sqlite.Open(ctx, path, sqlite.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got := map[string]bool{}
	for _, c := range claim(s2, now, time.Hour) {
		got[c.Delivery.ID] = true
	}
	if !got[short] || !got[long] || len(got) != 2 {
		t.Fatalf("claimed after reopen %v, want %s and %s", got, short, long)
	}
	if cl := claim(s2, t0.Add(10*time.Minute), time.Minute); len(cl) != 1 || cl[0].Delivery.ID != retry {
		t.Fatalf("claimed at the retry's time %v, want %s", cl, retry)
	}
}
