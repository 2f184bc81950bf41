package bench

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is the JSON file a run writes.
type Result struct {
	Scenario     string         `json:"scenario"`
	StartedAt    time.Time      `json:"started_at"`
	FinishedAt   time.Time      `json:"finished_at"`
	Commit       string         `json:"commit,omitempty"`
	HookdVersion string         `json:"hookd_version,omitempty"`
	Machine      Machine        `json:"machine"`
	Config       *runConfig     `json:"config"`
	Ceiling      *CeilingResult `json:"raw_ceiling,omitempty"`
	Phases       []PhaseResult  `json:"phases"`
	// Ratios holds figures derived across phases, such as the share of
	// their throughput healthy endpoints keep next to hanging ones.
	Ratios map[string]float64 `json:"ratios,omitempty"`
	Checks []Check            `json:"checks,omitempty"`
	Error  string             `json:"error,omitempty"`
}

func (r *Result) setRatio(name string, v float64) {
	if r.Ratios == nil {
		r.Ratios = make(map[string]float64)
	}
	r.Ratios[name] = round(v, 3)
}

// Machine describes where the run happened.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model,omitempty"`
	MemoryMiB int64  `json:"memory_mib,omitempty"`
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	GoVersion string `json:"go_version"`
}

// PhaseResult is one measured run of hookd.
type PhaseResult struct {
	Name  string `json:"name"`
	Nodes int    `json:"nodes"`
	// Events is how many events hookd accepted; Expected how many
	// deliveries (to counted endpoints) it reported for them.
	Events       int64  `json:"events"`
	SubmitErrors int64  `json:"submit_errors"`
	Expected     int64  `json:"expected_deliveries"`
	Deliveries   uint64 `json:"deliveries"`
	Duplicates   uint64 `json:"duplicates"`
	Hung         uint64 `json:"hung_requests,omitempty"`
	// Incomplete: deliveries stopped arriving before all were in.
	Incomplete bool `json:"incomplete,omitempty"`
	// DeliveriesPerS is Deliveries over the span from the first arrival
	// to the last; PctOfCeiling compares it with the raw ceiling.
	DeliveriesPerS float64 `json:"deliveries_per_sec"`
	PctOfCeiling   float64 `json:"pct_of_raw_ceiling,omitempty"`
	WindowS        float64 `json:"window_seconds"`
	// WallS runs from the first submission to the last arrival.
	WallS         float64  `json:"wall_seconds,omitempty"`
	IntakePerS    float64  `json:"intake_events_per_sec,omitempty"`
	Latency       Summary  `json:"latency_accept_to_arrival"`
	SubmitLatency *Summary `json:"submit_latency,omitempty"`
	MeanBodyBytes float64  `json:"mean_body_bytes,omitempty"`
	// PeakRSSMiB is the largest node's peak (VmHWM and sampled VmRSS).
	PeakRSSMiB     float64   `json:"peak_rss_mib"`
	NodePeakRSSMiB []float64 `json:"node_peak_rss_mib,omitempty"`
	// HookdCPUS is the nodes' CPU time over the phase (submission to last
	// arrival); CPUMsPerDelivery divides it by every delivery that arrived.
	HookdCPUS        float64 `json:"hookd_cpu_seconds"`
	HookdCores       float64 `json:"hookd_cores"`
	CPUMsPerDelivery float64 `json:"cpu_ms_per_delivery,omitempty"`
	CPUMsPerEvent    float64 `json:"cpu_ms_per_event,omitempty"`
	ReceiverCPUS     float64 `json:"receiver_cpu_seconds"`
	// PostgresCPUS is the PostgreSQL server's CPU time (all "postgres"
	// processes, reaped backends included), with --db.
	PostgresCPUS float64 `json:"postgres_cpu_seconds,omitempty"`
	// PostgreSQL's own CPU per delivery and per event (see postgresCost).
	PostgresCPUMsPerDelivery float64 `json:"postgres_cpu_ms_per_delivery,omitempty"`
	PostgresCPUMsPerEvent    float64 `json:"postgres_cpu_ms_per_event,omitempty"`
	BenchCPUS                float64 `json:"bench_cpu_seconds"`
	// OtherCPUS is CPU time of processes outside the benchmark (from
	// /proc/stat): a busy machine skews every figure.
	OtherCPUS float64  `json:"other_cpu_seconds"`
	Notes     []string `json:"notes,omitempty"`
	// Samples are the soak's readings of every node over time.
	Samples []Sample `json:"samples,omitempty"`
}

// Check is one of the targets next to what was measured.
type Check struct {
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Pass     bool   `json:"pass"`
}

