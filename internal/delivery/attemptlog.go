package delivery

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/hook"
)

// Attempt outcomes in the log: a failed attempt at info, a successful one
// at debug, so that an operator sees failures at the default level without
// one line per delivery. A failing endpoint under load must not flood the
// log: its first failure is logged in full, the failures that follow
// within failWindow are counted, and one summary line gives their number
// when the window closes. Memory is bounded: at most maxFailWindows
// endpoints are tracked at once; failures of others in that time are
// counted together in one summary.
//
// A line names the endpoint, the delivery and the event by id, the attempt
// number, the status code and the error (whose text never holds the URL,
// a header or a secret; see Outcome.classify). It never holds the URL,
// the headers sent or the response body.
const (
	failWindow     = 10 * time.Second
	maxFailWindows = 1000
)

// attemptLog writes attempt outcomes, failures rate-limited per endpoint.
type attemptLog struct {
	log    *slog.Logger
	now    func() time.Time
	window time.Duration
	max    int
	// schedule runs f after d (time.AfterFunc); nil schedules nothing
	// (tests call sweep).
	schedule func(d time.Duration, f func()) *time.Timer

	mu        sync.Mutex
	windows   map[string]*failures // endpoint id → its open window
	others    failures             // failures of endpoints beyond max
	timer     *time.Timer
	scheduled bool
}

// failures is what a window counted beyond its first, logged failure.
type failures struct {
	start      time.Time
	more       int
	lastError  string
	lastStatus int
}

func newAttemptLog(log *slog.Logger, now func() time.Time) *attemptLog {
	return &attemptLog{log: log, now: now, window: failWindow, max: maxFailWindows,
		schedule: time.AfterFunc, windows: make(map[string]*failures)}
}

// attempt logs the outcome of an attempt of del; retryAt is when it goes
// again (zero: no retry left).
func (l *attemptLog) attempt(ctx context.Context, del *hook.Delivery, o *Outcome, retryAt time.Time) {
	if o.OK() {
		if !l.log.Enabled(ctx, slog.LevelDebug) {
			return // the hot path: build no attributes for nothing
		}
		l.log.DebugContext(ctx, "attempt succeeded", slog.String("endpoint_id", del.EndpointID), slog.String("delivery_id", del.ID),
			slog.String("event_id", del.EventID), slog.Int("attempt", del.Attempts+1), slog.Int("status_code", o.StatusCode),
			slog.Duration("duration", o.Duration))
		return
	}
	now := l.now()
	l.mu.Lock()
	w := l.windows[del.EndpointID]
	if w != nil && now.Sub(w.start) < l.window {
		w.note(o)
		l.mu.Unlock()
		return
	}
	var closed failures
	if w != nil {
		closed = *w
		delete(l.windows, del.EndpointID)
	}
	if len(l.windows) >= l.max {
		if l.others.more == 0 {
			l.others.start = now
		}
		l.others.note(o)
		l.scheduleLocked()
		l.mu.Unlock()
		l.summary(del.EndpointID, closed)
		return
	}
	l.windows[del.EndpointID] = &failures{start: now}
	l.scheduleLocked()
	l.mu.Unlock()
	l.summary(del.EndpointID, closed)
	attrs := []any{slog.String("endpoint_id", del.EndpointID), slog.String("delivery_id", del.ID),
		slog.String("event_id", del.EventID), slog.Int("attempt", del.Attempts+1), slog.Int("status_code", o.StatusCode),
		slog.String("error", o.Error), slog.Duration("duration", o.Duration)}
	if retryAt.IsZero() {
		attrs = append(attrs, slog.Bool("will_retry", false))
	} else {
		attrs = append(attrs, slog.Bool("will_retry", true), slog.Time("next_attempt_at", retryAt))
	}
	l.log.InfoContext(ctx, "attempt failed", attrs...)
}

func (f *failures) note(o *Outcome) {
	f.more++
	f.lastError = o.Error
	f.lastStatus = o.StatusCode
}

// summary logs the failures a window counted beyond its first.
func (l *attemptLog) summary(endpointID string, f failures) {
	if f.more == 0 {
		return
	}
	l.log.Info("more attempts failed", slog.String("endpoint_id", endpointID), slog.Int("failed", f.more),
		slog.Duration("within", l.window), slog.Int("last_status_code", f.lastStatus), slog.String("last_error", f.lastError))
}

// scheduleLocked makes sure a sweep comes after the window. l.mu is held.
func (l *attemptLog) scheduleLocked() {
	if l.scheduled || l.schedule == nil {
		return
	}
	l.scheduled = true
	l.timer = l.schedule(l.window, l.sweep)
}

// sweep closes the windows that are over and logs their summaries.
func (l *attemptLog) sweep() { l.flush(false) }

// close logs every open window's summary now and schedules no more.
func (l *attemptLog) close() {
	l.mu.Lock()
	l.schedule = nil
	if l.timer != nil {
		l.timer.Stop()
	}
	l.mu.Unlock()
	l.flush(true)
}

func (l *attemptLog) flush(all bool) {
	now := l.now()
	type closed struct {
		id string
		f  failures
	}
	var out []closed
	l.mu.Lock()
	for id, w := range l.windows {
		if all || now.Sub(w.start) >= l.window {
			out = append(out, closed{id, *w})
			delete(l.windows, id)
		}
	}
	others := l.others
	if all || now.Sub(others.start) >= l.window {
		l.others = failures{}
	} else {
		others = failures{}
	}
	l.scheduled = false
	if len(l.windows) > 0 || l.others.more > 0 {
		l.scheduleLocked()
	}
	l.mu.Unlock()
	for _, c := range out {
		l.summary(c.id, c.f)
	}
	if others.more > 0 {
		l.log.Info("more attempts failed at other endpoints", slog.Int("failed", others.more), slog.Int("endpoints_tracked", l.max),
			slog.Duration("within", l.window), slog.Int("last_status_code", others.lastStatus), slog.String("last_error", others.lastError))
	}
}
