package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/config"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// producer submits events through the API with plain HTTP, so that it sees
// every status and header, and retries each event on 503 with the same
// idempotency key until it is accepted: a client that retries on 503 must
// lose nothing.
type producer struct {
	t         *testing.T
	url       string
	accountID string
	http      *http.Client

	mu        sync.Mutex
	accepted  map[string]string // idempotency key → event id
	statuses  map[int]int       // status → answers
	unshaped  []string          // error answers without the JSON error shape
	noRetry   int               // 503s without a Retry-After in seconds
	slowest   time.Duration     // the longest answer
	stop      chan struct{}
	done      chan struct{}
	firstDown chan struct{} // closed at the first 503
	downOnce  sync.Once
}

func newProducer(t *testing.T, url, accountID string) *producer {
	return &producer{t: t, url: url, accountID: accountID, http: &http.Client{Timeout: 60 * time.Second},
		accepted: map[string]string{}, statuses: map[int]int{},
		stop: make(chan struct{}), done: make(chan struct{}), firstDown: make(chan struct{})}
}

// submit makes one POST /v1/events with key and returns the status and,
// when accepted, the event id.
func (p *producer) submit(key string) (int, string) {
	body, _ := json.Marshal(map[string]any{"account_id": p.accountID, "event": "sms.received", "data": example("sms.received")})
	req, _ := http.NewRequest(http.MethodPost, p.url+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	start := time.Now()
	resp, err := p.http.Do(req)
	took := time.Since(start)
	if err != nil {
		p.t.Errorf("POST /v1/events: %v", err)
		return 0, ""
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.statuses[resp.StatusCode]++
	p.slowest = max(p.slowest, took)
	if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
		var res struct{ ID string }
		if err := json.Unmarshal(data, &res); err != nil || res.ID == "" {
			p.t.Errorf("POST /v1/events %d: body %s", resp.StatusCode, data)
		}
		return resp.StatusCode, res.ID
	}
	var eb struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(data, &eb) != nil || eb.Error.Code == "" || eb.Error.Message == "" {
		p.unshaped = append(p.unshaped, fmt.Sprintf("%d %s", resp.StatusCode, data))
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || n < 1 || eb.Error.Code != "unavailable" {
			p.noRetry++
		}
		p.downOnce.Do(func() { close(p.firstDown) })
	}
	return resp.StatusCode, ""
}

// run submits events one after another until stop is called; each is
// retried on 503 until accepted. Other statuses fail the test.
func (p *producer) run() {
	go func() {
		defer close(p.done)
		for i := 0; ; i++ {
			key := fmt.Sprintf("outage-%d", i)
			for {
				status, id := p.submit(key)
				if id != "" {
					p.mu.Lock()
					p.accepted[key] = id
					p.mu.Unlock()
					break
				}
				if status != http.StatusServiceUnavailable {
					p.t.Errorf("POST /v1/events answered %d, want 202 or 503", status)
					return
				}
				time.Sleep(20 * time.Millisecond) // a real client waits Retry-After; a test need not
			}
			select {
			case <-p.stop:
				return
			default:
			}
		}
	}()
}

// finish stops the producer after the event under way is accepted, and
// checks every error answer it got.
func (p *producer) finish() map[string]string {
	p.t.Helper()
	close(p.stop)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Fatal("the producer did not get its last event accepted within 60 s")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.statuses[http.StatusInternalServerError] > 0 {
		p.t.Errorf("%d answers were 500; an outage must answer 503", p.statuses[http.StatusInternalServerError])
	}
	if len(p.unshaped) > 0 {
		p.t.Errorf("%d error answers lack the JSON error shape, e.g. %s", len(p.unshaped), p.unshaped[0])
	}
	if p.noRetry > 0 {
		p.t.Errorf("%d answers 503 lacked code unavailable or Retry-After in seconds", p.noRetry)
	}
	p.t.Logf("producer: statuses %v, %d events accepted, slowest answer %v", p.statuses, len(p.accepted), p.slowest)
	return p.accepted
}

// readyz returns the status of GET /readyz and how long it took.
func readyz(t *testing.T, url string) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
		t.Errorf("GET /readyz 503 without Retry-After")
	}
	return resp.StatusCode, took
}

