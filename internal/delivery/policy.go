package delivery

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// MaxRetryAfter caps how far a receiver's Retry-After can push a retry.
const MaxRetryAfter = time.Hour

// RetryJitter is the spread of every retry wait: ±10 % (docs/delivery.md),
// so that the deliveries failed by one outage do not all come back at the
// same moment. No flag sets it.
const RetryJitter = 0.1

// RetryPolicy is the retry schedule of docs/delivery.md: after failed
// attempt n (1-based), if n <= MaxRetries, the next attempt comes after
// Base × Factor^(n-1), ± Jitter. The flags' defaults are in
// internal/config; a RetryPolicy has none of its own.
type RetryPolicy struct {
	MaxRetries int           // --max-retries: 0 or more
	Base       time.Duration // --retry-base: positive
	Factor     float64       // --retry-factor: at least 1
	Jitter     float64       // a fraction in [0, 1): RetryJitter, or 0 for none
	// Rand returns a float in [0,1); nil means math/rand/v2.
	Rand func() float64
}

// check names the first field out of range.
func (p RetryPolicy) check() error {
	switch {
	case p.MaxRetries < 0:
		return fmt.Errorf("Policy.MaxRetries %d: want 0 or more", p.MaxRetries)
	case p.Base <= 0:
		return fmt.Errorf("Policy.Base %s: want a positive duration", p.Base)
	case p.Factor < 1:
		return fmt.Errorf("Policy.Factor %v: want at least 1", p.Factor)
	case p.Jitter < 0 || p.Jitter >= 1:
		return fmt.Errorf("Policy.Jitter %v: want a fraction from 0 to below 1", p.Jitter)
	}
	return nil
}

// Backoff returns the wait after failed attempt n (1-based) and whether a
// retry remains. retryAfter, when positive (a 429/503 Retry-After), may
// lengthen the wait, up to MaxRetryAfter.
func (p RetryPolicy) Backoff(n int, retryAfter time.Duration) (time.Duration, bool) {
	if n > p.MaxRetries {
		return 0, false
	}
	d := float64(p.Base) * math.Pow(p.Factor, float64(n-1))
	if p.Jitter > 0 {
		r := rand.Float64
		if p.Rand != nil {
			r = p.Rand
		}
		d *= 1 + p.Jitter*(2*r()-1)
	}
	wait := time.Duration(min(d, float64(math.MaxInt64/2)))
	if retryAfter > 0 {
		wait = max(wait, min(retryAfter, MaxRetryAfter))
	}
	return wait, true
}
