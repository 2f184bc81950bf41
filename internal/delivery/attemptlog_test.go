package delivery

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
)

// logBundle is an attemptLog on a fake clock, writing to a buffer.
type logBundle struct {
	now  time.Time
	buf  *bytes.Buffer
	log  *attemptLog
	fail *Outcome
	ok   *Outcome
}

func newLogBundle(t *testing.T, level slog.Level) *logBundle {
	t.Helper()
	b := &logBundle{now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), buf: &bytes.Buffer{}}
	logger := slog.New(slog.NewTextHandler(b.buf, &slog.HandlerOptions{Level: level}))
	b.log = newAttemptLog(logger, func() time.Time { return b.now })
	b.log.schedule = nil // the test sweeps
	b.fail = &Outcome{StatusCode: 500, Code: hook.ErrCodeHTTPStatus, Error: "http_status: 500 Internal Server Error"}
	b.ok = &Outcome{StatusCode: 200}
	return b
}

func testDelivery(endpointID string, n int) *hook.Delivery {
	return &hook.Delivery{ID: "dlv_" + endpointID, EndpointID: endpointID, EventID: "evt_1", Attempts: n}
}

func (b *logBundle) count(msg string) int {
	return strings.Count(b.buf.String(), "msg=\""+msg+"\"")
}

func TestAttemptLogLevels(t *testing.T) {
	t.Parallel()
	info := newLogBundle(t, slog.LevelInfo)
	info.log.attempt(context.Background(), testDelivery("ep_a", 0), info.ok, time.Time{})
	info.log.attempt(context.Background(), testDelivery("ep_a", 0), info.fail, info.now.Add(time.Minute))
	if n := info.count("attempt succeeded"); n != 0 {
		t.Errorf("at info, %d success lines, want 0 (successes are debug):\n%s", n, info.buf)
	}
	if n := info.count("attempt failed"); n != 1 {
		t.Errorf("at info, %d failure lines, want 1:\n%s", n, info.buf)
	}
	for _, want := range []string{"endpoint_id=ep_a", "delivery_id=dlv_ep_a", "event_id=evt_1", "attempt=1", "status_code=500",
		`error="http_status: 500 Internal Server Error"`, "will_retry=true", "next_attempt_at="} {
		if !strings.Contains(info.buf.String(), want) {
			t.Errorf("the failure line lacks %s:\n%s", want, info.buf)
		}
	}
	debug := newLogBundle(t, slog.LevelDebug)
	debug.log.attempt(context.Background(), testDelivery("ep_a", 2), debug.ok, time.Time{})
	if n := debug.count("attempt succeeded"); n != 1 || !strings.Contains(debug.buf.String(), "attempt=3") {
		t.Errorf("at debug, want one success line of attempt 3:\n%s", debug.buf)
	}
	last := newLogBundle(t, slog.LevelInfo)
	last.log.attempt(context.Background(), testDelivery("ep_a", 3), last.fail, time.Time{})
	if !strings.Contains(last.buf.String(), "will_retry=false") {
		t.Errorf("a last failed attempt does not say there is no retry:\n%s", last.buf)
	}
}

// A failing endpoint logs its first failure, then one summary per window
// for the rest; other endpoints are not held back by it.
func TestAttemptLogRateLimitsPerEndpoint(t *testing.T) {
	t.Parallel()
	b := newLogBundle(t, slog.LevelInfo)
	for range 1000 {
		b.log.attempt(context.Background(), testDelivery("ep_a", 0), b.fail, b.now.Add(time.Minute))
		b.now = b.now.Add(time.Millisecond) // 1000 failures within one second
	}
	b.log.attempt(context.Background(), testDelivery("ep_b", 0), b.fail, b.now.Add(time.Minute))
	if n := b.count("attempt failed"); n != 2 {
		t.Fatalf("%d failure lines for 1000 failures of ep_a and 1 of ep_b, want 2:\n%s", n, b.buf)
	}
	b.log.sweep() // within the window: nothing to say yet
	if n := b.count("more attempts failed"); n != 0 {
		t.Fatalf("a summary before the window closed:\n%s", b.buf)
	}
	b.now = b.now.Add(failWindow)
	b.log.sweep()
	if n := b.count("more attempts failed"); n != 1 || !strings.Contains(b.buf.String(), "endpoint_id=ep_a failed=999") {
		t.Fatalf("after the window: want one summary of ep_a's 999 further failures:\n%s", b.buf)
	}
	if len(b.log.windows) != 0 {
		t.Errorf("%d windows still open after the sweep; closed windows must be forgotten", len(b.log.windows))
	}
	// The next window starts with a full line again.
	b.log.attempt(context.Background(), testDelivery("ep_a", 1), b.fail, b.now.Add(time.Minute))
	if n := b.count("attempt failed"); n != 3 {
		t.Errorf("%d failure lines after a new window began, want 3:\n%s", n, b.buf)
	}
}

// Memory is bounded however many endpoints fail: beyond the tracked ones,
// failures are counted together.
func TestAttemptLogBoundsEndpoints(t *testing.T) {
	t.Parallel()
	b := newLogBundle(t, slog.LevelInfo)
	b.log.max = 3
	for i := range 10 {
		b.log.attempt(context.Background(), testDelivery("ep_"+string(rune('a'+i)), 0), b.fail, time.Time{})
	}
	if n := len(b.log.windows); n != 3 {
		t.Errorf("%d windows open, want the bound 3", n)
	}
	if n := b.count("attempt failed"); n != 3 {
		t.Errorf("%d failure lines, want 3 (one per tracked endpoint)", n)
	}
	b.log.close()
	if !strings.Contains(b.buf.String(), `msg="more attempts failed at other endpoints" failed=7`) {
		t.Errorf("the 7 failures beyond the bound are not summed up:\n%s", b.buf)
	}
}
