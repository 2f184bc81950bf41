package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	t.Parallel()
	// Every value falls in its bucket's bounds, buckets are contiguous and
	// their width stays below 1/subBuckets of their values.
	prevHi := int64(-1)
	for i := range numBuckets {
		lo, hi := bucketBounds(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, prevHi+1)
		}
		if got := bucketOf(lo); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d", lo, got, i)
		}
		if got := bucketOf(hi); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d", hi, got, i)
		}
		if w := hi - lo + 1; lo >= 2*subBuckets && float64(w)/float64(lo) > 1.0/subBuckets {
			t.Fatalf("bucket %d [%d, %d] is %.4f wide, want ≤ %.4f", i, lo, hi, float64(w)/float64(lo), 1.0/subBuckets)
		}
		prevHi = hi
	}
	if prevHi != maxValueUS {
		t.Fatalf("last bucket ends at %d, want %d", prevHi, maxValueUS)
	}
}

func TestQuantileExact(t *testing.T) {
	t.Parallel()
	// Values below 2·subBuckets µs have a bucket each: nearest-rank
	// quantiles are exact.
	var h Histogram
	for v := int64(1); v <= 100; v++ {
		h.RecordMicros(v)
	}
	s := h.Snapshot()
	for _, tc := range []struct {
		q    float64
		want int64
	}{
		{0.01, 1}, {0.5, 50}, {0.9, 90}, {0.99, 99}, {0.991, 100}, {1, 100},
	} {
		if got := s.Quantile(tc.q); got != time.Duration(tc.want)*time.Microsecond {
			t.Errorf("Quantile(%v) = %v, want %dµs", tc.q, got, tc.want)
		}
	}
	if s.Count != 100 || s.MaxUS != 100 {
		t.Errorf("Count, MaxUS = %d, %d; want 100, 100", s.Count, s.MaxUS)
	}
}

func TestQuantileAgainstSort(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	vals := make([]int64, 100_000)
	for i := range vals {
		// Log-normal-ish: most around a few ms, a tail to seconds.
		vals[i] = int64(r.ExpFloat64()*2000) + int64(r.IntN(50))*int64(r.IntN(2)*r.IntN(2)*r.IntN(2))*1000
		h.RecordMicros(vals[i])
	}
	slices.Sort(vals)
	s := h.Snapshot()
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		rank := int(float64(len(vals))*q+0.999999) - 1
		want := vals[rank]
		got := s.Quantile(q).Microseconds()
		if got < want || float64(got-want) > float64(want)/subBuckets+1 {
			t.Errorf("Quantile(%v) = %dµs, want %dµs (+%.1f%% at most)", q, got, want, 100.0/subBuckets)
		}
	}
	if got, want := s.Quantile(1).Microseconds(), vals[len(vals)-1]; got != want {
		t.Errorf("Quantile(1) = %dµs, want the maximum %dµs", got, want)
	}
}

func TestHistogramEdges(t *testing.T) {
	t.Parallel()
	var h Histogram
	if got := h.Snapshot().Quantile(0.99); got != 0 {
		t.Errorf("empty Quantile(0.99) = %v, want 0", got)
	}
	h.Record(-time.Second) // clock step: counts as zero
	h.Record(1000 * 24 * time.Hour)
	s := h.Snapshot()
	if s.Count != 2 {
		t.Fatalf("Count = %d, want 2", s.Count)
	}
	if got := s.Quantile(0.5); got != 0 {
		t.Errorf("Quantile(0.5) = %v, want 0", got)
	}
	if got, want := s.MaxUS, maxValueUS; got != want {
		t.Errorf("MaxUS = %d, want the cap %d", got, want)
	}
	h.Reset()
	if s := h.Snapshot(); s.Count != 0 || s.MaxUS != 0 || len(s.Buckets) != 0 {
		t.Errorf("after Reset: %+v, want empty", s)
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	var h Histogram
	for range 98 {
		h.Record(2 * time.Millisecond)
	}
	h.Record(20 * time.Millisecond)
	h.Record(1234567 * time.Microsecond)
	got := h.Snapshot().Summary()
	// 2000 µs is in the bucket [2000, 2007]: quantiles report its top.
	want := Summary{Count: 100, P50: 2.007, P90: 2.007, P99: 20.095, Max: 1234.567}
	if got != want {
		t.Errorf("Summary() = %+v, want %+v", got, want)
	}
}

func TestSnapshotSub(t *testing.T) {
	t.Parallel()
	var h Histogram
	for v := range int64(1000) {
		h.RecordMicros(v)
	}
	before := h.Snapshot()
	for range 99 {
		h.RecordMicros(5000)
	}
	h.RecordMicros(90000)
	got := h.Snapshot().Sub(before)
	if got.Count != 100 {
		t.Fatalf("Sub().Count = %d, want 100", got.Count)
	}
	if q := got.Quantile(0.5); q < 5*time.Millisecond || q > 5040*time.Microsecond {
		t.Errorf("Sub().Quantile(0.5) = %v, want about 5ms", q)
	}
	if got.MaxUS < 90000 || got.MaxUS > 90000+90000/subBuckets {
		t.Errorf("Sub().MaxUS = %d, want about 90000", got.MaxUS)
	}
	if empty := h.Snapshot().Sub(h.Snapshot()); empty.Count != 0 || len(empty.Buckets) != 0 || empty.MaxUS != 0 {
		t.Errorf("Sub(itself) = %+v, want empty", empty)
	}
}