// checks compares the results with the targets for 2 cores.
func checks(r *Result) []Check {
	var out []Check
	add := func(target string, measured float64, unit string, pass bool) {
		out = append(out, Check{Target: target, Measured: strconv.FormatFloat(measured, 'f', -1, 64) + unit, Pass: pass})
	}
	for _, p := range r.Phases {
		if p.Incomplete {
			out = append(out, Check{Target: p.Name + ": every delivery arrives", Measured: fmt.Sprintf("%d of %d", p.Deliveries, p.Expected)})
		}
		switch p.Name {
		case "max":
			add("max: ≥ 8,000 deliveries/s", p.DeliveriesPerS, "/s", p.DeliveriesPerS >= 8000)
			if r.Ceiling != nil {
				add("max: ≥ 60 % of the raw ceiling", p.PctOfCeiling, " %", p.PctOfCeiling >= 60)
			}
			add("max: ≤ 0.15 ms hookd CPU per delivery", p.CPUMsPerDelivery, " ms", p.CPUMsPerDelivery <= 0.15)
		case "steady":
			add("steady: p99 accept→arrival < 25 ms", p.Latency.P99, " ms", p.Latency.P99 < 25)
		case "pg-2node":
			add("pg, 2 nodes: ≥ 5,000 deliveries/s", p.DeliveriesPerS, "/s", p.DeliveriesPerS >= 5000)
		}
	}
	if v, ok := r.Ratios["filtered_throughput_kept"]; ok {
		add("filter: 5 filtered endpoints per event keep ≥ 90 % of unfiltered deliveries/s", round(100*v, 1), " %", v >= 0.9)
	}
	if v, ok := r.Ratios["backlog_peak_rss_mib"]; ok {
		add("backlog: RSS < 200 MiB throughout", v, " MiB", v < 200)
		if ref := referenceMax(r.Config); ref != nil {
			for _, p := range r.Phases {
				if p.Name != "backlog-drain" {
					continue
				}
				ratio := p.DeliveriesPerS / ref.DeliveriesPerS
				how := "deliveries/s"
				if p.PctOfCeiling > 0 && ref.PctOfCeiling > 0 {
					ratio, how = p.PctOfCeiling/ref.PctOfCeiling, "% of each run's raw ceiling"
				}
				r.setRatio("drain_vs_max", ratio)
				add("backlog: drain rate within 20 % of max throughput ("+how+")", round(100*ratio, 1), " %", ratio >= 0.8)
			}
		}
	}
	if v, ok := r.Ratios["healthy_throughput_kept"]; ok {
		add("isolation: healthy endpoints keep ≥ 90 % of their throughput", round(100*v, 1), " %", v >= 0.9)
	}
	return out
}

// referenceMax reads the max phase of the --reference results file.
func referenceMax(c *runConfig) *PhaseResult {
	if c == nil || c.Reference == "" {
		return nil
	}
	b, err := os.ReadFile(c.Reference)
	if err != nil {
		return nil
	}
	var ref Result
	if json.Unmarshal(b, &ref) != nil {
		return nil
	}
	for _, p := range ref.Phases {
		if p.Name == "max" && p.DeliveriesPerS > 0 {
			return &p
		}
	}
	return nil
}

// printTable prints the compact summary.
func (r *runner) printTable() {
	res := r.res
	var b strings.Builder
	fmt.Fprintf(&b, "\nhookd-bench %s — %s, %d CPUs, %s, commit %s, %s\n", res.Scenario, res.Machine.CPUModel,
		res.Machine.CPUs, res.Machine.GoVersion, cmp.Or(res.Commit, "?"), res.StartedAt.Format(time.RFC3339))
	if c := res.Ceiling; c != nil {
		fmt.Fprintf(&b, "raw ceiling: %s requests/s (%d concurrent, %.0fs, mean body %.0f B, p50 %.2f ms, p99 %.2f ms)\n",
			count(int64(c.RequestsPerS)), c.Concurrency, c.Seconds, c.MeanBodyBytes, c.Latency.P50, c.Latency.P99)
		if share := c.OtherCPUSeconds / (c.Seconds * float64(res.Machine.CPUs)); share > 0.05 {
			fmt.Fprintf(&b, "  other processes used %.0f %% of the machine's CPU during the raw ceiling: it is skewed\n", 100*share)
		}
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tevents\tdeliveries\tdeliv/s\t% ceiling\tp50 ms\tp90 ms\tp99 ms\tmax ms\tRSS MiB\tCPU ms/dlv\tdups\t")
	for _, p := range res.Phases {
		pct, cpu := "-", "-"
		if p.PctOfCeiling > 0 {
			pct = fmt.Sprintf("%.1f", p.PctOfCeiling)
		}
		if p.CPUMsPerDelivery > 0 {
			cpu = fmt.Sprintf("%.3f", p.CPUMsPerDelivery)
		} else if p.CPUMsPerEvent > 0 {
			cpu = fmt.Sprintf("%.3f/evt", p.CPUMsPerEvent)
		}
		deliveries := count(int64(p.Deliveries))
		if p.Incomplete {
			deliveries += "!"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.0f\t%s\t%d\t\n",
			p.Name, count(p.Events), deliveries, count(int64(p.DeliveriesPerS)), pct,
			p.Latency.P50, p.Latency.P90, p.Latency.P99, p.Latency.Max, p.PeakRSSMiB, cpu, p.Duplicates)
	}
	tw.Flush()
	for _, p := range res.Phases {
		fmt.Fprintf(&b, "%s: intake %s events/s, CPU s: hookd %.1f (%.2f cores), receiver %.1f, bench %.1f",
			p.Name, count(int64(p.IntakePerS)), p.HookdCPUS, p.HookdCores, p.ReceiverCPUS, p.BenchCPUS)
		if p.PostgresCPUS > 0 {
			fmt.Fprintf(&b, ", postgres %.1f (%.4f ms/delivery, %.4f ms/event)", p.PostgresCPUS, p.PostgresCPUMsPerDelivery, p.PostgresCPUMsPerEvent)
		}
		fmt.Fprintf(&b, ", other %.1f", p.OtherCPUS)
		if p.SubmitLatency != nil {
			fmt.Fprintf(&b, ", submit p50 %.1f ms p99 %.1f ms", p.SubmitLatency.P50, p.SubmitLatency.P99)
		}
		b.WriteString("\n")
		for _, n := range p.Notes {
			fmt.Fprintf(&b, "  %s\n", n)
		}
	}
	for _, c := range res.Checks {
		mark := "FAIL"
		if c.Pass {
			mark = "pass"
		}
		fmt.Fprintf(&b, "%s  %s: %s\n", mark, c.Target, c.Measured)
	}
	r.printf("%s", b.String())
}

// count formats n with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
