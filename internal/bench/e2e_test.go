package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// selfEnv makes the test binary act as hookd-bench (the receiver that run
// re-executes) instead of running tests.
const selfEnv = "HOOKD_BENCH_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(selfEnv) == "1" {
		os.Exit(Main(context.Background(), os.Args[1:], OSEnv()))
	}
	os.Exit(m.Run())
}

// syncBuffer collects output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunMaxEndToEnd builds hookd and runs a small max scenario: 300
// events to 2 accounts of 25 endpoints each.
func TestRunMaxEndToEnd(t *testing.T) {
	res, stdout := runEndToEnd(t, "--scenario", "max", "--events", "300", "--accounts", "2", "--ceiling-duration", "2s")
	if res.Ceiling == nil || res.Ceiling.RequestsPerS <= 0 || res.Ceiling.Errors != 0 {
		t.Errorf("raw ceiling = %+v, want a rate without errors", res.Ceiling)
	}
	// max, then the minimal relay (relay_test.go checks its row).
	if len(res.Phases) != 2 || res.Phases[0].Name != "max" || res.Phases[1].Name != "relay" {
		t.Fatalf("phases = %d, want max and relay\n%s", len(res.Phases), stdout)
	}
	p := res.Phases[0]
	const want = 300 * 25
	if p.Events != 300 || p.Expected != want || p.Deliveries != want || p.Duplicates != 0 || p.Incomplete {
		t.Errorf("phase = events %d expected %d deliveries %d duplicates %d incomplete %t, want 300 %d %d 0 false",
			p.Events, p.Expected, p.Deliveries, p.Duplicates, p.Incomplete, want, want)
	}
	if p.DeliveriesPerS <= 0 || p.PctOfCeiling <= 0 || p.Latency.Count != want || p.Latency.P99 <= 0 {
		t.Errorf("phase rates = %v/s, %v %% of ceiling, latency %+v; want all positive", p.DeliveriesPerS, p.PctOfCeiling, p.Latency)
	}
	if p.PeakRSSMiB <= 0 || p.HookdCPUS <= 0 || p.CPUMsPerDelivery <= 0 {
		t.Errorf("phase = peak RSS %v MiB, CPU %v s (%v ms/delivery); want positive", p.PeakRSSMiB, p.HookdCPUS, p.CPUMsPerDelivery)
	}
	if res.Commit == "" || res.HookdVersion == "" {
		t.Errorf("commit %q, hookd version %q; want both", res.Commit, res.HookdVersion)
	}
}

// TestRunSoakEndToEnd runs a short soak: 4 of 20 endpoints on hostile
// receivers, every healthy delivery made, and samples of the node.
func TestRunSoakEndToEnd(t *testing.T) {
	res, stdout := runEndToEnd(t, "--scenario", "soak", "--rate", "50", "--duration", "4s", "--endpoints", "20",
		"--hostile", "0.2", "--sample-every", "1s", "--ceiling-duration", "0")
	if len(res.Phases) != 1 {
		t.Fatalf("phases = %d, want 1\n%s", len(res.Phases), stdout)
	}
	p := res.Phases[0]
	// One endpoint per account, 16 healthy of 20; a loaded machine may
	// not submit all 200 events within the 4 s. An event whose submission
	// was cut at the end may be delivered without being counted.
	if p.Events < 20 || p.Events > 200 || p.Expected < p.Events/2 || p.Deliveries < uint64(p.Expected) || p.Incomplete {
		t.Errorf("phase = events %d expected %d deliveries %d incomplete %t, want 20-200 events, every expected delivery\n%s",
			p.Events, p.Expected, p.Deliveries, p.Incomplete, stdout)
	}
	if len(p.Samples) < 2 {
		t.Fatalf("samples = %+v, want at least 2", p.Samples)
	}
	for _, s := range p.Samples {
		if s.RSSMiB <= 0 || s.FDs <= 0 || s.Goroutines <= 0 || s.Threads <= 0 {
			t.Errorf("sample %+v: want RSS, fds, goroutines and threads", s)
		}
	}
}

// runEndToEnd builds hookd, runs hookd-bench with args and returns the
// results and what it printed.
func runEndToEnd(t *testing.T, args ...string) (*Result, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs hookd")
	}
	if os.Getenv("HOOKD_BENCH_E2E") != "1" {
		t.Skip("set HOOKD_BENCH_E2E=1 to build hookd and run a short benchmark")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "hookd")); err != nil {
		t.Fatalf("repository root not found: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "results.json")
	var stdout, stderr syncBuffer
	env := Env{Stdout: &stdout, Stderr: &stderr, Self: func(args ...string) *exec.Cmd {
		cmd := exec.Command(exe, args...)
		cmd.Env = append(os.Environ(), selfEnv+"=1")
		return cmd
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Main(ctx, append([]string{"run", "--repo", root, "--out", out}, args...), env)
	if code != 0 {
		t.Fatalf("run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("results: %v", err)
	}
	return &res, stdout.String()
}
