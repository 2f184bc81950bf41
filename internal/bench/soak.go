package bench

import (
	"bufio"
	"context"
	"encoding/pem"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/hostile"
)

// soakKinds is the order in which hostile endpoints get their kind: the
// ones that hold a connection or cost memory first, so that a small
// --hostile share still meets them.
var soakKinds = []hostile.Kind{
	hostile.SwitchHold, hostile.HugeHeaders, hostile.Hang, hostile.EndlessBody,
	hostile.TrickleHeaders, hostile.InfoHold, hostile.Reset, hostile.CloseBody,
	hostile.CloseHeaders, hostile.GarbageStatus, hostile.WrongNameTLS, hostile.ExpiredTLS, hostile.FloodBody,
	hostile.Redirect307, hostile.Redirect301, hostile.Redirect302, hostile.BinaryBody,
	hostile.BadUTF8Header,
}

// Sample is one reading of a hookd node during a soak.
type Sample struct {
	AtS        float64 `json:"at_seconds"`
	Node       string  `json:"node"`
	RSSMiB     float64 `json:"rss_mib"`
	FDs        int     `json:"open_fds"`
	Goroutines int     `json:"goroutines"` // -1 when /debug/pprof did not answer
	Threads    int     `json:"threads"`
	Events     int64   `json:"events_accepted"`
	Delivered  int64   `json:"healthy_deliveries"`
}

// startHostile starts one hostile receiver per hostile endpoint and writes
// the certificate file hookd trusts: the receiver's and the kit's CA.
func (r *runner) startHostile() error {
	k := int(math.Round(r.cfg.Hostile * float64(r.cfg.Endpoints)))
	r.hostileURL = make(map[int]string, k)
	r.certFile = r.rcv.certFile
	if k == 0 {
		return nil
	}
	idx := hangIndexes(r.cfg.Endpoints, k)
	j := 0
	for i := range r.cfg.Endpoints {
		if !idx[i] {
			continue
		}
		kind := soakKinds[j%len(soakKinds)]
		j++
		s, err := hostile.Start(kind, hostile.Options{TLS: true})
		if err != nil {
			return err
		}
		r.hostileSrv = append(r.hostileSrv, s)
		r.hostileURL[i] = s.URL()
	}
	ca, err := hostile.CA()
	if err != nil {
		return err
	}
	rcvPEM, err := os.ReadFile(r.rcv.certFile)
	if err != nil {
		return err
	}
	r.certFile = filepath.Join(r.tmp, "roots.pem")
	roots := append(rcvPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})...)
	if err := os.WriteFile(r.certFile, roots, 0o600); err != nil {
		return err
	}
	r.printf("hostile receivers: %d of %d endpoints (%s…)\n", k, r.cfg.Endpoints, soakKinds[0])
	return nil
}

// stopHostile closes the hostile receivers.
func (r *runner) stopHostile() {
	for _, s := range r.hostileSrv {
		s.Close()
	}
	r.hostileSrv = nil
}

// hostileSkip is the set of hostile endpoint indexes.
func (r *runner) hostileSkip() map[int]bool {
	out := make(map[int]bool, len(r.hostileURL))
	for i := range r.hostileURL {
		out[i] = true
	}
	return out
}

// scenarioSoak: --rate events/s for --duration with a --hostile share of
// endpoints misbehaving, sampling every node's RSS, open fds, threads and
// goroutines every --sample-every. Hostile endpoints are never disabled
// (--disable-after=0 comes before any --hookd-arg), so they stay hostile
// for the whole run.
func (r *runner) scenarioSoak(ctx context.Context) error {
	name := r.phaseName("soak", r.cfg.Nodes[0])
	res, err := r.deliveryPhase(ctx, phaseSpec{name: name, nodes: r.cfg.Nodes[0], paced: true, skip: r.hostileSkip(), sample: true})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	p := &r.res.Phases[len(r.res.Phases)-1]
	p.Notes = append(p.Notes, fmt.Sprintf("paced at %.0f events/s for %s with %d hostile endpoints; achieved intake %.0f events/s",
		r.cfg.Rate, r.cfg.Duration, len(r.hostileURL), res.IntakePerS))
	if unsent := int64(r.cfg.Events) - res.Events - res.SubmitErrors; unsent > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%d events were due but not submitted within %s: submission fell behind the rate", unsent, r.cfg.Duration))
	}
	return nil
}

// sampler reads the nodes every --sample-every until ctx ends; the result
// holds every sample.
func (r *runner) sampler(ctx context.Context, cl *cluster, sub *submitter) (wait func() []Sample) {
	var (
		mu      sync.Mutex
		samples []Sample
		done    = make(chan struct{})
		start   = time.Now()
	)
	take := func(ctx context.Context) {
		var delivered int64
		if st, err := r.rcv.stats(ctx); err == nil {
			n, dups, _, _ := st.Window(counts(r.hostileSkip()))
			delivered = int64(n - dups)
		}
		for _, nd := range cl.nodes {
			s := Sample{AtS: round(time.Since(start).Seconds(), 1), Node: nd.name, Goroutines: -1, Events: sub.submitted.Load(), Delivered: delivered}
			if p, err := ReadProc(nd.pid()); err == nil {
				s.RSSMiB, s.Threads = round(mib(p.RSS), 1), p.Threads
			}
			if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", nd.pid())); err == nil {
				s.FDs = len(fds)
			}
			if nd.metricsAddr != "" {
				if g, err := goroutines(ctx, nd.metricsAddr); err == nil {
					s.Goroutines = g
				}
			}
			if ctx.Err() != nil {
				return // cut short by the end of the phase: the last sample follows
			}
			r.printf("[sample] %6.0fs %s rss %.1f MiB, fds %d, goroutines %d, threads %d, events %d, healthy deliveries %d\n",
				s.AtS, s.Node, s.RSSMiB, s.FDs, s.Goroutines, s.Threads, s.Events, s.Delivered)
			mu.Lock()
			samples = append(samples, s)
			mu.Unlock()
		}
	}
	go func() {
		defer close(done)
		t := time.NewTicker(r.cfg.SampleEvery)
		defer t.Stop()
		take(ctx)
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				take(ctx)
			}
		}
	}()
	return func() []Sample {
		<-done
		take(context.Background()) // the end of the phase
		mu.Lock()
		defer mu.Unlock()
		return samples
	}
}

// goroutines reads the goroutine count from /debug/pprof/goroutine.
func goroutines(ctx context.Context, addr string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/pprof/goroutine?debug=1", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return 0, err
	}
	// "goroutine profile: total 42"
	_, n, ok := strings.Cut(strings.TrimSpace(line), "total ")
	if !ok {
		return 0, fmt.Errorf("goroutine profile: unexpected first line %q", line)
	}
	return strconv.Atoi(n)
}
