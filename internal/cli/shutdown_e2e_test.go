package cli_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/jackc/pgx/v5"
)

// sigterm stops p with SIGTERM and returns how long it took to exit; it
// fails the test if p does not exit within limit or exits with a status
// other than 0.
func sigterm(t *testing.T, p *process, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("hookd still running %v after SIGTERM:\n%s", limit, p.logs.String())
	}
	took := time.Since(start)
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("hookd exited %d after SIGTERM, want 0:\n%s", code, p.logs.String())
	}
	return took
}

// terminator keeps terminating every backend of database db until stop.
func terminator(t *testing.T, db string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := pgx.Connect(ctx, os.Getenv("HOOKD_TEST_POSTGRES_URL"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer conn.Close(context.Background())
		for ctx.Err() == nil {
			conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, db)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }
}

// With PostgreSQL out of reach (its backends terminated again and again,
// or a network that swallows every packet), hookd serve still exits 0
// within --shutdown-timeout on SIGTERM, though attempts have finished
// whose results it cannot record; after a restart, every accepted event
// is delivered (the unrecorded ones once their lease has ended).
func TestShutdownWithDatabaseOut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs hookd processes")
	}
	for _, fault := range []string{"backends terminated", "unreachable"} {
		t.Run(strings.ReplaceAll(fault, " ", "_"), func(t *testing.T) {
			db := postgresDB(t)
			t.Parallel()
			dbURL, _ := url.Parse(db)
			proxy := newPGProxy(t, dbURL.Host)
			viaProxy := *dbURL
			viaProxy.Host = proxy.proxy.Listen

			release := make(chan struct{})
			var releaseOnce sync.Once
			t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
			rcv := newReceiver(t, always(reply{Wait: release}))
			env := []string{"SSL_CERT_FILE=" + writeTestCA(t, rcv)}
			// A lease far longer than the shutdown timeout: a shutdown
			// that waited for its result writes to give up (as it did
			// before the timeout reached them) would take the lease.
			const shutdownTimeout, lease = 3 * time.Second, 20 * time.Second
			args := []string{"--admin-token", adminToken, "--allow-private-targets", "--attempt-timeout", "2s",
				"--lease", lease.String(), "--retry-base", "100ms", "--max-retries", "8", "--disable-after", "0",
				"--rate-limit", "0", "--db-statement-timeout", "1s", "--shutdown-timeout", shutdownTimeout.String()}
			p := startProcess(t, env, slices.Concat(args, []string{"--db", viaProxy.String(), "--data-dir", t.TempDir()})...)
			ctx := context.Background()
			admin, _ := client.New(p.url, adminToken)
			acc, err := admin.CreateAccount(ctx, "Shutdown")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := admin.CreateEndpoint(ctx, client.CreateEndpointParams{AccountID: acc.ID, URL: rcv.URL(), EventTypes: []string{"*"}}); err != nil {
				t.Fatal(err)
			}
			var accepted []string
			for range 30 {
				res, err := admin.SubmitEvent(ctx, client.SubmitEventParams{AccountID: acc.ID, Event: "sms.received", Data: example("sms.received")})
				if err != nil {
					t.Fatal(err)
				}
				accepted = append(accepted, res.ID)
			}
			rcv.next() // attempts are under way, held by the receiver

			heal := func() {}
			switch fault {
			case "backends terminated":
				heal = terminator(t, strings.TrimPrefix(dbURL.Path, "/"))
				defer heal() // if the test fails before it heals
			case "unreachable":
				proxy.toxic("blackhole", "timeout", "upstream", map[string]any{"timeout": 0})
			}
			releaseOnce.Do(func() { close(release) }) // the attempts end; their results cannot be written
			// The bound: the timeout, and a margin for a loaded machine
			// (the process exiting, the test noticing).
			took := sigterm(t, p, shutdownTimeout+5*time.Second)
			t.Logf("%s: hookd exited %v after SIGTERM (--shutdown-timeout %v, --lease %v)", fault, took.Round(time.Millisecond), shutdownTimeout, lease)
			if fault == "unreachable" && !strings.Contains(p.logs.String(), "shutdown timeout reached") {
				// (With backends terminated, the pool may get a result
				// through between two terminations.)
				t.Errorf("the log does not say the shutdown timeout cut the drain short:\n%s", p.logs.String())
			}

			// Heal, and restart on the same database.
			switch fault {
			case "backends terminated":
				heal()
			case "unreachable":
				proxy.remove("blackhole")
			}
			p2 := startProcess(t, env, slices.Concat(args, []string{"--db", db, "--data-dir", t.TempDir()})...)
			if missing := rcv.waitEach(accepted, lease+60*time.Second); missing > 0 {
				t.Fatalf("%d of %d accepted events never delivered after the restart:\n%s", missing, len(accepted), p2.logs.String())
			}
		})
	}
}

