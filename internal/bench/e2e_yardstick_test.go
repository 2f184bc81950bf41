package bench

import (
	"slices"
	"strings"
	"testing"
)

// The relay runs in the same run as max and is compared with hookd.
func TestRunMaxRelayEndToEnd(t *testing.T) {
	res, stdout := runEndToEnd(t, "--scenario", "max", "--events", "200", "--accounts", "10", "--ceiling-duration", "0")
	if len(res.Phases) != 2 || res.Phases[1].Name != "relay" {
		t.Fatalf("phases = %d, want max and relay\n%s", len(res.Phases), stdout)
	}
	rel := res.Phases[1]
	const want = 200 * 5
	if rel.Events != 200 || rel.Deliveries != want || rel.Duplicates != 0 || rel.Incomplete || rel.Latency.Count != want {
		t.Errorf("relay = events %d deliveries %d duplicates %d incomplete %t latency count %d, want 200 %d 0 false %d",
			rel.Events, rel.Deliveries, rel.Duplicates, rel.Incomplete, rel.Latency.Count, want, want)
	}
	if rel.HookdCPUS <= 0 || rel.CPUMsPerDelivery <= 0 || rel.PeakRSSMiB <= 0 {
		t.Errorf("relay CPU %v s (%v ms/delivery), RSS %v MiB; want positive", rel.HookdCPUS, rel.CPUMsPerDelivery, rel.PeakRSSMiB)
	}
	if res.Ratios["max_throughput_vs_relay"] <= 0 || res.Ratios["max_cpu_per_delivery_vs_relay"] <= 0 {
		t.Errorf("ratios = %v; want hookd against the relay", res.Ratios)
	}
}

// steady-fanout paces events to 5 endpoints each, then the relay at the
// same pace, each after a warm-up that is reported apart and not counted.
func TestRunSteadyFanoutEndToEnd(t *testing.T) {
	res, stdout := runEndToEnd(t, "--scenario", "steady-fanout", "--rate", "50", "--duration", "3s", "--endpoints", "10",
		"--warmup", "1s", "--ceiling-duration", "0")
	if len(res.Phases) != 2 || res.Phases[0].Name != "steady-fanout" || res.Phases[1].Name != "relay-steady-fanout" {
		t.Fatalf("phases = %+v, want steady-fanout and its relay\n%s", res.Phases, stdout)
	}
	for _, p := range res.Phases {
		// A loaded machine may not submit all 150 events within 3 s.
		if p.Events < 15 || p.Expected != 5*p.Events || p.Deliveries < uint64(p.Expected) || p.Incomplete {
			t.Errorf("%s = events %d expected %d deliveries %d incomplete %t; want 5 deliveries per event, all arrived",
				p.Name, p.Events, p.Expected, p.Deliveries, p.Incomplete)
		}
		// The warm-up's 50 events (250 deliveries) are not counted.
		if p.Deliveries >= uint64(p.Expected)+250 {
			t.Errorf("%s counted %d deliveries for %d expected: the warm-up's were counted", p.Name, p.Deliveries, p.Expected)
		}
		if !slices.ContainsFunc(p.Notes, func(n string) bool { return strings.HasPrefix(n, "warm-up (not counted): 50 events") }) {
			t.Errorf("%s notes = %q; want the warm-up's figures", p.Name, p.Notes)
		}
		if p.Latency.P99 <= 0 || p.Latency.Max < p.Latency.P99 || p.CPUMsPerEvent <= 0 {
			t.Errorf("%s latency %+v, CPU %v ms/event; want figures", p.Name, p.Latency, p.CPUMsPerEvent)
		}
	}
}

// batch measures the intake of single events and of batches on API-only
// nodes and compares them.
func TestRunBatchEndToEnd(t *testing.T) {
	res, stdout := runEndToEnd(t, "--scenario", "batch", "--events", "1000", "--batch-size", "100", "--submitters", "4",
		"--ceiling-duration", "0")
	if len(res.Phases) != 2 || res.Phases[0].Name != "intake-single" || res.Phases[1].Name != "intake-batch" {
		t.Fatalf("phases = %+v, want intake-single and intake-batch\n%s", res.Phases, stdout)
	}
	for _, p := range res.Phases {
		if p.Events != 1000 || p.SubmitErrors != 0 || p.Deliveries != 0 || p.IntakePerS <= 0 || p.CPUMsPerEvent <= 0 {
			t.Errorf("%s = events %d errors %d deliveries %d intake %v/s CPU %v ms/event; want 1000 events taken, none delivered",
				p.Name, p.Events, p.SubmitErrors, p.Deliveries, p.IntakePerS, p.CPUMsPerEvent)
		}
	}
	if res.Ratios["batch_intake_vs_single"] <= 0 {
		t.Errorf("ratios = %v; want the batch intake against single events", res.Ratios)
	}
}
