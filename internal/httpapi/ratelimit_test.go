package httpapi

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	l := newLimiter(2, 3, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d within the burst refused", i+1)
		}
	}
	ok, wait := l.allow("a")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("4th request = %v, wait %v; want refused, 500ms", ok, wait)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Errorf("another key is limited by a's bucket")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.allow("a"); !ok {
		t.Errorf("after the wait: refused")
	}
	if ok, _ := l.allow("a"); ok {
		t.Errorf("a second request after one token's wait: allowed")
	}
	// Idle buckets are dropped.
	now = now.Add(2 * time.Minute)
	l.allow("c")
	if len(l.buckets) != 1 {
		t.Errorf("%d buckets after idling, want 1", len(l.buckets))
	}
}
