package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/maphash"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/webhook"
)

// receiverLinePrefix starts the line "receive" prints once it listens; run
// parses it (see parseReceiverLine).
const receiverLinePrefix = "hookd-bench receiver:"

// Receiver is the HTTPS endpoint hookd delivers to. It answers 200 at once
// (paths under /hang/ after hangFor, to exceed hookd's attempt timeout),
// and keeps counts and accept→arrival latencies. It does not verify
// signatures: a real receiver would, but so would it for the raw-ceiling
// client, and the point is to spend as little of the shared CPU as
// possible.
type Receiver struct {
	hangFor time.Duration
	seed    maphash.Seed

	requests, deliveries, duplicates, hung, bad, bodyBytes atomic.Uint64
	first, last                                            atomic.Int64 // Unix ns
	latency                                                Histogram

	pathsMu sync.RWMutex
	paths   map[string]*pathCounter

	seen [64]seenShard

	bufs sync.Pool
}

type pathCounter struct {
	requests, duplicates atomic.Uint64
	first, last          atomic.Int64
}

// seenShard is one part of the set of (path, webhook-id) hashes that have
// arrived. The map holds no pointers, so the garbage collector does not
// scan it however large it grows (5 M deliveries take about 100 MB).
type seenShard struct {
	mu  sync.Mutex
	set map[uint64]struct{}
	_   [40]byte // keep shards on separate cache lines
}

// NewReceiver returns a Receiver that holds /hang/ requests for hangFor.
func NewReceiver(hangFor time.Duration) *Receiver {
	r := &Receiver{hangFor: hangFor, seed: maphash.MakeSeed(), paths: make(map[string]*pathCounter)}
	for i := range r.seen {
		r.seen[i].set = make(map[uint64]struct{})
	}
	r.bufs.New = func() any { return bytes.NewBuffer(make([]byte, 0, 4096)) }
	return r
}

// ServeHTTP receives one webhook.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.requests.Add(1)
	buf := r.bufs.Get().(*bytes.Buffer)
	defer func() {
		buf.Reset()
		r.bufs.Put(buf)
	}()
	if _, err := buf.ReadFrom(io.LimitReader(req.Body, 1<<20)); err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if isHangPath(req.URL.Path) {
		r.hung.Add(1)
		t := time.NewTimer(r.hangFor)
		defer t.Stop()
		select {
		case <-t.C:
		case <-req.Context().Done():
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	now := time.Now()
	w.WriteHeader(http.StatusOK)
	r.record(now, req.URL.Path, req.Header.Get(webhook.HeaderID), buf.Bytes())
}

func (r *Receiver) record(now time.Time, path, msgID string, body []byte) {
	ns := now.UnixNano()
	r.bodyBytes.Add(uint64(len(body)))
	casMin(&r.first, ns)
	casMax(&r.last, ns)
	pc := r.path(path)
	casMin(&pc.first, ns)
	casMax(&pc.last, ns)

	dup := false
	if accepted, ok := envelopeTimestamp(body); ok && msgID != "" {
		r.latency.Record(now.Sub(accepted))
		dup = r.seenBefore(path, msgID)
	} else {
		r.bad.Add(1)
	}
	// The counts come last, duplicates before deliveries: Stats reads the
	// delivery counts before the latency and the duplicates, so a snapshot
	// that counts a delivery also has its latency, and a duplicate is
	// never taken for a new delivery.
	if dup {
		r.duplicates.Add(1)
		pc.duplicates.Add(1)
	}
	pc.requests.Add(1)
	r.deliveries.Add(1)
}

// seenBefore records that path got msgID and reports whether it had.
func (r *Receiver) seenBefore(path, msgID string) bool {
	var h maphash.Hash
	h.SetSeed(r.seed)
	h.WriteString(path)
	h.WriteByte(0)
	h.WriteString(msgID)
	key := h.Sum64()
	shard := &r.seen[key%uint64(len(r.seen))]
	shard.mu.Lock()
	defer shard.mu.Unlock()
	if _, dup := shard.set[key]; dup {
		return true
	}
	shard.set[key] = struct{}{}
	return false
}

func (r *Receiver) path(p string) *pathCounter {
	r.pathsMu.RLock()
	pc := r.paths[p]
	r.pathsMu.RUnlock()
	if pc != nil {
		return pc
	}
	r.pathsMu.Lock()
	defer r.pathsMu.Unlock()
	if pc = r.paths[p]; pc == nil {
		pc = &pathCounter{}
		r.paths[p] = pc
	}
	return pc
}

// casMin lowers v to ns if it is unset (0) or larger.
func casMin(v *atomic.Int64, ns int64) {
	for {
		old := v.Load()
		if old != 0 && old <= ns || v.CompareAndSwap(old, ns) {
			return
		}
	}
}

func casMax(v *atomic.Int64, ns int64) {
	for {
		old := v.Load()
		if old >= ns || v.CompareAndSwap(old, ns) {
			return
		}
	}
}

var timestampKey = []byte(`"timestamp":"`)

// envelopeTimestamp finds the envelope's "timestamp" without decoding the
// whole body. hookd writes it third, after "id" and "event", whose values
// are plain identifiers, so the first match is the envelope's own even if
// data holds a "timestamp" too.
func envelopeTimestamp(body []byte) (time.Time, bool) {
	i := bytes.Index(body, timestampKey)
	if i < 0 {
		return time.Time{}, false
	}
	rest := body[i+len(timestampKey):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:j]))
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// Stats returns the counts so far.
func (r *Receiver) Stats() *Stats {
	// Delivery counts first, then latency and duplicates (see record).
	r.pathsMu.RLock()
	counters := maps.Clone(r.paths)
	r.pathsMu.RUnlock()
	paths := make(map[string]PathStats, len(counters))
	for p, pc := range counters {
		paths[p] = PathStats{Requests: pc.requests.Load(), FirstArrival: fromNS(pc.first.Load()), LastArrival: fromNS(pc.last.Load())}
	}
	s := &Stats{
		Requests:     r.requests.Load(),
		Deliveries:   r.deliveries.Load(),
		Hung:         r.hung.Load(),
		BadRequests:  r.bad.Load(),
		BodyBytes:    r.bodyBytes.Load(),
		FirstArrival: fromNS(r.first.Load()),
		LastArrival:  fromNS(r.last.Load()),
		Latency:      r.latency.Snapshot(),
		Duplicates:   r.duplicates.Load(),
		Paths:        paths,
		At:           time.Now(),
	}
	for p, ps := range paths {
		// A duplicate counted before its request: read as not yet arrived.
		ps.Duplicates = min(counters[p].duplicates.Load(), ps.Requests)
		paths[p] = ps
	}
	// Counters are read one by one while requests arrive; keep them
	// consistent with each other for ParseStats.
	s.Deliveries = max(s.Deliveries, s.Latency.Count)
	s.Duplicates = min(s.Duplicates, s.Deliveries)
	s.Requests = max(s.Requests, s.Deliveries+s.Hung)
	return s
}

