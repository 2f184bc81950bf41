package delivery

import (
	"math"
	"math/rand/v2"
	"time"
)

// MaxRetryAfter caps how far a receiver's Retry-After can push a retry.
const MaxRetryAfter = time.Hour

// RetryPolicy is the retry schedule of docs/delivery.md: after failed attempt n
// (1-based), if n <= MaxRetries, the next attempt comes after
// Base × Factor^(n-1), ± Jitter.
type RetryPolicy struct {
	MaxRetries int           // --max-retries; default 3
	Base       time.Duration // --retry-base; default 30s
	Factor     float64       // --retry-factor; default 8
	Jitter     float64       // fraction, default 0.1 (±10 %)
	// Rand returns a float in [0,1); nil means math/rand/v2.
	Rand func() float64
}

// DefaultRetryPolicy is ≈30 s, 4 min, 32 min.
var DefaultRetryPolicy = RetryPolicy{MaxRetries: 3, Base: 30 * time.Second, Factor: 8, Jitter: 0.1}

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
