package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/postgres"
	"github.com/hookd/hookd/internal/store/storetest"
)

// TestMain checks that closed stores leave no goroutine behind (the
// listener, the notifier, the pool's health checks).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// t0 is the tests' clock origin.
var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// testURL returns the database the tests may use, or skips.
func testURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("HOOKD_TEST_POSTGRES_URL")
	if u == "" {
		tb.Skip("set HOOKD_TEST_POSTGRES_URL=postgres://… to run the PostgreSQL tests")
	}
	return u
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// admin connects to dbURL for setup and checks; closed when tb ends.
func admin(tb testing.TB, dbURL string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// newSchema names a schema that does not exist yet (Open creates it) and
// drops it when tb ends, after the stores opened later are closed.
func newSchema(tb testing.TB, dbURL string) string {
	tb.Helper()
	name := randomName("hookd_test_")
	tb.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// newDatabase creates a database, dropped when tb ends, and returns its URL.
func newDatabase(tb testing.TB, baseURL string) string {
	tb.Helper()
	ctx := context.Background()
	name := randomName("hookd_test_")
	conn := admin(tb, baseURL)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, baseURL)
		if err != nil {
			tb.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(baseURL)
	if err != nil {
		tb.Fatalf("parse %s: %v", baseURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

func mustOpen(tb testing.TB, dbURL, schema string, opts ...func(*postgres.Options)) *postgres.Store {
	tb.Helper()
	o := postgres.Options{Schema: schema, MaxConns: 8}
	for _, f := range opts {
		f(&o)
	}
	s, err := postgres.Open(context.Background(), dbURL, o)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	dbURL := testURL(t)
	storetest.Exercise(t, func(t *testing.T) store.Store {
		return mustOpen(t, dbURL, newSchema(t, dbURL))
	})
}

// fixture creates what most tests need through s.
type fixture struct {
	t   testing.TB
	s   store.Store
	ctx context.Context
}

func (f *fixture) account() *hook.Account {
	f.t.Helper()
	a := &hook.Account{ID: hook.NewIDAt(hook.PrefixAccount, t0), Name: "Acme", CreatedAt: t0}
	if err := f.s.AccountCreate(f.ctx, a, []byte(a.ID)); err != nil {
		f.t.Fatalf("AccountCreate: %v", err)
	}
	return a
}

func (f *fixture) endpoint(a *hook.Account) *hook.Endpoint {
	f.t.Helper()
	e := &hook.Endpoint{
		ID: hook.NewIDAt(hook.PrefixEndpoint, t0), AccountID: a.ID, URL: "https://example.com/hook",
		EventTypes: []string{"*"}, Signing: hook.SigningHMAC, Enabled: true, CreatedAt: t0, UpdatedAt: t0,
		Keys: []hook.Key{{Value: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: t0}},
	}
	if err := f.s.EndpointCreate(f.ctx, e); err != nil {
		f.t.Fatalf("EndpointCreate: %v", err)
	}
	return e
}

func (f *fixture) event(a *hook.Account) *store.EventCreateResult {
	f.t.Helper()
	r, err := f.s.EventCreate(f.ctx, &store.EventCreateParams{Event: newEvent(a)})
	if err != nil {
		f.t.Fatalf("EventCreate: %v", err)
	}
	return r
}

func newEvent(a *hook.Account) *hook.Event {
	id := hook.NewIDAt(hook.PrefixEvent, t0)
	return &hook.Event{ID: id, AccountID: a.ID, Type: "call.received", CreatedAt: t0,
		Body: hook.EncodeEnvelope(id, "call.received", t0, a.ID, []byte(`{"n":1}`))}
}

func claim(tb testing.TB, s store.Store, now time.Time, limit int) []*store.Claim {
	tb.Helper()
	cl, err := s.DeliveryClaim(context.Background(), &store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Hour), Limit: limit})
	if err != nil {
		tb.Fatalf("DeliveryClaim: %v", err)
	}
	return cl
}

func result(c *store.Claim, ok bool, at time.Time) *hook.Result {
	r := &hook.Result{DeliveryID: c.Delivery.ID, Lease: c.Lease, OK: ok, Attempt: hook.Attempt{
		ID: hook.NewIDAt(hook.PrefixAttempt, at), Trigger: c.Delivery.Trigger, StartedAt: at, StatusCode: 200}}
	if !ok {
		r.Attempt.StatusCode, r.Attempt.Error = 500, "http_status: 500 Internal Server Error"
	}
	return r
}

func count(tb testing.TB, conn *pgx.Conn, q string, args ...any) int {
	tb.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	dbURL := testURL(t)
	schema := newSchema(t, dbURL)
	ctx := context.Background()

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := postgres.Open(ctx, dbURL, postgres.Options{Schema: schema, MaxConns: 2})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open #%d: %v", i, err)
		}
	}
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	conn := admin(t, dbURL)
	table := pgx.Identifier{schema, "schema_migrations"}.Sanitize()
	if got := count(t, conn, `SELECT count(*) FROM `+table); got != len(files) {
		t.Errorf("schema_migrations has %d rows, want %d", got, len(files))
	}
	if err := postgres.Migrate(ctx, dbURL, postgres.Options{Schema: schema}); err != nil {
		t.Errorf("Migrate again: %v", err)
	}
	if got := count(t, conn, `SELECT count(*) FROM `+table); got != len(files) {
		t.Errorf("after a second Migrate, schema_migrations has %d rows, want %d", got, len(files))
	}

	// A schema newer than the binary is refused.
	if _, err := conn.Exec(ctx, `INSERT INTO `+table+` (version, applied_at) VALUES (9999, now())`); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, dbURL, postgres.Options{Schema: schema})
	if err == nil {
		s.Close()
		t.Fatal("Open of a database with a newer schema succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error = %v, want one saying the schema is newer", err)
	}
}

