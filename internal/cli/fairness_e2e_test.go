package cli_test

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/webhook"
)

// One account with 50 endpoints that never answer, and a steady flow of
// events to them, cannot starve another account: its healthy endpoint's
// deliveries keep their normal latency (docs/delivery.md, isolation).
//
// "Normal" is measured in the same run: two nodes with the same settings
// run side by side in this process, each with a healthy account, and only
// one of them also serves the hostile account. The healthy events go to
// both in turn, so a busy machine slows both alike, and what differs is
// what the hostile account does to the other one on its node.
//
// The test is not parallel: it compares latencies, so it runs alone in
// this package.
func TestAccountCannotStarveAnother(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { testAccountCannotStarveAnother(t, backend) })
	}
}

func testAccountCannotStarveAnother(t *testing.T, backend string) {
	node := func() *bundle {
		var db string
		if backend == "postgres" {
			db = postgresDB(t)
		}
		return start(t, func(c *config.Config) {
			c.DB = db
			c.DBMaxConns = 6 // two nodes share the test server's connections with other tests
			// --concurrency 256, --endpoint-concurrency 10 and
			// --account-concurrency stay at their defaults: 50 hanging
			// endpoints would want 500 slots.
			c.AttemptTimeout = 2 * time.Second
			c.DisableAfter = 0 // the hanging endpoints stay enabled, and keep taking slots
			// One attempt each: the hostile backlog stays a few thousand rows
			// (it grows by what the account's slots cannot take), enough to
			// starve the other account without them, and the test stays cheap.
			c.MaxRetries = 0
			c.AllowHTTP = true // for the hanging receiver; see newPlainReceiver
		})
	}
	const accountLimit = 64 // the default --account-concurrency with --concurrency 256
	quiet, loud := newProbe(t, node()), newProbe(t, node())

	hang := make(chan struct{})
	hostile := newPlainReceiver(t, always(reply{Wait: hang}))
	t.Cleanup(func() { close(hang) }) // before the receiver closes
	b := loud.b
	hostileAcc, host := b.account()
	for i := range 50 {
		b.endpoint(host, nil, client.CreateEndpointParams{URL: fmt.Sprintf("%s/hooks/%d", hostile.srv.URL, i)})
	}
	stop := make(chan struct{})
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		hostileErr error
		hostileN   int
	)
	wg.Add(1)
	go func() {
		// 4 events a second: 200 deliveries a second, each holding a
		// worker for 2 s, want 400 workers, where there are 256.
		defer wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			_, err := b.admin.SubmitEvent(b.ctx, client.SubmitEventParams{AccountID: hostileAcc.ID, Event: "call.received",
				Data: example("call.received")})
			mu.Lock()
			hostileN++
			if err != nil && hostileErr == nil {
				hostileErr = err
			}
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	stopHostile := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopHostile()
	// The hostile account holds all the slots it may get, and the first of
	// them have timed out and been taken again: its backlog is due.
	for range 2 * accountLimit {
		if _, ok := hostile.take(time.After(20 * time.Second)); !ok {
			t.Fatalf("the hanging endpoints got %d requests in 20s, want %d", hostile.count(), 2*accountLimit)
		}
	}

	for range 100 { // 10 ms apart: pacing, not synchronisation
		quiet.send()
		loud.send()
		time.Sleep(10 * time.Millisecond)
	}
	base, loaded := quiet.collect(), loud.collect()
	stopHostile()
	if hostileErr != nil {
		t.Fatalf("submitting to the hostile account: %v", hostileErr)
	}

	p50, p99 := percentile(base, 0.50), percentile(base, 0.99)
	lp50, lp99 := percentile(loaded, 0.50), percentile(loaded, 0.99)
	t.Logf("%s: healthy accept→arrival p50 %v p99 %v alone; p50 %v p99 %v beside 50 hanging endpoints "+
		"(%d hostile events, %d hostile requests, at most %d at once)",
		backend, p50, p99, lp50, lp99, hostileN, hostile.count(), hostile.peak())

	// The receiver counts a request in flight until it sees its connection
	// close, a moment after hookd gave the attempt up and freed the slot,
	// so on a busy machine a few abandoned requests overlap their
	// successors. Without the limit the account takes every worker (256).
	if p, bound := hostile.peak(), accountLimit+accountLimit/8; p > bound {
		t.Errorf("the hostile account had %d attempts in flight at once; its limit is %d (%d allowing for closes the receiver sees late)",
			p, accountLimit, bound)
	}
	// The core assertion: the healthy deliveries did not wait behind the
	// hostile account. Waiting behind it costs at least one attempt
	// timeout (2 s: a slot frees only when a hanging attempt ends) and, in
	// queue order behind its backlog, far more. The bound is 2× the p99
	// without the hostile account, as issue 10 asks, but never under that
	// + 500 ms: without it the p99 is a few milliseconds, where 2× would
	// measure scheduling noise on a shared 2-core machine (the hostile
	// node also writes 200 deliveries and opens 32 connections a second,
	// and the race detector slows all of it), while 500 ms is still well
	// under the 2 s that any starvation costs.
	limit := max(2*p99, p99+500*time.Millisecond)
	if lp99 > limit {
		t.Errorf("beside the hostile account the healthy endpoint's p99 was %v (p50 %v); without it %v: want at most %v",
			lp99, lp50, p99, limit)
	}
}