func fromNS(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// Reset forgets everything received. Call it while no requests arrive.
func (r *Receiver) Reset() {
	for _, c := range []*atomic.Uint64{&r.requests, &r.deliveries, &r.duplicates, &r.hung, &r.bad, &r.bodyBytes} {
		c.Store(0)
	}
	r.first.Store(0)
	r.last.Store(0)
	r.latency.Reset()
	r.pathsMu.Lock()
	r.paths = make(map[string]*pathCounter)
	r.pathsMu.Unlock()
	for i := range r.seen {
		r.seen[i].mu.Lock()
		r.seen[i].set = make(map[uint64]struct{})
		r.seen[i].mu.Unlock()
	}
}

// ControlHandler serves GET /stats and POST /reset.
func (r *Receiver) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(r.Stats())
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) {
		r.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// runReceive is "hookd-bench receive": serve until ctx ends.
func runReceive(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("hookd-bench receive", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	addr := fs.String("addr", "127.0.0.1:0", "HTTPS address to receive webhooks on")
	controlAddr := fs.String("control-addr", "127.0.0.1:0", "plain-HTTP address of GET /stats and POST /reset")
	certFile := fs.String("cert-file", "", "write the receiver's self-signed certificate (PEM) here (required)")
	hangFor := fs.Duration("hang", 6*time.Second, "how long requests to /hang/… wait before the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *certFile == "" {
		return errors.New("--cert-file is required")
	}
	cert, certPEM, err := selfSignedCert()
	if err != nil {
		return err
	}
	if err := os.WriteFile(*certFile, certPEM, 0o600); err != nil {
		return fmt.Errorf("write certificate: %w", err)
	}
	rcv := NewReceiver(*hangFor)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	cln, err := net.Listen("tcp", *controlAddr)
	if err != nil {
		ln.Close()
		return err
	}
	quiet := log.New(io.Discard, "", 0) // TLS handshakes cut by hookd's timeouts are expected
	srv := &http.Server{
		Handler:           rcv,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          quiet,
	}
	ctl := &http.Server{Handler: rcv.ControlHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: quiet}
	errc := make(chan error, 2)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	go func() { errc <- ctl.Serve(cln) }()
	fmt.Fprintf(env.Stdout, "%s https=%s control=%s pid=%d\n", receiverLinePrefix, ln.Addr(), cln.Addr(), os.Getpid())

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	srv.Shutdown(shutCtx)
	ctl.Shutdown(shutCtx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