func TestClaimConcurrent(t *testing.T) {
	t.Parallel()
	dbURL := testURL(t)
	schema := newSchema(t, dbURL)
	nodes := []*postgres.Store{mustOpen(t, dbURL, schema), mustOpen(t, dbURL, schema)}
	f := &fixture{t: t, s: nodes[0], ctx: context.Background()}
	a := f.account()
	for range 10 {
		f.endpoint(a)
	}
	const events, want = 200, 2000
	for range events {
		f.event(a)
	}

	now := t0.Add(time.Minute)
	var (
		mu      sync.Mutex
		claimed = make(map[string]int)
		total   atomic.Int64
		wg      sync.WaitGroup
	)
	deadline := time.Now().Add(time.Minute)
	for _, s := range nodes {
		for range 4 {
			wg.Go(func() {
				ctx := context.Background()
				for total.Load() < want && time.Now().Before(deadline) {
					cl, err := s.DeliveryClaim(ctx, &store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Hour), Limit: 64})
					if err != nil {
						t.Errorf("DeliveryClaim: %v", err)
						return
					}
					if len(cl) == 0 {
						time.Sleep(time.Millisecond) // others hold the rest locked
						continue
					}
					rs := make([]*hook.Result, len(cl))
					mu.Lock()
					for i, c := range cl {
						claimed[c.Delivery.ID]++
						rs[i] = result(c, true, now)
					}
					mu.Unlock()
					total.Add(int64(len(cl)))
					if _, err := s.DeliveryComplete(ctx, &store.DeliveryCompleteParams{Results: rs, Now: now, DisableAfter: 3}); err != nil {
						t.Errorf("DeliveryComplete: %v", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if len(claimed) != want {
		t.Errorf("claimed %d distinct deliveries, want %d", len(claimed), want)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("delivery %s claimed %d times, want 1", id, n)
		}
	}
	conn := admin(t, dbURL)
	deliveries := pgx.Identifier{schema, "deliveries"}.Sanitize()
	if got := count(t, conn, `SELECT count(*) FROM `+deliveries+` WHERE status = 'succeeded' AND attempts = 1 AND lease = 0`); got != want {
		t.Errorf("succeeded deliveries with one attempt = %d, want %d", got, want)
	}
	if got := count(t, conn, `SELECT count(*) FROM `+pgx.Identifier{schema, "attempts"}.Sanitize()); got != want {
		t.Errorf("attempts = %d, want %d", got, want)
	}
}

func TestConsecutiveFailuresAcrossNodes(t *testing.T) {
	t.Parallel()
	dbURL := testURL(t)
	schema := newSchema(t, dbURL)
	nodes := []*postgres.Store{mustOpen(t, dbURL, schema), mustOpen(t, dbURL, schema)}
	ctx := context.Background()
	f := &fixture{t: t, s: nodes[0], ctx: ctx}
	now := t0.Add(time.Minute)
	const disableAfter = 3

	operatorMessages := func() int {
		t.Helper()
		msgs, err := nodes[1].OperatorClaim(ctx, &store.OperatorClaimParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 100})
		if err != nil {
			t.Fatalf("OperatorClaim: %v", err)
		}
		return len(msgs)
	}

	t.Run("Alternately", func(t *testing.T) {
		a := f.account()
		e := f.endpoint(a)
		for range 5 {
			f.event(a)
		}
		cl := claim(t, nodes[0], now, 10)
		if len(cl) != 5 {
			t.Fatalf("Claim() = %d, want 5", len(cl))
		}
		var disabled []store.DisabledEndpoint
		for i, c := range cl[:disableAfter] {
			res, err := nodes[i%2].DeliveryComplete(ctx, &store.DeliveryCompleteParams{
				Results: []*hook.Result{result(c, false, now)}, Now: now, DisableAfter: disableAfter, OperatorEvents: true})
			if err != nil {
				t.Fatalf("DeliveryComplete: %v", err)
			}
			got, err := nodes[(i+1)%2].EndpointGet(ctx, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ConsecutiveFailures != i+1 {
				t.Errorf("after failure %d: ConsecutiveFailures = %d, want %d", i+1, got.ConsecutiveFailures, i+1)
			}
			disabled = append(disabled, res.Disabled...)
		}
		if len(disabled) != 1 || disabled[0].EndpointID != e.ID {
			t.Errorf("Disabled = %+v, want %s once", disabled, e.ID)
		}
		for _, c := range cl[disableAfter:] {
			d, err := nodes[1].DeliveryGet(ctx, c.Delivery.ID)
			if err != nil || d.Status != hook.StatusCanceled {
				t.Errorf("delivery left in flight by the disable: %+v, %v; want canceled", d, err)
			}
		}
		if n := operatorMessages(); n != 1 {
			t.Errorf("operator messages = %d, want 1", n)
		}
	})

	t.Run("Concurrently", func(t *testing.T) {
		a := f.account()
		e := f.endpoint(a)
		const n = 20
		for range n {
			f.event(a)
		}
		cl := claim(t, nodes[0], now, n)
		if len(cl) != n {
			t.Fatalf("Claim() = %d, want %d", len(cl), n)
		}
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			disabled []store.DisabledEndpoint
		)
		for i, c := range cl {
			wg.Go(func() {
				res, err := nodes[i%2].DeliveryComplete(ctx, &store.DeliveryCompleteParams{
					Results: []*hook.Result{result(c, false, now)}, Now: now, DisableAfter: disableAfter, OperatorEvents: true})
				if err != nil {
					t.Errorf("DeliveryComplete: %v", err)
					return
				}
				mu.Lock()
				disabled = append(disabled, res.Disabled...)
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(disabled) != 1 {
			t.Errorf("Disabled = %+v, want one", disabled)
		}
		got, err := nodes[0].EndpointGet(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Enabled || got.ConsecutiveFailures != disableAfter {
			t.Errorf("endpoint: enabled=%v failures=%d, want disabled with %d", got.Enabled, got.ConsecutiveFailures, disableAfter)
		}
		statuses := map[string]int{}
		for _, c := range cl {
			d, err := nodes[1].DeliveryGet(ctx, c.Delivery.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d.Attempts != 1 {
				t.Errorf("delivery %s attempts = %d, want 1", d.ID, d.Attempts)
			}
			statuses[d.Status]++
		}
		if statuses[hook.StatusFailed] != disableAfter || statuses[hook.StatusCanceled] != n-disableAfter {
			t.Errorf("statuses = %v, want %d failed and %d canceled", statuses, disableAfter, n-disableAfter)
		}
		if n := operatorMessages(); n != 1 {
			t.Errorf("operator messages = %d, want 1", n)
		}
	})
}

// A disable waits for the events being created for its endpoint and
// cancels their deliveries: none stays pending.
func TestDisableDuringEventCreate(t *testing.T) {
	t.Parallel()
	dbURL := testURL(t)
	schema := newSchema(t, dbURL)
	nodes := []*postgres.Store{mustOpen(t, dbURL, schema), mustOpen(t, dbURL, schema)}
	ctx := context.Background()
	f := &fixture{t: t, s: nodes[0], ctx: ctx}
	a := f.account()
	e := f.endpoint(a)

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 40 {
				if _, err := nodes[i%2].EventCreate(ctx, &store.EventCreateParams{Event: newEvent(a)}); err != nil {
					t.Errorf("EventCreate: %v", err)
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	off := false
	if _, err := nodes[1].EndpointUpdate(ctx, &store.EndpointUpdateParams{ID: e.ID, Enabled: &off, Now: t0}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	conn := admin(t, dbURL)
	deliveries := pgx.Identifier{schema, "deliveries"}.Sanitize()
	if got := count(t, conn, `SELECT count(*) FROM `+deliveries+` WHERE status = 'pending'`); got != 0 {
		t.Errorf("pending deliveries of the disabled endpoint = %d, want 0", got)
	}
	if got := count(t, conn, `SELECT count(*) FROM `+deliveries+` WHERE status = 'canceled'`); got == 0 {
		t.Logf("the disable came after every event; nothing to cancel")
	}
}

func TestNotifyOtherNode(t *testing.T) {
	t.Parallel()
	dbURL := testURL(t)
	schema := newSchema(t, dbURL)
	first, second := mustOpen(t, dbURL, schema), mustOpen(t, dbURL, schema)
	other := mustOpen(t, dbURL, newSchema(t, dbURL)) // another schema: another channel
	f := &fixture{t: t, s: first, ctx: context.Background()}
	a := f.account()
	f.endpoint(a)
	drain(second, other)

	f.event(a)
	select {
	case <-second.WorkAvailable():
	case <-time.After(10 * time.Second):
		t.Fatal("second node: no WorkAvailable signal after the first node's EventCreate")
	}
	select {
	case <-other.WorkAvailable():
		t.Error("a store on another schema was signalled")
	case <-time.After(100 * time.Millisecond):
	}
}

// drain takes pending WorkAvailable signals.
func drain(ss ...*postgres.Store) {
	for _, s := range ss {
		select {
		case <-s.WorkAvailable():
		default:
		}
	}
}

// The store survives its backends being terminated: calls fail for a
// moment and then work again, and the listener reconnects.
func TestTerminatedBackends(t *testing.T) {
	t.Parallel()
	dbURL := newDatabase(t, testURL(t)) // terminating backends must not hit other tests
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s := mustOpen(t, dbURL, "", func(o *postgres.Options) { o.Logger = logger })
	producer := mustOpen(t, dbURL, "")
	f := &fixture{t: t, s: s, ctx: ctx}
	a := f.account()
	f.endpoint(a)
	var wg sync.WaitGroup
	for range 4 { // several pooled connections
		wg.Go(func() {
			if _, err := s.AccountGet(ctx, a.ID); err != nil {
				t.Errorf("AccountGet: %v", err)
			}
		})
	}
	wg.Wait()
	drain(s)

	conn := admin(t, dbURL)
	n := count(t, conn, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if n < 3 {
		t.Fatalf("terminated %d backends, want at least 3 (pool and listeners)", n)
	}

	failures := 0
	eventually(t, "AccountGet", func() error {
		_, err := s.AccountGet(ctx, a.ID)
		if err != nil {
			failures++
		}
		return err
	})
	t.Logf("AccountGet failed %d times after the backends were terminated", failures)

	select {
	case <-s.WorkAvailable(): // the listener's signal after reconnecting
	case <-time.After(15 * time.Second):
		t.Fatal("no WorkAvailable signal after the listener reconnected")
	}
	drain(s)
	eventually(t, "EventCreate on the other node", func() error {
		_, err := producer.EventCreate(ctx, &store.EventCreateParams{Event: newEvent(a)})
		return err
	})
	select {
	case <-s.WorkAvailable():
	case <-time.After(10 * time.Second):
		t.Fatal("no WorkAvailable signal from the other node after the listener reconnected")
	}
	var cl []*store.Claim
	eventually(t, "DeliveryClaim", func() error {
		var err error
		cl, err = s.DeliveryClaim(ctx, &store.DeliveryClaimParams{Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 10})
		return err
	})
	if len(cl) != 1 {
		t.Fatalf("Claim() = %d, want 1", len(cl))
	}
	if _, err := s.DeliveryComplete(ctx, &store.DeliveryCompleteParams{Results: []*hook.Result{result(cl[0], true, t0)}, Now: t0}); err != nil {
		t.Fatalf("DeliveryComplete: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// eventually calls fn until it succeeds, for at most 15 seconds.
func eventually(t *testing.T, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still fails: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Attempt text that PostgreSQL cannot store as is (NUL, invalid UTF-8)
// is stored with replacement characters rather than failing the batch.
func TestCompleteUnstorableText(t *testing.T) {
	t.Parallel()
	dbURL := testURL(t)
	s := mustOpen(t, dbURL, newSchema(t, dbURL))
	ctx := context.Background()
	f := &fixture{t: t, s: s, ctx: ctx}
	a := f.account()
	f.endpoint(a)
	f.event(a)
	c := claim(t, s, t0, 1)[0]
	r := result(c, false, t0)
	r.Attempt.ResponseBody = "bin\x00ary\xff"
	r.Attempt.Error = "http_status: 500 \xfe"
	r.Attempt.RequestHeaders = map[string]string{"x-nul": "a\x00b"}
	if _, err := s.DeliveryComplete(ctx, &store.DeliveryCompleteParams{Results: []*hook.Result{r}, Now: t0}); err != nil {
		t.Fatalf("DeliveryComplete: %v", err)
	}
	atts, err := s.AttemptList(ctx, &store.AttemptListParams{DeliveryID: c.Delivery.ID, Limit: 10})
	if err != nil || len(atts) != 1 {
		t.Fatalf("AttemptList = %d, %v; want 1", len(atts), err)
	}
	if got, want := atts[0].ResponseBody, "bin\uFFFDary\uFFFD"; got != want {
		t.Errorf("ResponseBody = %q, want %q", got, want)
	}
	if got, want := atts[0].RequestHeaders["x-nul"], "a\uFFFDb"; got != want {
		t.Errorf("header = %q, want %q", got, want)
	}
}

// A batch of results written again (its first commit was reported lost)
// records each attempt once.
func TestCompleteTwice(t *testing.T) {
	t.Parallel()
	dbURL := testURL(t)
	s := mustOpen(t, dbURL, newSchema(t, dbURL))
	ctx := context.Background()
	f := &fixture{t: t, s: s, ctx: ctx}
	a := f.account()
	e := f.endpoint(a)
	f.event(a)
	c := claim(t, s, t0, 1)[0]
	p := &store.DeliveryCompleteParams{Results: []*hook.Result{result(c, false, t0)}, Now: t0, DisableAfter: 3}
	for range 2 {
		if _, err := s.DeliveryComplete(ctx, p); err != nil {
			t.Fatalf("DeliveryComplete: %v", err)
		}
	}
	d, err := s.DeliveryGet(ctx, c.Delivery.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Attempts != 1 || d.Status != hook.StatusFailed {
		t.Errorf("delivery: attempts=%d status=%s, want 1 failed", d.Attempts, d.Status)
	}
	if got, _ := s.EndpointGet(ctx, e.ID); got.ConsecutiveFailures != 1 {
		t.Errorf("ConsecutiveFailures = %d, want 1", got.ConsecutiveFailures)
	}
}

func TestOpenBadURL(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s, err := postgres.Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", postgres.Options{}); err == nil {
		s.Close()
		t.Fatal("Open of an unreachable database succeeded, want an error")
	}
}

// BenchmarkClaimComplete claims and completes batches of 256 deliveries
// spread over 16 endpoints.
func BenchmarkClaimComplete(b *testing.B) {
	dbURL := testURL(b)
	schema := newSchema(b, dbURL)
	s := mustOpen(b, dbURL, schema)
	ctx := context.Background()
	f := &fixture{t: b, s: s, ctx: ctx}
	a := f.account()
	var endpoints []string
	for range 16 {
		endpoints = append(endpoints, f.endpoint(a).ID)
	}
	conn := admin(b, dbURL)
	if _, err := conn.Exec(ctx, `SET search_path = `+pgx.Identifier{schema}.Sanitize()); err != nil {
		b.Fatal(err)
	}
	const batch = 256
	now := t0.Add(time.Minute)
	body := []byte(`{"id":"evt","event":"call.received","data":{}}`)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		var evIDs, dIDs, dEvents, dEndpoints []string
		for range batch / len(endpoints) {
			ev := hook.NewIDAt(hook.PrefixEvent, t0)
			evIDs = append(evIDs, ev)
			for _, ep := range endpoints {
				dIDs, dEvents, dEndpoints = append(dIDs, hook.NewIDAt(hook.PrefixDelivery, t0)), append(dEvents, ev), append(dEndpoints, ep)
			}
		}
		if _, err := conn.Exec(ctx, `INSERT INTO events (id, account_id, type, body, created_at)
			SELECT id, $2, 'call.received', $3, $4 FROM unnest($1::text[]) AS id`, evIDs, a.ID, body, t0); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO deliveries (id, event_id, endpoint_id, account_id, trigger, status,
				next_attempt_at, created_at, updated_at)
			SELECT u.id, u.ev, u.ep, $4, 'scheduled', 'pending', $5, $5, $5
			FROM unnest($1::text[], $2::text[], $3::text[]) AS u (id, ev, ep)`, dIDs, dEvents, dEndpoints, a.ID, t0); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		got := 0
		for got < batch {
			cl := claim(b, s, now, batch)
			if len(cl) == 0 {
				b.Fatalf("Claim() = 0 with %d of %d claimed", got, batch)
			}
			rs := make([]*hook.Result, len(cl))
			for i, c := range cl {
				rs[i] = result(c, true, now)
			}
			if _, err := s.DeliveryComplete(ctx, &store.DeliveryCompleteParams{Results: rs, Now: now, DisableAfter: 3}); err != nil {
				b.Fatal(err)
			}
			got += len(cl)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "deliveries/s")
}
