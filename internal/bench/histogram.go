package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram records durations in microseconds in log-linear buckets: values
// below 2·subBuckets µs exactly, larger ones with a relative error below
// 1/subBuckets (0.8 %). It takes a fixed 35 KB however many values it holds,
// and Record is lock-free, so the receiver can call it from every handler.
// The maximum is kept exactly.
type Histogram struct {
	counts [numBuckets]atomic.Uint64
	total  atomic.Uint64
	max    atomic.Int64
}

const (
	subBucketBits = 7
	subBuckets    = 1 << subBucketBits // 128: the relative resolution
	// maxExp bounds recorded values at 2^maxExp µs (about 12.7 days).
	maxExp     = 40
	numBuckets = 2*subBuckets + (maxExp-subBucketBits-1)*subBuckets
	maxValueUS = int64(1)<<maxExp - 1
)

// bucketOf returns the bucket index of v (µs, ≥ 0). Values below
// 2·subBuckets have a bucket each; above, every power of two is split into
// subBuckets buckets.
func bucketOf(v int64) int {
	if v < 2*subBuckets {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - subBucketBits - 1 // ≥ 1
	mantissa := int(v >> shift)                        // in [subBuckets, 2·subBuckets)
	return subBuckets + shift*subBuckets + (mantissa - subBuckets)
}

// bucketBounds returns the smallest and largest value of bucket i.
func bucketBounds(i int) (lo, hi int64) {
	if i < 2*subBuckets {
		return int64(i), int64(i)
	}
	k := i - subBuckets
	shift := k / subBuckets
	mantissa := int64(k%subBuckets + subBuckets)
	lo = mantissa << shift
	return lo, lo + int64(1)<<shift - 1
}

// Record adds one duration. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) { h.RecordMicros(d.Microseconds()) }

// RecordMicros adds one value in microseconds.
func (h *Histogram) RecordMicros(us int64) {
	us = min(max(us, 0), maxValueUS)
	h.counts[bucketOf(us)].Add(1)
	h.total.Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			break
		}
	}
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Reset forgets every value. Values recorded concurrently may survive it.
func (h *Histogram) Reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	h.total.Store(0)
	h.max.Store(0)
}

// Snapshot returns the buckets that hold values, as a compact copy.
func (h *Histogram) Snapshot() HistogramSnapshot {
	var s HistogramSnapshot
	for i := range h.counts {
		if c := h.counts[i].Load(); c > 0 {
			s.Buckets = append(s.Buckets, [2]uint64{uint64(i), c})
			s.Count += c
		}
	}
	s.MaxUS = h.max.Load()
	return s
}

// HistogramSnapshot is a Histogram's content: the non-empty buckets as
// [index, count] pairs in index order. It travels in the receiver's /stats.
type HistogramSnapshot struct {
	Count   uint64      `json:"count"`
	MaxUS   int64       `json:"max_us"`
	Buckets [][2]uint64 `json:"buckets,omitempty"`
}

// Quantile returns the q-quantile (0 < q ≤ 1) by the nearest-rank method:
// the smallest recorded value v such that at least q·Count values are ≤ v.
// It returns the largest value of v's bucket (never above the maximum), so
// it errs high by less than 1/subBuckets. It returns 0 without values.
func (s HistogramSnapshot) Quantile(q float64) time.Duration {
	if s.Count == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(s.Count)))
	rank = min(max(rank, 1), s.Count)
	var seen uint64
	for _, b := range s.Buckets {
		seen += b[1]
		if seen >= rank {
			_, hi := bucketBounds(int(b[0]))
			return time.Duration(min(hi, s.MaxUS)) * time.Microsecond
		}
	}
	return time.Duration(s.MaxUS) * time.Microsecond
}

// Sub returns the values recorded in s and not in prev, an earlier
// snapshot of the same histogram: the distribution of an interval. Its
// maximum is the top of its highest bucket (capped at s.MaxUS), since the
// exact maximum of the interval is not known.
func (s HistogramSnapshot) Sub(prev HistogramSnapshot) HistogramSnapshot {
	var out HistogramSnapshot
	j := 0
	for _, b := range s.Buckets {
		for j < len(prev.Buckets) && prev.Buckets[j][0] < b[0] {
			j++
		}
		c := b[1]
		if j < len(prev.Buckets) && prev.Buckets[j][0] == b[0] {
			c -= min(c, prev.Buckets[j][1])
		}
		if c > 0 {
			out.Buckets = append(out.Buckets, [2]uint64{b[0], c})
			out.Count += c
		}
	}
	if n := len(out.Buckets); n > 0 {
		_, hi := bucketBounds(int(out.Buckets[n-1][0]))
		out.MaxUS = min(hi, s.MaxUS)
	}
	return out
}

// Summary is what reports show of a latency distribution, in milliseconds.
type Summary struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// Summary returns the count, p50, p90, p99 and maximum.
func (s HistogramSnapshot) Summary() Summary {
	return Summary{
		Count: s.Count,
		P50:   ms(s.Quantile(0.50)),
		P90:   ms(s.Quantile(0.90)),
		P99:   ms(s.Quantile(0.99)),
		Max:   ms(time.Duration(s.MaxUS) * time.Microsecond),
	}
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