// A rolling restart under a steady load loses nothing: two nodes share
// one PostgreSQL database while producers submit events to both; one
// node gets SIGTERM, exits 0, and starts again; every accepted event
// reaches the receiver (a real HTTPS server on loopback) at least once.
func TestRollingRestartLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs hookd processes")
	}
	db := postgresDB(t)
	t.Parallel()
	rcv := newReceiver(t, func(int) reply { time.Sleep(time.Millisecond); return reply{} })
	env := []string{"SSL_CERT_FILE=" + writeTestCA(t, rcv)}
	args := slices.Concat(overloadTolerant, []string{"--db", db, "--admin-token", adminToken, "--allow-private-targets",
		"--concurrency", "32", "--shutdown-timeout", "20s"})
	var urls [2]atomic.Pointer[string]
	nodes := make([]*process, 2)
	for i := range nodes {
		nodes[i] = startProcess(t, env, slices.Concat(args, []string{"--data-dir", t.TempDir()})...)
		urls[i].Store(&nodes[i].url)
	}
	ctx := context.Background()
	admin0, _ := client.New(nodes[0].url, adminToken)
	acc, err := admin0.CreateAccount(ctx, "Rolling")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin0.CreateEndpoint(ctx, client.CreateEndpointParams{AccountID: acc.ID, URL: rcv.URL(), EventTypes: []string{"*"}}); err != nil {
		t.Fatal(err)
	}

	// Producers: each event goes to one node, and to the other (with the
	// same idempotency key) while that one is down or answers 503.
	var (
		mu       sync.Mutex
		accepted = map[string]bool{}
		next     atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := next.Add(1)
				key := fmt.Sprintf("rolling-%d", i)
				for try := 0; ; try++ {
					u := *urls[(w+try)%2].Load()
					c, _ := client.New(u, adminToken)
					res, err := c.SubmitEvent(ctx, client.SubmitEventParams{AccountID: acc.ID, Event: "sms.received",
						Data: example("sms.received"), IdempotencyKey: key})
					if err == nil {
						mu.Lock()
						accepted[res.ID] = true
						mu.Unlock()
						break
					}
					if try > 200 {
						t.Errorf("event %s refused %d times, last: %v", key, try, err)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(accepted)
	}
	waitFor := func(n int, what string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for count() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d events accepted, want %d", what, count(), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor(300, "before the restart")
	for rcv.count() < 100 {
		time.Sleep(10 * time.Millisecond) // deliveries are under way on both nodes
	}
	took := sigterm(t, nodes[1], 60*time.Second)
	t.Logf("node 1 stopped in %v with %d events accepted", took.Round(time.Millisecond), count())
	before := count()
	waitFor(before+100, "while node 1 is down")
	nodes[1] = startProcess(t, env, slices.Concat(args, []string{"--data-dir", t.TempDir()})...)
	urls[1].Store(&nodes[1].url)
	before = count()
	waitFor(before+300, "after node 1 restarted")
	close(stop)
	wg.Wait()

	mu.Lock()
	ids := make([]string, 0, len(accepted))
	for id := range accepted {
		ids = append(ids, id)
	}
	mu.Unlock()
	if missing := rcv.waitEach(ids, 90*time.Second); missing > 0 {
		t.Fatalf("%d of %d accepted events never delivered", missing, len(ids))
	}
	t.Logf("%d events accepted and delivered; the receiver got %d requests", len(ids), rcv.count())
}
