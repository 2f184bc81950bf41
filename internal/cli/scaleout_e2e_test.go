package cli_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/webhook"
	"github.com/jackc/pgx/v5"
)

// postgresDB creates a database of its own for one test and drops it
// after; it skips the test when no PostgreSQL is configured.
func postgresDB(t *testing.T) string {
	t.Helper()
	base := os.Getenv("HOOKD_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("set HOOKD_TEST_POSTGRES_URL=postgres://… to run the PostgreSQL tests")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", base, err)
	}
	name := fmt.Sprintf("hookd_e2e_%d", rand.Int64())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop database: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}

// metric reads one counter (summed over its labels) from a node.
func metric(t *testing.T, baseURL, name string) float64 {
	var sum float64
	for _, line := range strings.Split(get(t, baseURL+"/metrics", ""), "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

// Three nodes share one PostgreSQL database; one is killed with -9 in the
// middle of 5,000 events. Every accepted event still reaches every
// endpoint; the duplicates are bounded by what the dead node held; the
// other nodes shared the work.
func TestScaleOutKillOneNode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three hookd processes")
	}
	db := postgresDB(t)
	t.Parallel()
	rcv := newReceiver(t, func(int) reply { time.Sleep(time.Millisecond); return reply{} })
	env := []string{"SSL_CERT_FILE=" + writeTestCA(t, rcv)}
	const concurrency = 32
	args := slices.Concat(overloadTolerant, []string{"--db", db, "--admin-token", adminToken, "--allow-private-targets",
		"--concurrency", strconv.Itoa(concurrency)})
	nodes := make([]*process, 3)
	for i := range nodes {
		nodes[i] = startProcess(t, env, slices.Concat(args, []string{"--data-dir", t.TempDir()})...)
	}
	ctx := context.Background()
	admins := make([]*client.Client, len(nodes))
	for i, p := range nodes {
		admins[i], _ = checkedClient(t, p.url, adminToken)
	}
	acc, err := admins[0].CreateAccount(ctx, "Scale")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i := range 4 {
		path := fmt.Sprintf("/endpoint/%d", i)
		if _, err := admins[i%3].CreateEndpoint(ctx, client.CreateEndpointParams{AccountID: acc.ID, URL: rcv.srv.URL + path, EventTypes: []string{"*"}}); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}

	const events = 5000
	var (
		mu       sync.Mutex
		accepted = map[string]bool{}
		next     atomic.Int64
		wg       sync.WaitGroup
	)
	for w := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= events; i = next.Add(1) {
				node := (w + int(i)) % 3
				res, err := admins[node].SubmitEvent(ctx, client.SubmitEventParams{AccountID: acc.ID, Event: "sms.received", Data: example("sms.received")})
				if err != nil {
					if node == 2 { // the node that gets killed
						continue
					}
					t.Errorf("node %d: %v", node, err)
					return
				}
				mu.Lock()
				accepted[res.ID] = true
				mu.Unlock()
			}
		}()
	}
	// Kill node 2 once a third of the events are in and it is delivering.
	for next.Load() < events/3 || metric(t, nodes[2].url, "hookd_attempts_total") < 100 {
		time.Sleep(10 * time.Millisecond)
	}
	nodes[2].cmd.Process.Signal(syscall.SIGKILL)
	<-nodes[2].done
	wg.Wait()
	t.Logf("%d events accepted; node 2 killed after %d submissions", len(accepted), events/3)

	want := map[[2]string]bool{}
	for id := range accepted {
		for _, path := range paths {
			want[[2]string{id, path}] = true
		}
	}
	arrivals := 0
	deadline := time.After(90 * time.Second)
	for len(want) > 0 {
		r, ok := rcv.take(deadline)
		if !ok {
			t.Fatalf("%d accepted (event, endpoint) pairs never delivered", len(want))
		}
		arrivals++
		delete(want, [2]string{r.Header.Get(webhook.HeaderID), r.Path})
	}
	pairs := len(accepted) * len(paths)
	// Let late retries of already-delivered pairs show up in the count.
	for {
		if _, ok := rcv.take(time.After(3 * time.Second)); !ok {
			break
		}
		arrivals++
	}
	dups := arrivals - pairs
	t.Logf("%d requests for %d pairs: %d duplicates", arrivals, pairs, dups)
	// Attempts that failed and were retried (a receiver slowed down by
	// the test machine answering after the timeout) are duplicates too,
	// but recorded ones: what remains is what the dead node sent and
	// never recorded.
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var retried int
	if err := conn.QueryRow(ctx, `SELECT coalesce(sum(attempts - 1), 0) FROM deliveries WHERE attempts > 1`).Scan(&retried); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	dups -= retried
	t.Logf("%d recorded retries; %d duplicates from the dead node", retried, dups)
	// The dead node held at most its in-flight attempts (--concurrency)
	// and the results it had not yet recorded: a full result queue and
	// the batch being written (256 each).
	if limit := concurrency + 2*256; dups > limit {
		t.Errorf("%d duplicates, more than the %d the dead node could hold", dups, limit)
	}
	for i := range 2 {
		if n := metric(t, nodes[i].url, "hookd_attempts_total"); n < float64(pairs)/10 {
			t.Errorf("node %d made %v attempts of %d: the surviving nodes did not share the work", i, n, pairs)
		}
	}
}

// PostgreSQL drops every connection in the middle of a run; hookd
// recovers on its own and loses nothing.
func TestScaleOutDatabaseConnectionsDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("runs hookd processes")
	}
	db := postgresDB(t)
	t.Parallel()
	rcv := newReceiver(t, always(reply{}))
	env := []string{"SSL_CERT_FILE=" + writeTestCA(t, rcv)}
	p := startProcess(t, env, slices.Concat(overloadTolerant,
		[]string{"--db", db, "--admin-token", adminToken, "--allow-private-targets", "--data-dir", t.TempDir()})...)
	ctx := context.Background()
	admin, _ := checkedClient(t, p.url, adminToken)
	acc, err := admin.CreateAccount(ctx, "Outage")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateEndpoint(ctx, client.CreateEndpointParams{AccountID: acc.ID, URL: rcv.URL(), EventTypes: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	accepted := map[string]bool{}
	submit := func(n int) {
		for range n {
			res, err := admin.SubmitEvent(ctx, client.SubmitEventParams{AccountID: acc.ID, Event: "call.received", Data: example("call.received")})
			if err == nil {
				accepted[res.ID] = true
			}
		}
	}
	submit(200)
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	t.Logf("terminated %d backends", killed)
	if killed == 0 {
		t.Fatal("no hookd connection was terminated")
	}
	submit(200) // some may fail while the pool reconnects
	if len(accepted) < 300 {
		t.Errorf("only %d of 400 events accepted around the outage", len(accepted))
	}
	deadline := time.After(60 * time.Second)
	for len(accepted) > 0 {
		r, ok := rcv.take(deadline)
		if !ok {
			t.Fatalf("%d accepted events never delivered after the outage", len(accepted))
		}
		delete(accepted, r.Header.Get(webhook.HeaderID))
	}
	// New work after the outage is picked up without polling delays.
	start := time.Now()
	submit(1)
	rcv.next()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("first delivery after the outage took %v", d)
	}
}
