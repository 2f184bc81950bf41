package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/hookd/hookd/client"
)

// phaseSpec describes one measured run of hookd.
type phaseSpec struct {
	name  string
	nodes int
	// hang are the endpoint indexes pointing at /hang/ paths.
	hang map[int]bool
	// skip are the endpoint indexes whose deliveries are not counted.
	skip map[int]bool
	// paced submits at --rate for --duration instead of closed-loop.
	paced bool
	// sample records the nodes' RSS, fds and goroutines over time.
	sample bool
	// filter is every endpoint's payload filter (none if empty).
	filter json.RawMessage
	// warmup submits at --rate for --warmup before the measured part.
	warmup bool
}

// warmUp submits --rate events/s for --warmup through clients and waits
// for their deliveries, so that the measured part starts as a running
// service would: connections to the receiver open, caches and the heap
// grown. Its figures are returned as a note, not counted: a cold start
// opens a TLS connection per concurrent request to each endpoint, which
// a service does once (docs/performance.md, "Stalls").
func (r *runner) warmUp(ctx context.Context, name string, clients []*client.Client, accounts []string) (string, error) {
	n := int(r.cfg.Rate * r.cfg.Warmup.Seconds())
	if n <= 0 {
		return "", nil
	}
	if err := r.rcv.reset(ctx); err != nil {
		return "", err
	}
	r.printf("[%s] warm-up: %d events at %.0f/s, not counted\n", name, n, r.cfg.Rate)
	sub := newSubmitter(clients, accounts, r.payloads, nil)
	sub.runPaced(ctx, n, r.cfg.Rate, max(r.cfg.Submitters, 64))
	if f := sub.failed.Load(); f > 0 {
		return "", fmt.Errorf("warm-up: %d submissions failed: %v", f, sub.firstErr.Load())
	}
	want := uint64(sub.deliveries.Load())
	last, progress := uint64(0), time.Now()
	for {
		st, err := r.rcv.stats(ctx)
		if err != nil {
			return "", err
		}
		if st.Deliveries >= want {
			return fmt.Sprintf("warm-up (not counted): %s events in %s, %s deliveries, accept→arrival p50 %s ms, p99 %s ms, max %s ms",
				count(int64(n)), r.cfg.Warmup, count(int64(want)), fmtMS(st.Latency.Quantile(0.5)), fmtMS(st.Latency.Quantile(0.99)),
				fmtMS(time.Duration(st.Latency.MaxUS)*time.Microsecond)), nil
		}
		if st.Deliveries > last {
			last, progress = st.Deliveries, time.Now()
		} else if time.Since(progress) > r.cfg.StallTimeout {
			return "", fmt.Errorf("warm-up: %d of %d deliveries arrived, none for %s", st.Deliveries, want, r.cfg.StallTimeout)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return "", err
		}
	}
}

// deliveryPhase starts hookd, creates the accounts and endpoints, submits
// the events while hookd delivers them, waits for every counted delivery
// and records the result.
func (r *runner) deliveryPhase(ctx context.Context, spec phaseSpec) (_ *PhaseResult, err error) {
	r.printf("[%s] starting %d hookd node(s)\n", spec.name, spec.nodes)
	cl, err := r.startCluster(ctx, spec.name, spec.nodes, true)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, r.stopCluster(ctx, cl)) }()
	top, err := r.createTopology(ctx, cl.nodes[0].api, spec.hang, spec.filter)
	if err != nil {
		return nil, err
	}
	var warm string
	if spec.warmup {
		if warm, err = r.warmUp(ctx, spec.name, cl.clients(), top.accounts); err != nil {
			return nil, err
		}
	}
	if err := r.rcv.reset(ctx); err != nil {
		return nil, err
	}
	sub := newSubmitter(cl.clients(), top.accounts, r.payloads, top.counted(spec.skip))
	var (
		subCtx context.Context
		cancel context.CancelFunc
	)
	if spec.sample {
		// A soak lasts --duration: events hookd (or the machine) did not
		// take by then are not submitted.
		subCtx, cancel = context.WithTimeout(ctx, r.cfg.Duration)
	} else {
		subCtx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	u0 := r.usage(cl)
	if spec.paced {
		go sub.runPaced(subCtx, r.cfg.Events, r.cfg.Rate, max(r.cfg.Submitters, 64))
	} else {
		go sub.runClosed(subCtx, r.cfg.Events, r.cfg.Submitters)
	}
	prof := r.profile(subCtx, cl, spec.name)
	var samples func() []Sample
	if spec.sample {
		samples = r.sampler(subCtx, cl, sub)
	}
	st, incomplete, err := r.watch(ctx, watchOptions{name: spec.name, cl: cl, sub: sub, keep: counts(spec.skip), deliveries: true})
	if err != nil {
		return nil, err
	}
	var taken []Sample
	if samples != nil {
		cancel()
		taken = samples()
	}
	u1 := r.usage(cl)
	<-prof
	nodes := cl.nodes
	if err := r.stopNodes(cl); err != nil {
		r.printf("[%s] %v\n", spec.name, err)
	}
	res := r.phaseResult(spec.name, nodes, sub, st, counts(spec.skip), u0, u1)
	res.Incomplete = incomplete
	res.Samples = taken
	if warm != "" {
		res.Notes = append(res.Notes, warm)
	}
	if len(spec.hang) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d of %d endpoints hang; figures count the healthy ones; %d requests hung", len(spec.hang), r.cfg.Endpoints, st.Hung))
	} else if len(spec.skip) > 0 && spec.sample {
		res.Notes = append(res.Notes, fmt.Sprintf("figures count the %d healthy endpoints", r.cfg.Endpoints-len(spec.skip)))
	} else if len(spec.skip) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("figures count the %d endpoints that stay healthy in the isolation run", r.cfg.Endpoints-len(spec.skip)))
	}
	r.res.Phases = append(r.res.Phases, *res)
	return res, nil
}

