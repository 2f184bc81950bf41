package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// CommitFailer is how the suite injects a failed commit: the stores a
// backend's tests open implement it (in their export_test.go).
type CommitFailer interface {
	// FailNextCommit makes the next transaction the store commits roll
	// back instead, and the calls it carried fail.
	FailNextCommit()
}

// ledger keeps the books of reservations as a dispatcher does
// (internal/delivery): a Reserve it accepts holds a worker; when the call
// returns, the reservations not behind a returned claim are given back.
type ledger struct {
	mu       sync.Mutex
	held     int // reservations held now
	accepted int // Reserve calls accepted, over all calls
	used     int // reservations behind returned claims
	// refuse is an endpoint whose deliveries Reserve refuses (it is at
	// its limit), so that the claim loop has work left.
	refuse string
}

// call is one store call's reservations.
type call struct {
	l        *ledger
	mu       sync.Mutex
	reserved map[[2]string]int // (endpoint, account) → reservations
}

func (l *ledger) call() *call { return &call{l: l, reserved: map[[2]string]int{}} }

func (c *call) reserve(endpointID, accountID string) bool {
	c.l.mu.Lock()
	refused := endpointID == c.l.refuse
	c.l.mu.Unlock()
	if refused {
		return false
	}
	c.mu.Lock()
	c.reserved[[2]string{endpointID, accountID}]++
	c.mu.Unlock()
	c.l.mu.Lock()
	c.l.held++
	c.l.accepted++
	c.l.mu.Unlock()
	return true
}

// done settles the call: claims is what it returned (nil if it failed).
// Every claim must stand on a reservation of its own endpoint.
func (c *call) done(t *testing.T, claims []*store.Claim) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	left := 0
	for _, cl := range claims {
		k := [2]string{cl.Delivery.EndpointID, cl.Delivery.AccountID}
		if c.reserved[k] == 0 {
			t.Errorf("claim of delivery %s without a reservation of its endpoint", cl.Delivery.ID)
			continue
		}
		c.reserved[k]--
	}
	for _, n := range c.reserved {
		left += n
	}
	c.l.mu.Lock()
	c.l.held -= left
	c.l.used += len(claims)
	c.l.mu.Unlock()
}

