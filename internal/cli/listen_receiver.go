package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd/webhook"
)

// Defaults for receiverConfig.
const (
	defaultDedupSize   = 100_000
	defaultExecTimeout = 4 * time.Second
)

// receiverConfig configures a receiver. The zero value of each field but
// Out and Verifier gives its default.
type receiverConfig struct {
	// Delay is how long to wait before answering a verified request.
	Delay time.Duration
	// DedupSize bounds the webhook-ids remembered in memory, least recently
	// seen dropped first. 0 means 100,000. With a Store, older ids are
	// still found there.
	DedupSize int
	// Exec, if set, is run with sh -c for each new event; see listenExec.
	Exec string
	// ExecTimeout bounds one Exec run. 0 means 4 s, under hookd's 5 s
	// attempt timeout.
	ExecTimeout time.Duration
	// Now returns the current time, for the printed time, the latency and
	// received_at. nil means time.Now.
	Now func() time.Time
	// Out receives the printed lines.
	Out io.Writer
	// Status answers every verified request. 0 means 204. A status that is
	// not 2xx refuses everything: no event is processed or remembered.
	Status int
	// Store, if set, keeps each processed event and remembers its id
	// across restarts.
	Store *listenStore
	// Verbose also prints each event's data.
	Verbose bool
	// Verifier checks the signatures.
	Verifier *webhook.Verifier
}

// receiver is the HTTP handler of hookd listen. It verifies each request
// with the Verifier's Middleware and then, once per webhook-id, runs Exec,
// keeps the event in Store and prints it. Rejected requests are printed
// too, with the reason.
type receiver struct {
	cfg    receiverConfig
	verify http.Handler // cfg.Verifier.Middleware(serveVerified)

	mu       sync.Mutex
	seen     *recentIDs               // processed ids, bounded
	inflight map[string]chan struct{} // ids being processed; closed when done

	outMu sync.Mutex // one printed block at a time
}

func newReceiver(cfg receiverConfig) *receiver {
	if cfg.Status == 0 {
		cfg.Status = http.StatusNoContent
	}
	if cfg.DedupSize <= 0 {
		cfg.DedupSize = defaultDedupSize
	}
	if cfg.ExecTimeout <= 0 {
		cfg.ExecTimeout = defaultExecTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	rc := &receiver{
		cfg:      cfg,
		seen:     newRecentIDs(cfg.DedupSize),
		inflight: map[string]chan struct{}{},
	}
	rc.verify = cfg.Verifier.Middleware(http.HandlerFunc(rc.serveVerified))
	return rc
}

// listenCaptureWriter remembers the status and the start of the body
// written to it, so that a rejection by the middleware can be printed.
// passed is set when the request got past the middleware.
type listenCaptureWriter struct {
	http.ResponseWriter
	status int
	body   []byte
	passed bool
}

func (c *listenCaptureWriter) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *listenCaptureWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if n := min(len(p), 256-len(c.body)); n > 0 {
		c.body = append(c.body, p[:n]...)
	}
	return c.ResponseWriter.Write(p)
}

// ServeHTTP verifies the request and hands it on, or prints why it was
// rejected.
func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "hookd listen accepts signed POST requests only", http.StatusMethodNotAllowed)
		rc.printRejected(r, http.StatusMethodNotAllowed, r.Method+" instead of POST")
		return
	}
	// Keep a copy of the body as it is read, to say precisely why a
	// signature did not verify. The middleware caps what it reads.
	var raw bytes.Buffer
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(r.Body, &raw), r.Body}
	cw := &listenCaptureWriter{ResponseWriter: w}
	rc.verify.ServeHTTP(cw, r)
	if cw.passed {
		return
	}
	reason := strings.TrimSpace(string(cw.body))
	if cw.status == http.StatusBadRequest || cw.status == http.StatusUnauthorized {
		// Verify's errors say what is wrong without quoting keys or
		// signatures (see the webhook package).
		if err := rc.cfg.Verifier.Verify(r.Header, raw.Bytes()); err != nil {
			reason = strings.TrimPrefix(err.Error(), "webhook: ")
		}
	}
	rc.printRejected(r, cw.status, reason)
}

// listenOutcome is what became of a verified request.
type listenOutcome struct {
	status     int
	duplicate  bool
	processed  bool
	problem    string // why it was not processed, if it was not
	execOutput []byte
}

// serveVerified handles a request the middleware verified.
func (rc *receiver) serveVerified(w http.ResponseWriter, r *http.Request) {
	if cw, ok := w.(*listenCaptureWriter); ok {
		cw.passed = true
	}
	receivedAt := rc.cfg.Now()
	env, _ := webhook.EnvelopeFromContext(r.Context())
	body, _ := io.ReadAll(r.Body) // the middleware's copy: cannot fail
	msgID := r.Header.Get(webhook.HeaderID)

	out := rc.process(r.Context(), r, msgID, env, body, receivedAt)
	rc.printEvent(msgID, env, receivedAt, out, r.Header)

	if d := rc.cfg.Delay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			rc.printGone(msgID, rc.cfg.Now().Sub(receivedAt))
			return
		}
	}
	rc.answer(w, out)
}

