package bench

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Stats is the receiver's GET /stats answer: what arrived since the start
// or the last POST /reset.
type Stats struct {
	// Requests counts every request, hung ones included.
	Requests uint64 `json:"requests"`
	// Deliveries counts requests answered 200 at once (paths outside
	// /hang/), duplicates included.
	Deliveries uint64 `json:"deliveries"`
	// Duplicates counts deliveries whose (path, webhook-id) had arrived
	// before.
	Duplicates uint64 `json:"duplicates"`
	// Hung counts requests to /hang/ paths.
	Hung uint64 `json:"hung"`
	// BadRequests counts deliveries without a readable envelope timestamp
	// or webhook-id; they have no latency.
	BadRequests uint64 `json:"bad_requests"`
	// BodyBytes is the sum of the deliveries' body sizes.
	BodyBytes uint64 `json:"body_bytes"`
	// FirstArrival and LastArrival bound the deliveries (zero without any).
	FirstArrival time.Time `json:"first_arrival"`
	LastArrival  time.Time `json:"last_arrival"`
	// Paths holds the same counts per request path.
	Paths map[string]PathStats `json:"paths"`
	// Latency is accept→arrival: arrival minus the envelope's "timestamp"
	// (hookd's acceptance time, truncated to the millisecond, so it errs
	// high by up to 1 ms).
	Latency HistogramSnapshot `json:"latency"`
	// At is when the receiver answered.
	At time.Time `json:"at"`
}

// PathStats is one path's share of Stats.
type PathStats struct {
	Requests     uint64    `json:"requests"`
	Duplicates   uint64    `json:"duplicates"`
	FirstArrival time.Time `json:"first_arrival"`
	LastArrival  time.Time `json:"last_arrival"`
}

// Unique is the number of distinct deliveries.
func (s *Stats) Unique() uint64 { return s.Deliveries - s.Duplicates }

// ParseStats decodes a /stats answer and checks that it is consistent.
func ParseStats(b []byte) (*Stats, error) {
	var s Stats
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode receiver stats: %w", err)
	}
	switch {
	case s.Duplicates > s.Deliveries:
		return nil, fmt.Errorf("receiver stats: %d duplicates of %d deliveries", s.Duplicates, s.Deliveries)
	case s.Deliveries+s.Hung > s.Requests:
		return nil, fmt.Errorf("receiver stats: %d deliveries and %d hung of %d requests", s.Deliveries, s.Hung, s.Requests)
	case s.Latency.Count > s.Deliveries:
		return nil, fmt.Errorf("receiver stats: %d latencies of %d deliveries", s.Latency.Count, s.Deliveries)
	}
	var n uint64
	for _, b := range s.Latency.Buckets {
		if b[0] >= numBuckets {
			return nil, fmt.Errorf("receiver stats: latency bucket %d out of range", b[0])
		}
		n += b[1]
	}
	if n != s.Latency.Count {
		return nil, fmt.Errorf("receiver stats: latency buckets hold %d values, count says %d", n, s.Latency.Count)
	}
	return &s, nil
}

// Window sums the deliveries to the paths keep selects and returns their
// count, duplicates, and first and last arrival.
func (s *Stats) Window(keep func(path string) bool) (n, dups uint64, first, last time.Time) {
	for p, ps := range s.Paths {
		if !keep(p) || ps.Requests == 0 {
			continue
		}
		n += ps.Requests
		dups += ps.Duplicates
		if first.IsZero() || ps.FirstArrival.Before(first) {
			first = ps.FirstArrival
		}
		if ps.LastArrival.After(last) {
			last = ps.LastArrival
		}
	}
	return n, dups, first, last
}

// isHangPath reports whether the receiver holds requests to path.
func isHangPath(path string) bool { return strings.HasPrefix(path, "/hang/") }

// rate is n per second over [first, last]; 0 for an empty window.
func rate(n uint64, first, last time.Time) float64 {
	d := last.Sub(first).Seconds()
	if d <= 0 || n < 2 {
		return 0
	}
	return float64(n) / d
}