// counted maps endpoint ids to whether their deliveries count: all but skip.
func (t *topology) counted(skip map[int]bool) map[string]bool {
	if len(skip) == 0 {
		return nil
	}
	out := make(map[string]bool, len(t.index))
	for id, i := range t.index {
		out[id] = !skip[i]
	}
	return out
}

// phaseResult turns a phase's measurements into its result row.
func (r *runner) phaseResult(name string, nodes []*node, sub *submitter, st *Stats, keep func(string) bool, u0, u1 usage) *PhaseResult {
	n, dups, first, last := st.Window(keep)
	unique := n - dups
	res := &PhaseResult{
		Name:       name,
		Nodes:      len(nodes),
		Deliveries: unique,
		Duplicates: dups,
		Latency:    st.Latency.Summary(),
		WindowS:    round(last.Sub(first).Seconds(), 3),
		Hung:       st.Hung,
	}
	if sub != nil {
		start, end := sub.span()
		res.Events = sub.submitted.Load()
		res.SubmitErrors = sub.failed.Load()
		res.Expected = sub.counted.Load()
		res.IntakePerS = round(float64(res.Events)/end.Sub(start).Seconds(), 1)
		sl := sub.latency.Snapshot().Summary()
		res.SubmitLatency = &sl
		if !last.IsZero() {
			res.WallS = round(last.Sub(start).Seconds(), 3)
		}
		if e, ok := sub.firstErr.Load().(error); ok {
			res.Notes = append(res.Notes, "first submit error: "+e.Error())
		}
	}
	res.DeliveriesPerS = round(rate(unique, first, last), 1)
	if c := r.res.Ceiling; c != nil && c.RequestsPerS > 0 {
		res.PctOfCeiling = round(100*res.DeliveriesPerS/c.RequestsPerS, 1)
	}
	if st.Deliveries > 0 {
		res.MeanBodyBytes = round(float64(st.BodyBytes)/float64(st.Deliveries), 0)
	}
	cpu := u1.nodeTotal() - u0.nodeTotal()
	res.HookdCPUS = round(cpu.Seconds(), 2)
	if all := st.Unique(); all > 0 {
		res.CPUMsPerDelivery = round(cpu.Seconds()*1000/float64(all), 4)
	}
	if el := u1.at.Sub(u0.at).Seconds(); el > 0 {
		res.HookdCores = round(cpu.Seconds()/el, 2)
	}
	res.ReceiverCPUS = round((u1.receiver - u0.receiver).Seconds(), 2)
	if pg := u1.postgres - u0.postgres; pg > 0 {
		res.PostgresCPUS = round(pg.Seconds(), 2)
		postgresCost(res, pg, st.Unique())
		if all := st.Unique(); all > 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("PostgreSQL server: %.1f CPU s; hookd + PostgreSQL: %.3f ms CPU per delivery",
				pg.Seconds(), (cpu+pg).Seconds()*1000/float64(all)))
		}
	}
	other := otherCPU(u0, u1, cpu)
	res.OtherCPUS = round(other.Seconds(), 2)
	if el := u1.at.Sub(u0.at); el > 0 && float64(other) > 0.05*float64(el)*float64(runtime.NumCPU()) {
		res.Notes = append(res.Notes, fmt.Sprintf("other processes used %.0f %% of the machine's CPU during the phase: figures are skewed",
			100*float64(other)/(float64(el)*float64(runtime.NumCPU()))))
	}
	res.BenchCPUS = round((u1.self - u0.self).Seconds(), 2)
	for _, nd := range nodes {
		p := round(mib(nd.sampler.PeakRSS()), 1)
		res.PeakRSSMiB = max(res.PeakRSSMiB, p)
		res.NodePeakRSSMiB = append(res.NodePeakRSSMiB, p)
	}
	return res
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// phaseName names a phase of scenario with n nodes.
func (r *runner) phaseName(base string, n int) string {
	if r.cfg.DB == "" {
		return base
	}
	return fmt.Sprintf("%s-pg-%dnode", base, n)
}

