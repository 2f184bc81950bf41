package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/webhook"
)

func post(t *testing.T, h http.Handler, path, msgID string, body []byte) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
	if msgID != "" {
		req.Header.Set(webhook.HeaderID, msgID)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestReceiverCounts(t *testing.T) {
	t.Parallel()
	r := NewReceiver(time.Hour)
	accepted := time.Now().Add(-30 * time.Millisecond)
	body := func(id string) []byte {
		return hook.EncodeEnvelope(id, typeSMS, accepted, "acc_1", []byte(`{"timestamp":"1999-01-01T00:00:00Z"}`))
	}
	for _, c := range []struct{ path, id string }{
		{"/e/0", "evt_a"}, {"/e/0", "evt_b"}, {"/e/1", "evt_a"}, // the same event to two endpoints
		{"/e/0", "evt_a"}, // a duplicate
	} {
		if code := post(t, r, c.path, c.id, body(c.id)); code != http.StatusOK {
			t.Fatalf("POST %s = %d, want 200", c.path, code)
		}
	}
	post(t, r, "/e/1", "", body("evt_c"))                 // no webhook-id
	post(t, r, "/e/1", "evt_d", []byte(`{"id":"evt_d"}`)) // no timestamp

	s := r.Stats()
	if s.Requests != 6 || s.Deliveries != 6 || s.Duplicates != 1 || s.BadRequests != 2 || s.Hung != 0 {
		t.Errorf("Stats() = requests %d deliveries %d duplicates %d bad %d hung %d, want 6 6 1 2 0",
			s.Requests, s.Deliveries, s.Duplicates, s.BadRequests, s.Hung)
	}
	if got := s.Paths["/e/0"]; got.Requests != 3 || got.Duplicates != 1 {
		t.Errorf("Paths[/e/0] = %+v, want 3 requests, 1 duplicate", got)
	}
	if s.Latency.Count != 4 {
		t.Fatalf("Latency.Count = %d, want 4", s.Latency.Count)
	}
	// The envelope's timestamp is truncated to the millisecond: the
	// latency is 30–31 ms plus the test's own time.
	if p50 := s.Latency.Quantile(0.5); p50 < 30*time.Millisecond || p50 > time.Second {
		t.Errorf("latency p50 = %v, want about 30 ms", p50)
	}
	if s.FirstArrival.IsZero() || s.LastArrival.Before(s.FirstArrival) {
		t.Errorf("arrivals %v … %v, want an ordered span", s.FirstArrival, s.LastArrival)
	}

	r.Reset()
	if s := r.Stats(); s.Requests != 0 || len(s.Paths) != 0 || s.Latency.Count != 0 || !s.FirstArrival.IsZero() {
		t.Errorf("after Reset: %+v, want empty", s)
	}
	post(t, r, "/e/0", "evt_a", body("evt_a"))
	if s := r.Stats(); s.Duplicates != 0 {
		t.Errorf("after Reset an old id counts as a duplicate")
	}
}

// A snapshot taken while deliveries arrive never counts a delivery whose
// latency it lacks, nor a duplicate as a new delivery: the load tool ends
// a phase on the first snapshot that has them all, and reports its
// latencies.
func TestReceiverSnapshotsConsistent(t *testing.T) {
	t.Parallel()
	r := NewReceiver(time.Hour)
	accepted := time.Now()
	const writers, each = 4, 2000
	bodies := make([][]byte, each)
	for i := range bodies {
		bodies[i] = hook.EncodeEnvelope(fmt.Sprintf("evt_%d", i), typeSMS, accepted, "acc_1", []byte(`{}`))
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Every writer sends the same events: all but one
				// arrival of each is a duplicate.
				r.record(time.Now(), "/e/0", fmt.Sprintf("evt_%d", (i+w*each/writers)%each), bodies[(i+w*each/writers)%each])
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for snapshots := 0; ; snapshots++ {
		select {
		case <-done:
			s := r.Stats()
			if n, dups, _, _ := s.Window(func(string) bool { return true }); n != writers*each || n-dups != each || s.Latency.Count != n {
				t.Fatalf("final: %d arrivals, %d unique, %d latencies; want %d, %d, %d", n, n-dups, s.Latency.Count, writers*each, each, writers*each)
			}
			t.Logf("%d snapshots taken while arrivals were recorded", snapshots)
			return
		default:
		}
		s := r.Stats()
		n, dups, _, _ := s.Window(func(string) bool { return true })
		if s.Latency.Count < n {
			t.Fatalf("snapshot counts %d arrivals but only %d latencies", n, s.Latency.Count)
		}
		if dups > n || n-dups > each {
			t.Fatalf("snapshot counts %d arrivals, %d duplicates: more than the %d distinct events", n, dups, each)
		}
	}
}

func TestReceiverHang(t *testing.T) {
	t.Parallel()
	r := NewReceiver(50 * time.Millisecond)
	start := time.Now()
	if code := post(t, r, "/hang/3", "evt_a", []byte(`{}`)); code != http.StatusOK {
		t.Errorf("POST /hang/3 = %d, want 200", code)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("POST /hang/3 answered after %v, want ≥ 50ms", d)
	}
	// A client that gives up ends the wait.
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest(http.MethodPost, "/hang/4", strings.NewReader("{}")).WithContext(ctx)
	cancel()
	NewReceiver(time.Hour).ServeHTTP(httptest.NewRecorder(), req)

	s := r.Stats()
	if s.Hung != 1 || s.Deliveries != 0 || s.Requests != 1 {
		t.Errorf("Stats() = hung %d deliveries %d requests %d, want 1 0 1", s.Hung, s.Deliveries, s.Requests)
	}
}

func TestControlHandler(t *testing.T) {
	t.Parallel()
	r := NewReceiver(time.Hour)
	post(t, r, "/e/0", "evt_a", hook.EncodeEnvelope("evt_a", typeCall, time.Now(), "acc_1", []byte(`{}`)))
	srv := httptest.NewServer(r.ControlHandler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	s, err := ParseStats(b)
	if err != nil {
		t.Fatalf("ParseStats(GET /stats): %v", err)
	}
	if s.Deliveries != 1 || s.Paths["/e/0"].Requests != 1 {
		t.Errorf("GET /stats = %s, want one delivery to /e/0", b)
	}

	resp, err = http.Post(srv.URL+"/reset", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("POST /reset = %d, want 204", resp.StatusCode)
	}
	if got := r.Stats().Deliveries; got != 0 {
		t.Errorf("deliveries after POST /reset = %d, want 0", got)
	}
}

func TestEnvelopeTimestamp(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 12, 30, 0, 123456789, time.UTC)
	got, ok := envelopeTimestamp(hook.EncodeEnvelope("evt_1", typeCall, at, "acc_1", []byte(`{"timestamp":"2000-01-01T00:00:00Z"}`)))
	if want := at.Truncate(time.Millisecond); !ok || !got.Equal(want) {
		t.Errorf("envelopeTimestamp = %v, %v; want %v, true", got, ok, want)
	}
	for _, in := range []string{`{}`, `{"timestamp":"2026-11-27T12:30:00.000Z`, `{"timestamp":"yesterday"}`} {
		if got, ok := envelopeTimestamp([]byte(in)); ok {
			t.Errorf("envelopeTimestamp(%s) = %v, true; want false", in, got)
		}
	}
}

func TestReceiverLine(t *testing.T) {
	t.Parallel()
	m := receiverReady.FindStringSubmatch(receiverLinePrefix + " https=127.0.0.1:4430 control=127.0.0.1:8081 pid=12")
	if m == nil || m[1] != "127.0.0.1:4430" || m[2] != "127.0.0.1:8081" {
		t.Errorf("receiverReady match = %q, want the two addresses", m)
	}
	m = hookdListening.FindStringSubmatch("hookd 0.1.0 listening on http://127.0.0.1:40123 (storage: sqlite /tmp/x/hookd.db)")
	if m == nil || m[1] != "http://127.0.0.1:40123" {
		t.Errorf("hookdListening match = %q, want the URL", m)
	}
}
