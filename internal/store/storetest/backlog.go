package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// testBacklog: the backlog counts due deliveries of every account up to the
// limit and finds the longest-waiting one; leased deliveries and those
// waiting for a retry are not due.
func testBacklog(t *testing.T, b *bundle) {
	backlog := func(now time.Time, limit int) *store.Backlog {
		t.Helper()
		bl, err := b.s.DeliveryBacklog(b.ctx, &store.BacklogParams{Now: now, Limit: limit})
		if err != nil {
			t.Fatalf("DeliveryBacklog: %v", err)
		}
		return bl
	}
	want := func(what string, got *store.Backlog, due int, capped bool, oldest time.Time) {
		t.Helper()
		if got.Due != due || got.Capped != capped || !got.OldestDue.Equal(oldest) {
			t.Errorf("%s: backlog = %d due (capped %v), oldest %v; want %d (capped %v), oldest %v",
				what, got.Due, got.Capped, got.OldestDue, due, capped, oldest)
		}
	}
	want("empty store", backlog(t0, 0), 0, false, time.Time{})

	a, other := b.account(t), b.account(t)
	b.endpoint(t, a)
	b.endpoint(t, other)
	b.event(t, a, "call.received", t0)
	b.event(t, other, "call.received", t0.Add(time.Second))
	b.event(t, a, "call.received", t0.Add(2*time.Second))

	now := t0.Add(10 * time.Second)
	want("three due", backlog(now, 10), 3, false, t0)
	want("three due, limit 2", backlog(now, 2), 2, true, t0)
	want("three due, limit 3", backlog(now, 3), 3, true, t0)
	want("before the last was accepted", backlog(t0.Add(time.Second), 10), 2, false, t0)

	// The oldest is leased: it is no longer waiting for a worker.
	c := b.claim(t, now, 1)
	if len(c) != 1 {
		t.Fatalf("claimed %d, want 1", len(c))
	}
	want("oldest leased", backlog(now, 10), 2, false, t0.Add(time.Second))
	// It fails and waits for its retry, then is due again.
	retry := now.Add(5 * time.Minute)
	b.complete(t, now, 10, fail(c[0], now, retry))
	want("oldest waiting for its retry", backlog(now, 10), 2, false, t0.Add(time.Second))
	want("after the retry time", backlog(retry.Add(time.Minute), 10), 3, false, t0.Add(time.Second))

	// Finished deliveries leave the backlog.
	for _, cl := range b.claim(t, retry.Add(time.Minute), 10) {
		b.complete(t, retry.Add(time.Minute), 10, ok(cl, retry.Add(time.Minute)))
	}
	want("all delivered", backlog(retry.Add(time.Hour), 10), 0, false, time.Time{})
}

// testEndpointCounts: endpoints by state, deleted ones left out, every
// account counted.
func testEndpointCounts(t *testing.T, b *bundle) {
	counts := func() store.EndpointCounts {
		t.Helper()
		c, err := b.s.EndpointCounts(b.ctx)
		if err != nil {
			t.Fatalf("EndpointCounts: %v", err)
		}
		return *c
	}
	if got := counts(); got != (store.EndpointCounts{}) {
		t.Errorf("empty store: %+v", got)
	}
	a, other := b.account(t), b.account(t)
	b.endpoint(t, a)
	b.endpoint(t, other)
	b.endpoint(t, a, disabled)
	gone := b.endpoint(t, other)
	if err := b.s.EndpointDelete(b.ctx, gone.ID, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, want := counts(), (store.EndpointCounts{Enabled: 2, Disabled: 1}); got != want {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
	// An endpoint that fails until it is disabled moves to disabled.
	b.event(t, a, "call.received", t0)
	for _, c := range b.claim(t, t0, 10) {
		b.complete(t, t0, 1, fail(c, t0, time.Time{}))
	}
	if got, want := counts(), (store.EndpointCounts{Enabled: 1, Disabled: 2}); got != want {
		t.Errorf("after an auto-disable: counts = %+v, want %+v (%s)", got, want, hook.ReasonConsecutiveFailures)
	}
}