// A commit that fails after the caller's Reserve accepted work: the call
// fails and stores nothing, so the caller gives every reservation back;
// what the call is retried with is stored once. Under concurrent load
// (where SQLite's writer re-runs the ops of a failed group commit, asking
// Reserve again) no event gets two deliveries to an endpoint, every
// returned claim is a delivery leased in the database, and the
// reservations still held are exactly those behind returned claims.
func testCommitFailure(t *testing.T, b *bundle) {
	f, ok := b.s.(CommitFailer)
	if !ok {
		t.Fatalf("%T does not implement storetest.CommitFailer: its tests must be able to fail a commit", b.s)
	}
	a := b.account(t)
	endpoints := []*hook.Endpoint{b.endpoint(t, a), b.endpoint(t, a), b.endpoint(t, a)}
	l := &ledger{}
	until := t0.Add(time.Minute)
	create := func(ev *hook.Event, key, hash string) (*store.EventCreateResult, error) {
		c := l.call()
		p := &store.EventCreateParams{Event: ev, Handoff: &store.Handoff{Until: until, Reserve: c.reserve}}
		if key != "" {
			p.IdempotencyKey, p.RequestHash, p.IdempotencyTTL = key, []byte(hash), time.Hour
		}
		res, err := b.s.EventCreate(b.ctx, p)
		var claims []*store.Claim
		if err == nil {
			claims = res.Claims
		}
		c.done(t, claims)
		return res, err
	}
	held := func() int { l.mu.Lock(); defer l.mu.Unlock(); return l.held }

	// One event, its commit fails.
	ev := newEvent(a, "call.received", t0)
	f.FailNextCommit()
	if _, err := create(ev, "k1", "h1"); err == nil {
		t.Fatal("EventCreate succeeded although its commit failed")
	}
	if n := held(); n != 0 {
		t.Fatalf("%d reservations held after a failed EventCreate, want 0", n)
	}
	if _, err := b.s.EventGet(b.ctx, ev.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("EventGet after a failed commit: %v, want ErrNotFound", err)
	}
	if ds := b.list(t, store.DeliveryListParams{AccountID: a.ID}); len(ds) != 0 {
		t.Fatalf("a failed commit left %d deliveries", len(ds))
	}
	// The client sends it again: stored once, handed off once.
	res, err := create(ev, "k1", "h1")
	if err != nil || len(res.Deliveries) != 3 || len(res.Claims) != 3 {
		t.Fatalf("EventCreate after the failure: %v, %+v", err, res)
	}
	if replay, err := create(newEvent(a, "call.received", t0), "k1", "h1"); err != nil || !replay.Replayed || len(replay.Claims) != 0 {
		t.Fatalf("replay: %v, %+v", err, replay)
	}
	handed := map[string]bool{}
	for _, c := range res.Claims {
		handed[c.Delivery.ID] = true
	}

	// Many at once, a third of them conflicting on a shared key, with one
	// commit failing among them. The last endpoint is full: its
	// deliveries wait for the claim loop.
	l.refuse = endpoints[2].ID
	f.FailNextCommit()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		stored   = []string{ev.ID}
		failed   []string
		injected int
	)
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := newEvent(a, "sms.received", t0)
			key, hash := "", ""
			if i%3 == 0 {
				key, hash = "shared", fmt.Sprint(i%2)
			}
			r, err := create(e, key, hash)
			mu.Lock()
			defer mu.Unlock()
			var he *hook.Error
			switch {
			case errors.As(err, &he) && he.Code == hook.EIdempotencyConflict:
				failed = append(failed, e.ID)
			case err != nil:
				injected++
				failed = append(failed, e.ID)
			case r.Replayed:
			default:
				stored = append(stored, e.ID)
				for _, c := range r.Claims {
					if handed[c.Delivery.ID] {
						t.Errorf("delivery %s handed off twice", c.Delivery.ID)
					}
					handed[c.Delivery.ID] = true
				}
			}
		}()
	}
	wg.Wait()
	if injected == 0 {
		t.Fatal("no call saw the injected commit failure")
	}
	for _, id := range failed {
		if _, err := b.s.EventGet(b.ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("event %s of a failed call: %v, want ErrNotFound", id, err)
		}
	}
	// Each stored event has one delivery per endpoint, no more.
	per := map[[2]string]int{}
	all := b.list(t, store.DeliveryListParams{AccountID: a.ID, Page: store.Page{Limit: 1000}})
	for _, d := range all {
		per[[2]string{d.EventID, d.EndpointID}]++
	}
	for _, id := range stored {
		for _, e := range endpoints {
			if n := per[[2]string{id, e.ID}]; n != 1 {
				t.Errorf("event %s has %d deliveries to endpoint %s, want 1", id, n, e.ID)
			}
		}
	}
	if len(all) != len(stored)*len(endpoints) {
		t.Errorf("%d deliveries stored for %d events and %d endpoints", len(all), len(stored), len(endpoints))
	}
	l.mu.Lock()
	if l.held != len(handed) || l.used != len(handed) {
		t.Errorf("reservations held %d, used %d; want both %d (one per handed-off delivery)", l.held, l.used, len(handed))
	}
	t.Logf("Reserve accepted %d times for %d handed-off deliveries; %d calls failed (%d by the injected commit)",
		l.accepted, len(handed), len(failed), injected)
	l.mu.Unlock()

	// A claim whose commit fails leases nothing and keeps no reservation.
	now := t0.Add(time.Second)
	claim := func() ([]*store.Claim, error) {
		c := l.call()
		cl, err := b.s.DeliveryClaim(b.ctx, &store.DeliveryClaimParams{Now: now, LeaseUntil: until, Limit: 1000, Reserve: c.reserve})
		if err != nil {
			c.done(t, nil)
		} else {
			c.done(t, cl)
		}
		return cl, err
	}
	l.mu.Lock()
	l.refuse = ""
	l.mu.Unlock()
	before := held()
	f.FailNextCommit()
	if _, err := claim(); err == nil {
		t.Fatal("DeliveryClaim succeeded although its commit failed")
	}
	if n := held(); n != before {
		t.Fatalf("a failed claim changed the reservations held from %d to %d", before, n)
	}
	// What was handed off stays leased; everything else is claimed now,
	// once.
	cl, err := claim()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cl {
		if handed[c.Delivery.ID] {
			t.Errorf("delivery %s claimed although it was handed off and its lease runs", c.Delivery.ID)
		}
		handed[c.Delivery.ID] = true
	}
	if len(handed) != len(all) {
		t.Errorf("%d deliveries handed off or claimed, want all %d", len(handed), len(all))
	}
	if n := held(); n != len(all) {
		t.Errorf("reservations held %d, want %d (one per delivery taken)", n, len(all))
	}
}
