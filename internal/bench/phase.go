package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd/client"
)

// cluster is the hookd nodes of a phase, sharing one database.
type cluster struct {
	nodes []*node
	db    *pgDatabase // nil for SQLite
	token string
	dir   string
}

// startCluster starts n nodes (on a fresh PostgreSQL database with --db).
func (r *runner) startCluster(ctx context.Context, name string, n int, deliver bool) (*cluster, error) {
	cl := &cluster{token: newToken(), dir: filepath.Join(r.tmp, name)}
	if err := os.MkdirAll(cl.dir, 0o700); err != nil {
		return nil, err
	}
	if r.cfg.DB != "" {
		db, err := createPGDatabase(ctx, r.cfg.DB)
		if err != nil {
			return nil, err
		}
		cl.db = db
		r.printf("[%s] database %s\n", name, db.name)
	}
	if err := r.addNodes(ctx, cl, n, deliver); err != nil {
		r.stopCluster(ctx, cl)
		return nil, err
	}
	return cl, nil
}

// addNodes starts n more nodes in cl.
func (r *runner) addNodes(ctx context.Context, cl *cluster, n int, deliver bool) error {
	for range n {
		i := len(cl.nodes) + 1
		cfg := nodeConfig{
			Name:        fmt.Sprintf("hookd-%d", i),
			Bin:         r.hookdBin,
			DataDir:     filepath.Join(cl.dir, fmt.Sprintf("data-%d", i)),
			LogDir:      cl.dir,
			AdminToken:  cl.token,
			Deliver:     deliver,
			CertFile:    r.certFile,
			Concurrency: r.cfg.Concurrency,
			Pprof:       r.cfg.Profile != "" || r.cfg.Scenario == "soak",
			Args:        r.cfg.HookdArgs,
		}
		if cl.db != nil {
			cfg.DB = cl.db.URL
		}
		nd, err := startNode(ctx, cfg, r.api)
		if err != nil {
			if cl.db != nil {
				return fmt.Errorf("hookd on PostgreSQL did not start; the pg scenario needs hookd's PostgreSQL backend (hookd serve --db postgres://…): %w", err)
			}
			return err
		}
		r.printf("%s: %s (pid %d, deliver=%t)\n", cfg.Name, nd.url, nd.pid(), deliver)
		cl.nodes = append(cl.nodes, nd)
	}
	return nil
}