// scenarioMax: closed-loop submission, as fast as hookd takes it, once per
// --nodes value.
func (r *runner) scenarioMax(ctx context.Context) error {
	var first *PhaseResult
	for _, n := range r.cfg.Nodes {
		name := r.phaseName("max", n)
		if r.cfg.Scenario == "pg" {
			name = fmt.Sprintf("pg-%dnode", n)
		}
		res, err := r.deliveryPhase(ctx, phaseSpec{name: name, nodes: n})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		first = cmp.Or(first, res)
	}
	return r.relayReference(ctx, r.cfg.Scenario, first, false)
}

// scenarioSteady: --rate events/s for --duration, open loop.
func (r *runner) scenarioSteady(ctx context.Context) error {
	name := r.phaseName("steady", r.cfg.Nodes[0])
	res, err := r.deliveryPhase(ctx, phaseSpec{name: name, nodes: r.cfg.Nodes[0], paced: true})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	p := &r.res.Phases[len(r.res.Phases)-1]
	if p.Events > 0 {
		p.CPUMsPerEvent = round(p.HookdCPUS*1000/float64(p.Events), 4)
	}
	p.Notes = append(p.Notes, fmt.Sprintf("paced at %.0f events/s for %s; achieved intake %.0f events/s", r.cfg.Rate, r.cfg.Duration, res.IntakePerS))
	return nil
}

// benchFilter matches every event the bench submits, through the
// conditions a real filter has (an $or, a typed comparison, a prefix, a
// missing path), so the filtered phase delivers exactly what the baseline
// does and differs only by the filters' cost.
const benchFilter = `{"$or":[{"event":"call.received"},{"event":{"$ne":"call.received"}}],` +
	`"account_id":{"$prefix":"acc_"},"data.no_such_member":{"$exists":false}}`

// scenarioFilter: the same fan-out without and with a payload filter on
// every endpoint (with --endpoints 50 over --accounts 10, five filtered
// endpoints per event); compares deliveries/s.
func (r *runner) scenarioFilter(ctx context.Context) error {
	base, err := r.deliveryPhase(ctx, phaseSpec{name: r.phaseName("filter-baseline", r.cfg.Nodes[0]), nodes: r.cfg.Nodes[0]})
	if err != nil {
		return fmt.Errorf("filter baseline: %w", err)
	}
	filtered, err := r.deliveryPhase(ctx, phaseSpec{name: r.phaseName("filter-all", r.cfg.Nodes[0]), nodes: r.cfg.Nodes[0],
		filter: json.RawMessage(benchFilter)})
	if err != nil {
		return fmt.Errorf("filtered fan-out: %w", err)
	}
	p := &r.res.Phases[len(r.res.Phases)-1]
	p.Notes = append(p.Notes, fmt.Sprintf("every endpoint has a payload filter (%d per event) that takes every event", r.cfg.Endpoints/r.cfg.Accounts))
	if base.DeliveriesPerS > 0 {
		r.res.setRatio("filtered_throughput_kept", filtered.DeliveriesPerS/base.DeliveriesPerS)
	}
	return nil
}

