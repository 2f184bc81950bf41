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
	code := Main(ctx, []string{"run", "--scenario", "max", "--events", "300", "--accounts", "2",
		"--ceiling-duration", "2s", "--repo", root, "--out", out}, env)
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
	if res.Ceiling == nil || res.Ceiling.RequestsPerS <= 0 || res.Ceiling.Errors != 0 {
		t.Errorf("raw ceiling = %+v, want a rate without errors", res.Ceiling)
	}
	if len(res.Phases) != 1 {
		t.Fatalf("phases = %d, want 1\n%s", len(res.Phases), stdout.String())
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
