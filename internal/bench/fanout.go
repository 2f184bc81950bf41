package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// scenarioSteadyFanout: --rate events/s for --duration, open loop, each
// event to --fanout endpoints of its account; then, with --relay, the
// same pace through the minimal relay. The figures that matter are the
// tail of accept→arrival (p99, max) below hookd's maximum, and hookd's
// CPU per event and per delivery.
func (r *runner) scenarioSteadyFanout(ctx context.Context) error {
	name := r.phaseName("steady-fanout", r.cfg.Nodes[0])
	if _, err := r.deliveryPhase(ctx, phaseSpec{name: name, nodes: r.cfg.Nodes[0], paced: true, warmup: true}); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	p := &r.res.Phases[len(r.res.Phases)-1]
	if p.Events > 0 {
		p.CPUMsPerEvent = round(p.HookdCPUS*1000/float64(p.Events), 4)
	}
	p.Notes = append(p.Notes, fmt.Sprintf("paced at %.0f events/s × %d endpoints for %s (%.0f deliveries/s offered); achieved intake %.0f events/s; hookd CPU %.4f ms per event, %.4f ms per delivery",
		r.cfg.Rate, r.cfg.Fanout, r.cfg.Duration, r.cfg.Rate*float64(r.cfg.Fanout), p.IntakePerS, p.CPUMsPerEvent, p.CPUMsPerDelivery))
	hookd := *p // the relay phase appends to r.res.Phases
	return r.relayReference(ctx, "steady_fanout", &hookd, true)
}

// postgresCost sets PostgreSQL's own CPU per delivery and per event from
// its CPU time pg over a phase (all "postgres" processes, reaped backends
// included: see commandCPU), and notes how many deliveries/s one
// PostgreSQL core feeds at that cost.
func postgresCost(res *PhaseResult, pg time.Duration, deliveries uint64) {
	if deliveries > 0 {
		res.PostgresCPUMsPerDelivery = round(pg.Seconds()*1000/float64(deliveries), 4)
		res.Notes = append(res.Notes, fmt.Sprintf("PostgreSQL: %.4f ms CPU per delivery: one PostgreSQL core feeds about %s deliveries/s at this cost",
			res.PostgresCPUMsPerDelivery, count(int64(1000/res.PostgresCPUMsPerDelivery))))
	}
	if res.Events > 0 {
		res.PostgresCPUMsPerEvent = round(pg.Seconds()*1000/float64(res.Events), 4)
	}
}

// yardstickChecks are the targets of the steady-fanout, batch and relay
// measurements, for 2 cores.
func yardstickChecks(r *Result) []Check {
	var out []Check
	add := func(target string, measured float64, unit string, pass bool) {
		out = append(out, Check{Target: target, Measured: strconv.FormatFloat(measured, 'f', -1, 64) + unit, Pass: pass})
	}
	for _, p := range r.Phases {
		switch p.Name {
		case "steady-fanout":
			add("steady-fanout: p99 accept→arrival < 25 ms", p.Latency.P99, " ms", p.Latency.P99 < 25)
			add("steady-fanout: max accept→arrival < 100 ms", p.Latency.Max, " ms", p.Latency.Max < 100)
		case "steady-fanout-pg-1node":
			add("steady-fanout, PostgreSQL: p99 accept→arrival < 50 ms", p.Latency.P99, " ms", p.Latency.P99 < 50)
		case "steady":
			if p.CPUMsPerEvent > 0 {
				add("steady: ≤ 0.25 ms hookd CPU per event", p.CPUMsPerEvent, " ms", p.CPUMsPerEvent <= 0.25)
			}
		}
	}
	if v, ok := r.Ratios["batch_intake_vs_single"]; ok {
		add("batch: intake ≥ 3× the single-event intake", v, "×", v >= 3)
	}
	if v, ok := r.Ratios["max_throughput_vs_relay"]; ok {
		add("max: ≥ 60 % of the minimal relay's throughput", round(100*v, 1), " %", v >= 0.6)
	}
	return out
}