// scenarioIsolation: a baseline phase, then the same with a share of the
// endpoints hanging past hookd's attempt timeout; compares the healthy
// endpoints' deliveries/s.
func (r *runner) scenarioIsolation(ctx context.Context) error {
	k := int(math.Round(r.cfg.HangFraction * float64(r.cfg.Endpoints)))
	hang := hangIndexes(r.cfg.Endpoints, k)
	base, err := r.deliveryPhase(ctx, phaseSpec{name: r.phaseName("isolation-baseline", r.cfg.Nodes[0]), nodes: r.cfg.Nodes[0], skip: hang})
	if err != nil {
		return fmt.Errorf("isolation baseline: %w", err)
	}
	hung, err := r.deliveryPhase(ctx, phaseSpec{name: r.phaseName("isolation-hang", r.cfg.Nodes[0]), nodes: r.cfg.Nodes[0], hang: hang, skip: hang})
	if err != nil {
		return fmt.Errorf("isolation with hanging endpoints: %w", err)
	}
	if base.DeliveriesPerS > 0 {
		r.res.setRatio("healthy_throughput_kept", hung.DeliveriesPerS/base.DeliveriesPerS)
	}
	return nil
}

// scenarioBacklog: an API-only node accepts --events while nothing is
// delivered; it stops (SIGTERM), a delivering node starts on the same
// database and drains the backlog.
func (r *runner) scenarioBacklog(ctx context.Context) (err error) {
	intakeName, drainName := r.phaseName("backlog-intake", 1), r.phaseName("backlog-drain", 1)
	r.printf("[%s] starting an API-only hookd node (--deliver=false)\n", intakeName)
	cl, err := r.startCluster(ctx, "backlog", 1, false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, r.stopCluster(ctx, cl)) }()
	top, err := r.createTopology(ctx, cl.nodes[0].api, nil, nil)
	if err != nil {
		return err
	}
	if err := r.rcv.reset(ctx); err != nil {
		return err
	}
	sub := newSubmitter(cl.clients(), top.accounts, r.payloads, nil)
	u0 := r.usage(cl)
	go sub.runClosed(ctx, r.cfg.Events, r.cfg.Submitters)
	prof := r.profile(ctx, cl, intakeName)
	st, _, err := r.watch(ctx, watchOptions{name: intakeName, cl: cl, sub: sub, keep: counts(nil)})
	if err != nil {
		return err
	}
	u1 := r.usage(cl)
	<-prof
	nodes := cl.nodes
	stopStart := time.Now()
	if err := r.stopNodes(cl); err != nil {
		return fmt.Errorf("stop the API-only node: %w", err)
	}
	intake := r.phaseResult(intakeName, nodes, sub, st, counts(nil), u0, u1)
	intake.Notes = append(intake.Notes, fmt.Sprintf("API-only node; stopped with SIGTERM in %.1fs", time.Since(stopStart).Seconds()))
	intake.DeliveriesPerS, intake.PctOfCeiling, intake.CPUMsPerDelivery, intake.WallS = 0, 0, 0, 0
	if intake.Events > 0 {
		intake.CPUMsPerEvent = round(intake.HookdCPUS*1000/float64(intake.Events), 4)
	}
	r.res.Phases = append(r.res.Phases, *intake)
	if st.Deliveries > 0 {
		return fmt.Errorf("the API-only node delivered %d requests", st.Deliveries)
	}

	r.printf("[%s] starting a delivering hookd node on the same database\n", drainName)
	restart := time.Now()
	if err := r.addNodes(ctx, cl, 1, true); err != nil {
		return err
	}
	u2 := r.usage(cl)
	prof = r.profile(ctx, cl, drainName)
	st, incomplete, err := r.watch(ctx, watchOptions{name: drainName, cl: cl, keep: counts(nil), deliveries: true, expected: sub.counted.Load()})
	if err != nil {
		return err
	}
	u3 := r.usage(cl)
	<-prof
	nodes = cl.nodes
	if err := r.stopNodes(cl); err != nil {
		r.printf("[%s] %v\n", drainName, err)
	}
	drain := r.phaseResult(drainName, nodes, nil, st, counts(nil), u2, u3)
	drain.Events, drain.Expected = intake.Events, sub.counted.Load()
	drain.Incomplete = incomplete
	if !st.FirstArrival.IsZero() {
		drain.Notes = append(drain.Notes, fmt.Sprintf("first delivery %.1fs after the node started; latency is time spent in the backlog",
			st.FirstArrival.Sub(restart).Seconds()))
		drain.WallS = round(st.LastArrival.Sub(restart).Seconds(), 3)
	}
	r.res.Phases = append(r.res.Phases, *drain)
	r.res.setRatio("backlog_peak_rss_mib", max(intake.PeakRSSMiB, drain.PeakRSSMiB))
	return nil
}