// waitReady polls /readyz until it answers want; every answer must come
// within bound.
func waitReady(t *testing.T, url string, want int, within, bound time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		status, took := readyz(t, url)
		if took > bound {
			t.Errorf("GET /readyz took %v, want at most %v", took, bound)
		}
		if status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /readyz = %d after %v, want %d", status, within, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitDelivered waits until the receiver got every accepted event, and
// returns how many requests arrived beyond one per event.
func waitDelivered(t *testing.T, rcv *receiver, accepted map[string]string) int {
	t.Helper()
	ids := make([]string, 0, len(accepted))
	for _, id := range accepted {
		ids = append(ids, id)
	}
	if missing := rcv.waitEach(ids, 60*time.Second); missing > 0 {
		t.Fatalf("%d of %d accepted events were never delivered", missing, len(accepted))
	}
	return rcv.count() - len(accepted)
}

// filler keeps a filesystem full, as another process writing to the same
// disk would: whatever space a rollback or a truncated log gives back is
// taken again at once, until free is called.
type filler struct {
	path string
	stop chan struct{}
	done chan struct{}
	full chan struct{} // closed once the disk was first full
}

func fill(t *testing.T, dir string) *filler {
	t.Helper()
	f := &filler{path: filepath.Join(dir, "filler"), stop: make(chan struct{}), done: make(chan struct{}), full: make(chan struct{})}
	file, err := os.Create(f.path)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(f.done)
		defer file.Close()
		buf := make([]byte, 64<<10)
		first := true
		for {
			// Big writes while they fit, then small ones for the last
			// partial blocks.
			for size := len(buf); size >= 512; size /= 8 {
				for {
					if _, err := file.Write(buf[:size]); err != nil {
						break
					}
				}
			}
			if first {
				close(f.full)
				first = false
			}
			select {
			case <-f.stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	select {
	case <-f.full:
	case <-time.After(30 * time.Second):
		t.Fatal("the disk did not fill within 30 s")
	}
	return f
}

// free stops filling and deletes the filler.
func (f *filler) free(t *testing.T) {
	t.Helper()
	close(f.stop)
	<-f.done
	if err := os.Remove(f.path); err != nil {
		t.Fatal(err)
	}
}

// SQLite on a full disk: POST /v1/events answers 503 unavailable with
// Retry-After (never 500), /readyz answers 503 quickly; once space is
// freed both recover without a restart, and every event answered 202 is
// delivered.
func TestOutageSQLiteDiskFull(t *testing.T) {
	// Room for the database and its write-ahead log, which runs up to
	// 64 MiB before it starts over (see docs/deployment.md).
	dir := mountTmpfs(t, 128<<20)
	b := start(t, func(c *config.Config) { c.DB = "sqlite:" + filepath.Join(dir, "hookd.db") })
	rcv := newReceiver(t, nil)
	acc, c := b.account()
	b.endpoint(c, rcv, client.CreateEndpointParams{})
	waitReady(t, b.url, http.StatusOK, 5*time.Second, 2*time.Second)

	p := newProducer(t, b.url, acc.ID)
	p.run()
	disk := fill(t, dir)
	select {
	case <-p.firstDown:
	case <-time.After(30 * time.Second):
		disk.free(t)
		p.finish()
		t.Fatal("no 503 within 30 s of filling the disk")
	}
	waitReady(t, b.url, http.StatusServiceUnavailable, 10*time.Second, 2*time.Second)

	disk.free(t)
	waitReady(t, b.url, http.StatusOK, 20*time.Second, 2*time.Second)
	accepted := p.finish()
	if p.statuses[http.StatusServiceUnavailable] == 0 {
		t.Fatal("no 503 while the disk was full")
	}
	extra := waitDelivered(t, rcv, accepted)
	t.Logf("%d events delivered, %d duplicate deliveries", len(accepted), extra)
}

// pgProxy is a toxiproxy, in process, between hookd and PostgreSQL.
type pgProxy struct {
	t     *testing.T
	proxy *toxiproxy.Proxy
}

func newPGProxy(t *testing.T, upstream string) *pgProxy {
	t.Helper()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "postgres", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatalf("start toxiproxy: %v", err)
	}
	t.Cleanup(p.Stop)
	return &pgProxy{t: t, proxy: p}
}

// toxic adds a toxic, on both directions unless stream says one.
func (p *pgProxy) toxic(name, typ, stream string, attrs map[string]any) {
	p.t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "type": typ, "stream": stream, "attributes": attrs})
	if _, err := p.proxy.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
		p.t.Fatalf("add toxic %s: %v", name, err)
	}
}

func (p *pgProxy) remove(name string) {
	p.t.Helper()
	if err := p.proxy.Toxics.RemoveToxic(context.Background(), name); err != nil {
		p.t.Fatalf("remove toxic %s: %v", name, err)
	}
}