// process runs the event once per webhook-id: Exec, then Store, then it
// remembers the id. A concurrent request with the same id waits for the
// first one and is then a duplicate, or processed itself if the first
// failed.
func (rc *receiver) process(ctx context.Context, r *http.Request, msgID string, env *webhook.Envelope, body []byte, receivedAt time.Time) listenOutcome {
	out := listenOutcome{status: rc.cfg.Status}
	if !listenIs2xx(rc.cfg.Status) {
		out.problem = fmt.Sprintf("--status %d", rc.cfg.Status)
		return out
	}
	release, dup, err := rc.claim(ctx, msgID)
	if err != nil {
		return listenOutcome{status: http.StatusInternalServerError, problem: err.Error()}
	}
	if dup {
		out.duplicate = true
		return out
	}
	defer release()

	if rc.cfg.Exec != "" {
		res := listenExec(ctx, rc.cfg.Exec, rc.cfg.ExecTimeout, listenExecInput{
			msgID: msgID, env: env, timestamp: r.Header.Get(webhook.HeaderTimestamp), body: body,
		})
		out.execOutput = res.output
		if res.err != nil {
			out.status, out.problem = http.StatusInternalServerError, res.err.Error()
			return out
		}
	}
	if rc.cfg.Store != nil {
		inserted, err := rc.cfg.Store.Insert(ctx, listenEvent{
			msgID: msgID, event: env.Event, accountID: env.AccountID,
			acceptedAt: env.Timestamp, receivedAt: receivedAt, data: env.Data,
		})
		if err != nil {
			out.status, out.problem = http.StatusInternalServerError, "store: "+err.Error()
			return out
		}
		if !inserted { // another process sharing the file got there first
			rc.remember(msgID)
			out.duplicate = true
			return out
		}
	}
	rc.remember(msgID)
	out.processed = true
	return out
}

// claim reserves msgID for processing. It reports dup if the id was
// processed already, in memory or in the Store, and waits while another
// request processes the same id. release must be called after the
// outcome is known (and after remember, on success).
func (rc *receiver) claim(ctx context.Context, msgID string) (release func(), dup bool, err error) {
	for {
		rc.mu.Lock()
		if rc.seen.Contains(msgID) {
			rc.mu.Unlock()
			return nil, true, nil
		}
		busy, ok := rc.inflight[msgID]
		if !ok {
			break // still locked
		}
		rc.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, false, fmt.Errorf("waiting for the same webhook-id: %w", context.Cause(ctx))
		}
	}
	done := make(chan struct{})
	rc.inflight[msgID] = done
	rc.mu.Unlock()
	release = func() {
		rc.mu.Lock()
		delete(rc.inflight, msgID)
		rc.mu.Unlock()
		close(done)
	}
	if rc.cfg.Store != nil {
		found, err := rc.cfg.Store.Has(ctx, msgID)
		if err != nil {
			release()
			return nil, false, fmt.Errorf("store: %w", err)
		}
		if found {
			rc.remember(msgID)
			release()
			return nil, true, nil
		}
	}
	return release, false, nil
}

func (rc *receiver) remember(msgID string) {
	rc.mu.Lock()
	rc.seen.Add(msgID)
	rc.mu.Unlock()
}

