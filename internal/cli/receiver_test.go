package cli_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

// received is one request a receiver got.
type received struct {
	N        int // 1-based, in arrival order
	Path     string
	Header   http.Header
	Body     []byte
	At       time.Time
	Verified error // the signature check against the endpoint secret
}

// reply is what a receiver answers; the zero value is 200.
type reply struct {
	Status int
	Header map[string]string
	Body   string
	// Wait blocks the answer until the channel closes (a hanging receiver).
	Wait <-chan struct{}
}

// receiver is a real HTTPS server on loopback that records what hookd
// sends and answers as the test says.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu          sync.Mutex
	verifier    *webhook.Verifier
	all         []*received
	respond     func(n int) reply
	inflight    int
	maxInflight int
	taken       int // all[:taken] were handed to the test

	// arrived gets a token when a request is recorded. Requests queue
	// without bound in all, so a test that reads them late never makes the
	// receiver slow to answer (which hookd would see as timeouts).
	arrived chan struct{}
}

func newReceiver(t *testing.T, respond func(n int) reply) *receiver {
	t.Helper()
	r := &receiver{t: t, respond: respond, arrived: make(chan struct{}, 1)}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// always answers every request with the same reply.
func always(rep reply) func(int) reply { return func(int) reply { return rep } }

func (r *receiver) URL() string { return r.srv.URL + "/hooks" }

func (r *receiver) setSecret(keys ...string) {
	v, err := webhook.NewVerifier(keys, nil)
	if err != nil {
		r.t.Fatalf("verifier: %v", err)
	}
	r.mu.Lock()
	r.verifier = v
	r.mu.Unlock()
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	rec := &received{N: len(r.all) + 1, Path: req.URL.Path, Header: req.Header.Clone(), Body: body, At: time.Now()}
	if r.verifier != nil {
		rec.Verified = r.verifier.Verify(req.Header, body)
	}
	r.all = append(r.all, rec)
	r.inflight++
	r.maxInflight = max(r.maxInflight, r.inflight)
	respond := r.respond
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inflight--
		r.mu.Unlock()
	}()
	select {
	case r.arrived <- struct{}{}:
	default: // a token is already waiting
	}

	rep := reply{}
	if respond != nil {
		rep = respond(rec.N)
	}
	if rep.Wait != nil {
		select {
		case <-rep.Wait:
		case <-req.Context().Done():
			panic(http.ErrAbortHandler) // answer nothing at all
		}
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	if rep.Status == 0 {
		rep.Status = http.StatusOK
	}
	w.WriteHeader(rep.Status)
	io.WriteString(w, rep.Body)
}

// take returns the oldest request not yet taken, waiting for one until
// timeout fires; ok is false if none came.
func (r *receiver) take(timeout <-chan time.Time) (rec *received, ok bool) {
	for {
		r.mu.Lock()
		if r.taken < len(r.all) {
			rec = r.all[r.taken]
			r.taken++
			r.mu.Unlock()
			return rec, true
		}
		r.mu.Unlock()
		select {
		case <-r.arrived:
		case <-timeout:
			return nil, false
		}
	}
}

// next returns the next request, failing the test after 20 s.
func (r *receiver) next() *received {
	r.t.Helper()
	rec, ok := r.take(time.After(20 * time.Second))
	if !ok {
		r.t.Fatalf("receiver %s: no request within 20s", r.srv.URL)
	}
	return rec
}

// none asserts no request arrives within d.
func (r *receiver) none(d time.Duration) {
	r.t.Helper()
	if rec, ok := r.take(time.After(d)); ok {
		r.t.Fatalf("receiver got an unexpected request: %s", rec.Body)
	}
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.all)
}

// countFor returns how many requests carried webhook-id id.
func (r *receiver) countFor(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.all {
		if rec.Header.Get(webhook.HeaderID) == id {
			n++
		}
	}
	return n
}

// paths returns the path of every request received.
func (r *receiver) paths() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.all))
	for i, rec := range r.all {
		out[i] = rec.Path
	}
	return out
}

// waitEach waits until the receiver got each of ids (webhook-id) at least
// once, polling until within has passed; it returns how many never came.
func (r *receiver) waitEach(ids []string, within time.Duration) (missing int) {
	deadline := time.Now().Add(within)
	for {
		missing = 0
		for _, id := range ids {
			if r.countFor(id) == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *receiver) peak() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxInflight
}

// drain returns the requests received and not yet taken.
func drain(r *receiver) []*received {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.all[r.taken:])
	r.taken = len(r.all)
	return out
}
