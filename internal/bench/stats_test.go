package bench

import (
	"strings"
	"testing"
	"time"
)

func TestParseStats(t *testing.T) {
	t.Parallel()
	in := `{"requests":7,"deliveries":5,"duplicates":1,"hung":2,"bad_requests":0,"body_bytes":6125,
	"first_arrival":"2026-11-27T12:00:00Z","last_arrival":"2026-11-27T12:00:02Z",
	"paths":{"/e/0":{"requests":3,"duplicates":1,"first_arrival":"2026-11-27T12:00:00Z","last_arrival":"2026-11-27T12:00:01Z"},
	         "/e/1":{"requests":2,"duplicates":0,"first_arrival":"2026-11-27T12:00:00.5Z","last_arrival":"2026-11-27T12:00:02Z"},
	         "/hang/2":{"requests":2,"duplicates":0,"first_arrival":"0001-01-01T00:00:00Z","last_arrival":"0001-01-01T00:00:00Z"}},
	"latency":{"count":5,"max_us":3000,"buckets":[[100,4],[300,1]]},"at":"2026-11-27T12:00:03Z"}`
	s, err := ParseStats([]byte(in))
	if err != nil {
		t.Fatalf("ParseStats: %v", err)
	}
	if got, want := s.Unique(), uint64(4); got != want {
		t.Errorf("Unique() = %d, want %d", got, want)
	}
	if got, want := s.Latency.Quantile(0.5), 100*time.Microsecond; got != want {
		t.Errorf("Latency.Quantile(0.5) = %v, want %v", got, want)
	}

	n, dups, first, last := s.Window(func(string) bool { return true })
	if n != 7 || dups != 1 {
		t.Errorf("Window(all) = %d, %d dups; want 7, 1", n, dups)
	}
	n, dups, first, last = s.Window(counts(map[int]bool{0: true}))
	if n != 2 || dups != 0 {
		t.Errorf("Window(/e/1) = %d, %d dups; want 2, 0", n, dups)
	}
	if want := time.Date(2026, 11, 27, 12, 0, 0, 5e8, time.UTC); !first.Equal(want) {
		t.Errorf("Window(/e/1) first = %v, want %v", first, want)
	}
	if want := time.Date(2026, 11, 27, 12, 0, 2, 0, time.UTC); !last.Equal(want) {
		t.Errorf("Window(/e/1) last = %v, want %v", last, want)
	}
	if got, want := rate(n, first, last), 2/1.5; got != want {
		t.Errorf("rate = %v, want %v", got, want)
	}
}

func TestParseStatsErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"NotJSON", `{"requests":`, "decode"},
		{"MoreDuplicates", `{"requests":3,"deliveries":1,"duplicates":2}`, "duplicates"},
		{"MoreDeliveries", `{"requests":1,"deliveries":2}`, "hung"},
		{"MoreLatencies", `{"requests":1,"deliveries":1,"latency":{"count":2,"buckets":[[1,2]]}}`, "latencies"},
		{"BucketCount", `{"requests":2,"deliveries":2,"latency":{"count":2,"buckets":[[1,1]]}}`, "buckets hold"},
		{"BucketRange", `{"requests":1,"deliveries":1,"latency":{"count":1,"buckets":[[99999,1]]}}`, "out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseStats([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseStats(%s) = %v, want an error containing %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestRate(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		n           uint64
		first, last time.Time
		want        float64
	}{
		{0, time.Time{}, time.Time{}, 0},
		{1, t0, t0, 0},
		{10, t0, t0, 0},
		{1000, t0, t0.Add(2 * time.Second), 500},
	} {
		if got := rate(tc.n, tc.first, tc.last); got != tc.want {
			t.Errorf("rate(%d, %v, %v) = %v, want %v", tc.n, tc.first, tc.last, got, tc.want)
		}
	}
}