// answer writes the outcome's status with a short plain-text reason,
// which hookd keeps in the attempt's response_body.
func (rc *receiver) answer(w http.ResponseWriter, out listenOutcome) {
	var text string
	switch {
	case out.duplicate:
		text = "duplicate, not processed again"
	case out.processed:
		text = "processed"
	default:
		text = "not processed: " + out.problem
	}
	if out.status == http.StatusNoContent || out.status == http.StatusNotModified {
		w.WriteHeader(out.status)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(out.status)
	io.WriteString(w, text+"\n")
}

// listenStandardHeader reports whether a request header is one hookd
// sends on every request or the transport adds, not an endpoint's own.
func listenStandardHeader(name string) bool {
	switch n := strings.ToLower(name); {
	case strings.HasPrefix(n, "webhook-"):
		return true
	default:
		switch n {
		case "content-type", "content-length", "user-agent", "accept-encoding", "connection", "host", "transfer-encoding":
			return true
		}
	}
	return false
}

func listenIs2xx(status int) bool { return status >= 200 && status <= 299 }

// listenTimeFormat is the printed time of day, in UTC like hookd's timestamps.
const listenTimeFormat = "15:04:05.000"

// printEvent prints one verified request:
//
//	12:30:00.123  call.received  evt_…  acc_…  inbound +14155550123 → +14155550100 completed 357s  latency 42ms  → 204
func (rc *receiver) printEvent(msgID string, env *webhook.Envelope, receivedAt time.Time, out listenOutcome, h http.Header) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s  %s", receivedAt.UTC().Format(listenTimeFormat), env.Event, msgID)
	if env.ID != msgID {
		fmt.Fprintf(&b, " (envelope id %s)", env.ID)
	}
	fmt.Fprintf(&b, "  %s", listenDash(env.AccountID))
	if out.duplicate {
		fmt.Fprintf(&b, "  duplicate of %s, not processed again", msgID)
	} else if s := listenSummary(env.Event, env.Data); s != "" {
		fmt.Fprintf(&b, "  %s", s)
	}
	if !env.Timestamp.IsZero() {
		fmt.Fprintf(&b, "  latency %dms", receivedAt.Sub(env.Timestamp).Milliseconds())
	}
	fmt.Fprintf(&b, "  → %d", out.status)
	if rc.cfg.Delay > 0 {
		fmt.Fprintf(&b, " in %v", rc.cfg.Delay)
	}
	switch {
	case out.duplicate, out.processed:
	case !listenIs2xx(rc.cfg.Status) && out.status == rc.cfg.Status:
		fmt.Fprintf(&b, " (--status %d), not processed", out.status)
	default:
		fmt.Fprintf(&b, ", not processed: %s; hookd will retry", out.problem)
	}
	b.WriteByte('\n')
	if len(out.execOutput) > 0 {
		for line := range strings.Lines(string(out.execOutput)) {
			fmt.Fprintf(&b, "    exec| %s\n", strings.TrimRight(line, "\r\n"))
		}
	}
	if rc.cfg.Verbose && !out.duplicate {
		// The endpoint's custom headers (docs/delivery.md): whatever is
		// not hookd's own or the transport's, in name order.
		names := make([]string, 0, len(h))
		for name := range h {
			if !listenStandardHeader(name) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			for _, v := range h[name] {
				fmt.Fprintf(&b, "    header| %s: %s\n", name, listenTruncate(v, 200))
			}
		}
		var data bytes.Buffer
		if err := json.Indent(&data, env.Data, "    ", "  "); err != nil {
			data.Reset()
			data.Write(env.Data)
		}
		fmt.Fprintf(&b, "    %s\n", data.String())
	}
	rc.print(b.String())
}

// printRejected prints a request that did not verify. The webhook-id is
// what the sender claimed; it is quoted since nothing vouches for it.
func (rc *receiver) printRejected(r *http.Request, status int, reason string) {
	line := fmt.Sprintf("%s  rejected  %d %s", rc.cfg.Now().UTC().Format(listenTimeFormat), status, reason)
	if id := r.Header.Get(webhook.HeaderID); id != "" {
		line += fmt.Sprintf("  (webhook-id %q)", listenTruncate(id, 64))
	}
	rc.print(line + "\n")
}

// printGone prints that the sender stopped waiting during --delay.
func (rc *receiver) printGone(msgID string, waited time.Duration) {
	rc.print(fmt.Sprintf("%s  %s  hookd closed the connection after %v, before the answer: it counts a timeout and will retry\n",
		rc.cfg.Now().UTC().Format(listenTimeFormat), msgID, waited.Round(10*time.Millisecond)))
}

func (rc *receiver) print(s string) {
	rc.outMu.Lock()
	defer rc.outMu.Unlock()
	io.WriteString(rc.cfg.Out, s)
}

// listenSummary returns the key fields of the events hookd knows:
//
//	call.received: inbound +14155550123 → +14155550100 completed 357s
//	sms.received:  +14155550123 → +14155550100 "Here's a photo of…"
func listenSummary(event string, data json.RawMessage) string {
	type party struct {
		Number string `json:"number"`
	}
	switch event {
	case "call.received":
		var d struct {
			Direction string      `json:"direction"`
			From      party       `json:"from"`
			To        party       `json:"to"`
			Status    string      `json:"status"`
			Duration  json.Number `json:"duration_seconds"`
		}
		if json.Unmarshal(data, &d) != nil {
			return ""
		}
		s := fmt.Sprintf("%s %s → %s %s", d.Direction, listenDash(d.From.Number), listenDash(d.To.Number), d.Status)
		if d.Duration != "" {
			s += " " + d.Duration.String() + "s"
		}
		return s
	case "sms.received":
		var d struct {
			From party  `json:"from"`
			To   party  `json:"to"`
			Body string `json:"body"`
		}
		if json.Unmarshal(data, &d) != nil {
			return ""
		}
		return fmt.Sprintf("%s → %s %s", listenDash(d.From.Number), listenDash(d.To.Number), strconv.Quote(listenTruncate(d.Body, 60)))
	}
	return ""
}

// listenTruncate shortens s to n runes, marking a cut with "…".
func listenTruncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

func listenDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