// newPlainReceiver is a receiver over plain HTTP (with --allow-http): a
// hanging receiver costs hookd a new connection per attempt, and TLS
// handshakes by the thousand would only measure the machine's CPU.
func newPlainReceiver(t *testing.T, respond func(n int) reply) *receiver {
	t.Helper()
	r := &receiver{t: t, respond: respond, arrived: make(chan struct{}, 1)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// probe measures how long a healthy endpoint's deliveries take, from the
// event's acceptance (the 202: its transaction has committed) to its
// arrival at the receiver. The time to commit is left out: on SQLite it
// is the wait for the one writer, which the other account's events share
// whatever the dispatcher does. A delivery that arrives before the client
// has read the 202 counts as 0.
type probe struct {
	b       *bundle
	account string
	rcv     *receiver
	sent    map[string]time.Time // event id → when accepted
}

// newProbe gives the node an account with one healthy endpoint, and opens
// the connection to it.
func newProbe(t *testing.T, b *bundle) *probe {
	t.Helper()
	p := &probe{b: b, rcv: newReceiver(t, always(reply{})), sent: map[string]time.Time{}}
	acc, c := b.account()
	p.account = acc.ID
	b.endpoint(c, p.rcv, client.CreateEndpointParams{})
	b.send(p.account, "sms.received")
	p.rcv.next()
	return p
}

func (p *probe) send() {
	res := p.b.send(p.account, "sms.received")
	p.sent[res.ID] = time.Now()
}

// collect returns the latency of each event sent, sorted. An event still
// missing 15 s after the call counts as its whole wait, and fails the test.
func (p *probe) collect() []time.Duration {
	p.b.t.Helper()
	n := len(p.sent)
	out := make([]time.Duration, 0, n)
	deadline := time.Now().Add(15 * time.Second)
	timeout := time.After(time.Until(deadline))
	for len(p.sent) > 0 {
		rec, ok := p.rcv.take(timeout)
		if !ok {
			break
		}
		id := rec.Header.Get(webhook.HeaderID)
		if at, ok := p.sent[id]; ok {
			out = append(out, max(rec.At.Sub(at), 0))
			delete(p.sent, id)
		}
	}
	if len(p.sent) > 0 {
		p.b.t.Errorf("%d of %d healthy deliveries had not arrived after 15s", len(p.sent), n)
		for _, at := range p.sent {
			out = append(out, deadline.Sub(at))
		}
		clear(p.sent)
	}
	slices.Sort(out)
	return out
}

// percentile returns the p-th percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(float64(len(sorted))*p)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
