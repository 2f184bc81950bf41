package delivery

import (
	"testing"
	"time"
)

// policy is the schedule of hookd serve's default flags.
var policy = RetryPolicy{MaxRetries: 3, Base: 30 * time.Second, Factor: 8, Jitter: RetryJitter}

func TestBackoff(t *testing.T) {
	t.Parallel()
	fixed := func(v float64) func() float64 { return func() float64 { return v } }
	p := policy
	p.Rand = fixed(0.5) // no jitter
	tests := []struct {
		n          int
		retryAfter time.Duration
		want       time.Duration
		ok         bool
	}{
		{1, 0, 30 * time.Second, true},
		{2, 0, 4 * time.Minute, true},
		{3, 0, 32 * time.Minute, true},
		{4, 0, 0, false},
		{1, 2 * time.Minute, 2 * time.Minute, true},  // Retry-After lengthens
		{2, 10 * time.Second, 4 * time.Minute, true}, // never shortens
		{1, 5 * time.Hour, time.Hour, true},          // capped at 1 h
		{4, time.Minute, 0, false},                   // no retry left, whatever it says
	}
	for _, tt := range tests {
		got, ok := p.Backoff(tt.n, tt.retryAfter)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Backoff(%d, %v) = %v, %v; want %v, %v", tt.n, tt.retryAfter, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBackoffJitter(t *testing.T) {
	t.Parallel()
	for _, r := range []float64{0, 0.999999} {
		p := policy
		p.Rand = func() float64 { return r }
		got, _ := p.Backoff(1, 0)
		if got < 27*time.Second || got > 33*time.Second {
			t.Errorf("Backoff(1) with rand %v = %v, want within 30s ± 10%%", r, got)
		}
	}
	// Real randomness stays within the bounds too, and varies.
	seen := map[time.Duration]bool{}
	for range 100 {
		got, _ := policy.Backoff(2, 0)
		if got < 216*time.Second || got > 264*time.Second {
			t.Fatalf("Backoff(2) = %v, want 4m ± 10%%", got)
		}
		seen[got] = true
	}
	if len(seen) < 10 {
		t.Errorf("Backoff(2) took only %d distinct values in 100 draws", len(seen))
	}
}