// stopNodes stops the nodes gracefully and forgets them.
func (r *runner) stopNodes(cl *cluster) error {
	var errs []error
	for _, n := range cl.nodes {
		// hookd drains for up to --attempt-timeout + 15 s.
		if err := n.stop(45 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	cl.nodes = nil
	return errors.Join(errs...)
}

// stopCluster stops the nodes and drops the database.
func (r *runner) stopCluster(ctx context.Context, cl *cluster) error {
	err := r.stopNodes(cl)
	if cl.db != nil {
		err = errors.Join(err, cl.db.drop(ctx))
	}
	return err
}

// topology is the accounts and endpoints of a phase.
type topology struct {
	accounts []string
	// index maps endpoint ids to their index i (account i mod accounts).
	index map[string]int
}

// endpointPath is where endpoint i receives: /e/<i>, or /hang/<i>.
func endpointPath(i int, hang bool) string {
	if hang {
		return "/hang/" + strconv.Itoa(i)
	}
	return "/e/" + strconv.Itoa(i)
}

// endpointIndex is the i of /e/<i> or /hang/<i>, or -1.
func endpointIndex(path string) int {
	_, s, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return i
}

// hangIndexes picks k of n endpoints to hang, spread over accounts: with
// endpoint i in account i mod accounts, indexes j·(n/k)+j fall in
// different accounts (0, 11, 22, 33, 44 for 5 of 50 over 10 accounts).
func hangIndexes(n, k int) map[int]bool {
	out := make(map[int]bool, k)
	if k <= 0 {
		return out
	}
	stride := max(n/k, 1)
	for j := 0; len(out) < k && j < 2*n; j++ {
		i := (j*stride + j) % n
		for out[i] {
			i = (i + 1) % n
		}
		out[i] = true
	}
	return out
}

// createTopology creates the accounts and endpoints through the API;
// endpoints in hang point at /hang/ paths; filter, if set, is every
// endpoint's payload filter.
func (r *runner) createTopology(ctx context.Context, api *client.Client, hang map[int]bool, filter json.RawMessage) (*topology, error) {
	t := &topology{index: make(map[string]int)}
	for i := range r.cfg.Accounts {
		a, err := api.CreateAccount(ctx, fmt.Sprintf("bench account %d", i))
		if err != nil {
			return nil, fmt.Errorf("create account: %w", err)
		}
		t.accounts = append(t.accounts, a.ID)
	}
	for i := range r.cfg.Endpoints {
		url := r.rcv.url(endpointPath(i, hang[i]))
		if u, ok := r.hostileURL[i]; ok {
			url = u
		}
		ep, err := api.CreateEndpoint(ctx, client.CreateEndpointParams{
			AccountID:  t.accounts[i%len(t.accounts)],
			URL:        url,
			EventTypes: []string{"*"},
			Filter:     filter,
		})
		if err != nil {
			return nil, fmt.Errorf("create endpoint: %w", err)
		}
		t.index[ep.ID] = i
	}
	return t, nil
}

// counts returns the filter of the paths whose deliveries a phase counts:
// those of endpoints not in skip.
func counts(skip map[int]bool) func(path string) bool {
	return func(path string) bool {
		i := endpointIndex(path)
		return i >= 0 && !skip[i] && !isHangPath(path)
	}
}

// clients returns an admin API client per node.
func (cl *cluster) clients() []*client.Client {
	out := make([]*client.Client, len(cl.nodes))
	for i, n := range cl.nodes {
		out[i] = n.api
	}
	return out
}

// usage is CPU time so far of the nodes, the receiver and this process.
type usage struct {
	nodes    []time.Duration
	receiver time.Duration
	self     time.Duration
	machine  time.Duration // every process's
	postgres time.Duration // the PostgreSQL server's, with --db
	at       time.Time
}

func (r *runner) usage(cl *cluster) usage {
	u := usage{at: time.Now(), self: selfCPU(), machine: machineBusy()}
	if r.cfg.DB != "" {
		u.postgres = commandCPU("postgres")
	}
	for _, n := range cl.nodes {
		n.sampler.Sample()
		u.nodes = append(u.nodes, n.sampler.Last().CPU)
	}
	r.rcv.sampler.Sample()
	u.receiver = r.rcv.sampler.Last().CPU
	return u
}

// otherCPU is the CPU time between u0 and u1 of processes that are not
// part of the benchmark: other work on the machine skews the figures.
func otherCPU(u0, u1 usage, nodes time.Duration) time.Duration {
	if u0.machine == 0 || u1.machine == 0 {
		return 0
	}
	return max(0, (u1.machine-u0.machine)-nodes-(u1.receiver-u0.receiver)-(u1.self-u0.self)-(u1.postgres-u0.postgres))
}

func (u usage) nodeTotal() time.Duration {
	var t time.Duration
	for _, d := range u.nodes {
		t += d
	}
	return t
}

// watchOptions says what a watch waits for.
type watchOptions struct {
	name string
	cl   *cluster
	sub  *submitter
	keep func(path string) bool
	// deliveries: wait for every counted delivery to arrive; without it
	// the watch ends when submission does (an API-only node).
	deliveries bool
	// expected overrides the submitter's count of expected deliveries.
	expected int64
}

// watch prints progress every second until submission is over and, with
// deliveries, every expected delivery arrived or none arrived for the stall
// timeout. It returns the receiver's last stats and whether deliveries are
// missing.
func (r *runner) watch(ctx context.Context, o watchOptions) (*Stats, bool, error) {
	start := time.Now()
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	var (
		lastPrint              = start
		lastEvents, lastUnique int64
		lastLatency            HistogramSnapshot
		lastCPU                = r.usage(o.cl).nodeTotal()
		progressAt             = start
		progressN              int64
	)
	for {
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-poll.C:
		}
		for _, n := range o.cl.nodes {
			if n.exited() {
				return nil, false, fmt.Errorf("%s exited during the run: %v", n.name, n.exitErr())
			}
		}
		st, err := r.rcv.stats(ctx)
		if err != nil {
			return nil, false, err
		}
		n, dups, _, _ := st.Window(o.keep)
		unique := int64(n - dups)
		expected := o.expected
		if expected == 0 && o.sub != nil {
			expected = o.sub.counted.Load()
		}
		subDone := o.sub == nil || o.sub.finished()
		now := time.Now()
		if unique != progressN {
			progressN, progressAt = unique, now
		}
		complete := subDone && (!o.deliveries || unique >= expected)
		stalled := subDone && o.deliveries && now.Sub(progressAt) > r.cfg.StallTimeout
		if now.Sub(lastPrint) >= time.Second || complete || stalled {
			dt := now.Sub(lastPrint).Seconds()
			var events int64
			if o.sub != nil {
				events = o.sub.submitted.Load()
			}
			cpu := r.usage(o.cl).nodeTotal()
			var rss int64
			for _, nd := range o.cl.nodes {
				rss += nd.sampler.Last().RSS
			}
			line := fmt.Sprintf("[%s] %5.0fs", o.name, now.Sub(start).Seconds())
			if o.sub != nil {
				line += fmt.Sprintf("  events %s (%s/s)", count(events), count(int64(float64(events-lastEvents)/dt)))
			}
			if o.deliveries {
				line += fmt.Sprintf("  deliveries %s/%s (%s/s)", count(unique), count(expected),
					count(int64(float64(unique-lastUnique)/dt)))
			}
			if win := st.Latency.Sub(lastLatency); win.Count > 0 {
				line += fmt.Sprintf("  p99 %s ms", fmtMS(win.Quantile(0.99)))
			}
			if st.Hung > 0 {
				line += fmt.Sprintf("  hung %s", count(int64(st.Hung)))
			}
			line += fmt.Sprintf("  hookd %.0f MiB %.2f CPU", mib(rss), (cpu-lastCPU).Seconds()/dt)
			if o.sub != nil && o.sub.failed.Load() > 0 {
				line += fmt.Sprintf("  submit errors %d", o.sub.failed.Load())
			}
			r.printf("%s\n", line)
			lastPrint, lastEvents, lastUnique, lastCPU, lastLatency = now, events, unique, cpu, st.Latency
		}
		if complete {
			return st, false, nil
		}
		if stalled {
			r.printf("[%s] no delivery for %s: %d of %d arrived; giving up\n", o.name, r.cfg.StallTimeout, unique, expected)
			return st, true, nil
		}
	}
}

// fmtMS formats d in milliseconds: one decimal below 10 ms, none above.
func fmtMS(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// profile fetches a CPU profile of each node into the --profile directory,
// starting --profile-delay into the phase. Wait on the returned channel before
// stopping the nodes.
func (r *runner) profile(ctx context.Context, cl *cluster, name string) <-chan struct{} {
	done := make(chan struct{})
	if r.cfg.Profile == "" {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		if sleepCtx(ctx, r.cfg.ProfileDelay) != nil {
			return
		}
		if err := os.MkdirAll(r.cfg.Profile, 0o755); err != nil {
			r.printf("profile: %v\n", err)
			return
		}
		var wg sync.WaitGroup
		// fetch saves one node's /debug/pprof/<endpoint> as <file ext>.
		fetch := func(n *node, what, endpoint string, seconds int, ext string) {
			defer wg.Done()
			path := filepath.Join(r.cfg.Profile, fmt.Sprintf("%s-%s-%s.%s", r.cfg.Scenario, name, n.name, ext))
			url := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", n.metricsAddr, endpoint, seconds)
			if err := fetchTo(ctx, url, path); err != nil {
				r.printf("%s of %s: %v\n", what, n.name, err)
				return
			}
			r.printf("[%s] %s of %s: %s\n", name, what, n.name, path)
		}
		for _, n := range cl.nodes {
			wg.Add(1)
			go fetch(n, "CPU profile", "profile", r.cfg.ProfileSeconds, "pprof")
			if r.cfg.TraceSeconds > 0 {
				wg.Add(1)
				go fetch(n, "execution trace", "trace", r.cfg.TraceSeconds, "trace")
			}
		}
		wg.Wait()
	}()
	return done
}

func fetchTo(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
