package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/hook"
)

// relayPhase runs the submission of a hookd phase against the minimal
// relay instead: the same events, the same accounts and endpoints (by
// index), the same receiver, closed-loop or paced at --rate. Its row's
// hookd_* figures are the relay process's.
func (r *runner) relayPhase(ctx context.Context, name string, paced bool) (*PhaseResult, error) {
	top := &relayTopology{Receiver: r.rcv.url(""), Accounts: make(map[string][]int, r.cfg.Accounts)}
	accounts := make([]string, r.cfg.Accounts)
	for i := range accounts {
		accounts[i] = hook.NewID(hook.PrefixAccount)
	}
	for i := range r.cfg.Endpoints {
		a := accounts[i%len(accounts)]
		top.Accounts[a] = append(top.Accounts[a], i)
	}
	r.printf("[%s] starting the minimal relay (no storage, %d senders)\n", name, r.cfg.Concurrency)
	rp, err := startRelay(ctx, r.self, r.tmp, name, top, r.rcv.certFile, r.cfg.Concurrency)
	if err != nil {
		return nil, err
	}
	// Like the receiver's, the relay's exit status is not the phase's
	// concern: its figures are taken by then.
	defer rp.stop(10 * time.Second)
	api, err := client.New(rp.url, "relay", client.WithHTTPClient(r.api))
	if err != nil {
		return nil, err
	}
	var warm string
	if paced {
		if warm, err = r.warmUp(ctx, name, []*client.Client{api}, accounts); err != nil {
			return nil, err
		}
	}
	if err := r.rcv.reset(ctx); err != nil {
		return nil, err
	}
	sub := newSubmitter([]*client.Client{api}, accounts, r.payloads, nil)
	cl := &cluster{}
	u0 := r.relayUsage(cl, rp)
	if paced {
		go sub.runPaced(ctx, r.cfg.Events, r.cfg.Rate, max(r.cfg.Submitters, 64))
	} else {
		go sub.runClosed(ctx, r.cfg.Events, r.cfg.Submitters)
	}
	st, incomplete, err := r.watch(ctx, watchOptions{name: name, cl: cl, sub: sub, keep: counts(nil), deliveries: true})
	if err != nil {
		return nil, err
	}
	u1 := r.relayUsage(cl, rp)
	res := r.phaseResult(name, nil, sub, st, counts(nil), u0, u1)
	res.Incomplete = incomplete
	res.PeakRSSMiB = round(mib(rp.sampler.PeakRSS()), 1)
	if res.Events > 0 {
		res.CPUMsPerEvent = round(res.HookdCPUS*1000/float64(res.Events), 4)
	}
	res.Notes = append(res.Notes, "the minimal relay (decode, sign, send; no storage): its hookd_* figures are the relay process's")
	if warm != "" {
		res.Notes = append(res.Notes, warm)
	}
	r.res.Phases = append(r.res.Phases, *res)
	return res, nil
}

// relayUsage is usage with the relay's CPU time in place of the nodes'.
func (r *runner) relayUsage(cl *cluster, rp *relayProc) usage {
	u := r.usage(cl)
	rp.sampler.Sample()
	u.nodes = []time.Duration{rp.sampler.Last().CPU}
	u.postgres = 0
	return u
}

// compareRelay records hookd's throughput and CPU per delivery as ratios
// of the relay's, under prefix ("max", "steady_fanout").
func (r *runner) compareRelay(prefix string, hookd, relay *PhaseResult) {
	if relay.DeliveriesPerS > 0 {
		r.res.setRatio(prefix+"_throughput_vs_relay", hookd.DeliveriesPerS/relay.DeliveriesPerS)
	}
	if relay.CPUMsPerDelivery > 0 {
		r.res.setRatio(prefix+"_cpu_per_delivery_vs_relay", hookd.CPUMsPerDelivery/relay.CPUMsPerDelivery)
	}
	r.printf("[%s] hookd: %.0f deliveries/s, %.4f ms CPU per delivery; relay: %.0f deliveries/s, %.4f ms\n",
		prefix, hookd.DeliveriesPerS, hookd.CPUMsPerDelivery, relay.DeliveriesPerS, relay.CPUMsPerDelivery)
}

// relayReference runs the relay after hookd's phase of a scenario, when
// --relay is on, and compares the two.
func (r *runner) relayReference(ctx context.Context, prefix string, hookd *PhaseResult, paced bool) error {
	if !r.cfg.Relay || hookd == nil {
		return nil
	}
	name := "relay"
	if paced {
		name = "relay-" + strings.ReplaceAll(prefix, "_", "-")
	}
	rel, err := r.relayPhase(ctx, name, paced)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	r.compareRelay(prefix, hookd, rel)
	return nil
}