// PostgreSQL behind a faulty network (toxiproxy: latency, resets, a
// blackhole, a trickle of bandwidth, the server gone) and with its
// backends terminated: POST /v1/events answers 202 or 503 unavailable with
// Retry-After, never 500, within the request bound; /readyz answers 503
// within its bound while the database is out and 200 again by itself
// after; every accepted event is delivered, with duplicates bounded by the
// attempts that were in flight.
func TestOutagePostgres(t *testing.T) {
	db := postgresDB(t)
	dbURL, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newPGProxy(t, dbURL.Host)
	viaProxy := *dbURL
	viaProxy.Host = proxy.proxy.Listen
	const concurrency = 8
	b := start(t, func(c *config.Config) {
		c.DB = viaProxy.String()
		c.DBStatementTimeout = time.Second
		c.Concurrency = concurrency
	})
	// The request bound: statement timeout + attempt timeout + 2 s.
	requestBound := b.cfg.DBStatementTimeout + b.cfg.AttemptTimeout + 2*time.Second
	rcv := newReceiver(t, nil)
	acc, c := b.account()
	b.endpoint(c, rcv, client.CreateEndpointParams{})
	waitReady(t, b.url, http.StatusOK, 5*time.Second, 2*time.Second)

	p := newProducer(t, b.url, acc.ID)
	p.run()
	ctx := context.Background()
	// progress waits until the producer has n more events accepted.
	progress := func(what string, n int) {
		t.Helper()
		p.mu.Lock()
		want := len(p.accepted) + n
		p.mu.Unlock()
		deadline := time.Now().Add(30 * time.Second)
		for {
			p.mu.Lock()
			got := len(p.accepted)
			p.mu.Unlock()
			if got >= want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the producer had %d events accepted, want %d", what, got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// outage runs fault, checks that hookd says so, then heals and checks
	// that it recovers by itself.
	outage := func(what string, fault, heal func()) {
		t.Helper()
		t.Logf("%s: on", what)
		fault()
		waitReady(t, b.url, http.StatusServiceUnavailable, 10*time.Second, 2*time.Second)
		time.Sleep(requestBound) // every request under way meets the fault
		if status, took := readyz(t, b.url); status != http.StatusServiceUnavailable || took > 2*time.Second {
			t.Errorf("%s: GET /readyz = %d in %v, want 503 within 2 s", what, status, took)
		}
		t.Logf("%s: healed", what)
		heal()
		waitReady(t, b.url, http.StatusOK, 20*time.Second, 2*time.Second)
		progress(what+", healed", 20)
	}

	progress("before the faults", 20)

	// Latency slows everything down but breaks nothing.
	proxy.toxic("latency", "latency", "downstream", map[string]any{"latency": 100, "jitter": 20})
	progress("100 ms latency", 10)
	proxy.remove("latency")

	outage("connections reset", func() {
		proxy.toxic("reset", "reset_peer", "upstream", map[string]any{"timeout": 0})
	}, func() { proxy.remove("reset") })

	outage("blackhole", func() {
		proxy.toxic("blackhole", "timeout", "upstream", map[string]any{"timeout": 0})
	}, func() { proxy.remove("blackhole") })

	// A trickle of bandwidth slows answers down; hookd's are small, so
	// they still come, and /readyz still answers within its bound.
	proxy.toxic("slow", "bandwidth", "downstream", map[string]any{"rate": 1})
	progress("1 KB/s bandwidth", 5)
	if _, took := readyz(t, b.url); took > 2*time.Second {
		t.Errorf("1 KB/s bandwidth: GET /readyz took %v, want at most 2 s", took)
	}
	proxy.remove("slow")

	outage("server down", proxy.proxy.Stop, func() {
		if err := proxy.proxy.Start(); err != nil {
			t.Fatalf("restart toxiproxy: %v", err)
		}
	})

	// Terminated backends (only this test's database's): the pool
	// replaces them.
	admin, err := pgx.Connect(ctx, os.Getenv("HOOKD_TEST_POSTGRES_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for range 3 {
		var n int
		if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid()`, strings.TrimPrefix(dbURL.Path, "/")).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Error("pg_terminate_backend found none of hookd's backends")
		}
		progress("after pg_terminate_backend", 10)
	}
	waitReady(t, b.url, http.StatusOK, 10*time.Second, 2*time.Second)

	accepted := p.finish()
	if p.slowest > requestBound+2*time.Second {
		t.Errorf("the slowest POST /v1/events took %v, want at most %v", p.slowest, requestBound+2*time.Second)
	}
	extra := waitDelivered(t, rcv, accepted)
	// Each fault can cost at most the attempts in flight a second try
	// (their results could not be written); there were 4 faults, a trickle
	// of bandwidth and 3 rounds of terminations.
	if limit := 8 * concurrency; extra > limit {
		t.Errorf("%d duplicate deliveries, want at most %d (attempts in flight × faults)", extra, limit)
	}
	t.Logf("%d events delivered, %d duplicate deliveries", len(accepted), extra)
}
