package bench

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hookd/hookd/internal/hostile"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// runner is one "hookd-bench run": its configuration, the processes it
// started and the results so far.
type runner struct {
	cfg      *runConfig
	out      io.Writer
	outMu    sync.Mutex
	tmp      string
	hookdBin string
	rcv      *receiverProc
	roots    *x509.CertPool
	payloads *payloads
	// api is the HTTP client of every hookd API client: enough idle
	// connections per host for all submitters.
	api *http.Client
	res *Result
	// certFile is hookd's SSL_CERT_FILE: the receiver's certificate and,
	// with --hostile, the hostile kit's CA.
	certFile   string
	hostileSrv []*hostile.Server
	// hostileURL maps hostile endpoint indexes to their receivers.
	hostileURL map[int]string
	// self starts this program's own commands: the receiver, the relay.
	self func(args ...string) *exec.Cmd
}

func (r *runner) printf(format string, args ...any) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	fmt.Fprintf(r.out, format, args...)
}

func runBench(ctx context.Context, args []string, env Env) (err error) {
	cfg, err := parseRunFlags(args, env.Stderr)
	if err != nil {
		return err
	}
	r := &runner{cfg: cfg, out: env.Stdout, self: env.Self}
	r.res = &Result{Scenario: cfg.Scenario, StartedAt: time.Now().UTC(), Config: cfg, Machine: machineInfo()}
	if r.tmp, err = os.MkdirTemp("", "hookd-bench-"); err != nil {
		return err
	}
	defer func() {
		if cfg.KeepTmp || err != nil {
			r.printf("kept %s (databases and logs)\n", r.tmp)
			return
		}
		os.RemoveAll(r.tmp)
	}()
	r.printf("hookd-bench: scenario %s, temporary directory %s\n", cfg.Scenario, r.tmp)

	if r.payloads, err = newPayloads(cfg.CallBytes, cfg.SMSBytes); err != nil {
		return err
	}
	if err := r.prepareHookd(ctx); err != nil {
		return err
	}
	if r.rcv, err = startReceiver(ctx, env.Self, r.tmp); err != nil {
		return err
	}
	defer r.rcv.stop(5 * time.Second)
	if err := r.startHostile(); err != nil {
		return err
	}
	defer r.stopHostile()
	pem, err := os.ReadFile(r.rcv.certFile)
	if err != nil {
		return err
	}
	r.roots = x509.NewCertPool()
	if !r.roots.AppendCertsFromPEM(pem) {
		return errors.New("receiver certificate: no PEM certificate")
	}
	r.printf("receiver: https://%s (pid %d), control %s\n", r.rcv.addr, r.rcv.pid(), r.rcv.control)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.Submitters + 16
	r.api = &http.Client{Transport: tr, Timeout: 60 * time.Second}
	defer tr.CloseIdleConnections()

	if cfg.CeilingDuration > 0 {
		r.printf("raw ceiling: %d concurrent signed requests for %s, no storage\n", cfg.Concurrency, cfg.CeilingDuration)
		if r.res.Ceiling, err = r.measureCeiling(ctx, cfg.CeilingDuration, cfg.Concurrency, cfg.Endpoints); err != nil {
			return err
		}
		c := r.res.Ceiling
		r.printf("raw ceiling: %s requests/s (mean body %.0f B, p50 %.1f ms, p99 %.1f ms)\n",
			count(int64(c.RequestsPerS)), c.MeanBodyBytes, c.Latency.P50, c.Latency.P99)
	}

	var runErr error
	switch cfg.Scenario {
	case "max", "pg":
		runErr = r.scenarioMax(ctx)
	case "steady":
		runErr = r.scenarioSteady(ctx)
	case "steady-fanout":
		runErr = r.scenarioSteadyFanout(ctx)
	case "batch":
		runErr = r.scenarioBatch(ctx)
	case "backlog":
		runErr = r.scenarioBacklog(ctx)
	case "isolation":
		runErr = r.scenarioIsolation(ctx)
	case "filter":
		runErr = r.scenarioFilter(ctx)
	case "soak":
		runErr = r.scenarioSoak(ctx)
	}
	r.res.FinishedAt = time.Now().UTC()
	r.res.Checks = append(checks(r.res), yardstickChecks(r.res)...)
	if runErr != nil {
		r.res.Error = runErr.Error()
	}
	if len(r.res.Phases) > 0 || runErr == nil {
		r.printTable()
		if err := r.writeJSON(); err != nil {
			return errors.Join(runErr, err)
		}
	}
	return runErr
}

// prepareHookd builds hookd unless --hookd names a binary, and records its
// version and the repository's commit.
func (r *runner) prepareHookd(ctx context.Context) error {
	r.hookdBin = r.cfg.Hookd
	if r.hookdBin == "" {
		// Read the commit before building: the tree may move meanwhile.
		r.res.Commit = repoCommit(ctx, r.cfg.Repo)
		r.hookdBin = filepath.Join(r.tmp, "hookd")
		r.printf("building hookd: go build -o %s ./cmd/hookd\n", r.hookdBin)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", r.hookdBin, "./cmd/hookd")
		cmd.Dir = r.cfg.Repo
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build hookd in %s (run from the repository root or pass --repo/--hookd): %w\n%s", r.cfg.Repo, err, out)
		}
	} else if abs, err := filepath.Abs(r.hookdBin); err == nil {
		r.hookdBin = abs
	}
	if out, err := exec.CommandContext(ctx, r.hookdBin, "version").Output(); err == nil {
		r.res.HookdVersion = strings.TrimSpace(string(out))
	} else {
		return fmt.Errorf("%s version: %w", r.hookdBin, err)
	}
	switch {
	case r.cfg.Commit != "":
		r.res.Commit = r.cfg.Commit
	case r.cfg.Hookd != "":
		r.res.Commit = binaryCommit(r.hookdBin) // "" if built with -buildvcs=false
	}
	return nil
}

// repoCommit returns the short HEAD commit of the repository, with
// "-dirty" if tracked files differ from it (untracked ones, such as this
// tool's own during development, do not make hookd's build differ).
func repoCommit(ctx context.Context, repo string) string {
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD")
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	commit := strings.TrimSpace(string(out))
	cmd = exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no")
	cmd.Dir = repo
	if out, err := cmd.Output(); err == nil && len(strings.TrimSpace(string(out))) > 0 {
		commit += "-dirty"
	}
	return commit
}

// binaryCommit returns the commit a Go binary was built from, from its
// build information: the short revision, "-dirty" if the tree had changes.
// It returns "" if the binary does not say.
func binaryCommit(path string) string {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return ""
	}
	var rev string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return ""
	}
	rev = rev[:min(len(rev), 7)]
	if modified {
		rev += "-dirty"
	}
	return rev
}

// writeJSON writes the results file.
func (r *runner) writeJSON() error {
	path := r.cfg.Out
	if path == "" {
		path = filepath.Join("bench-results", fmt.Sprintf("%s-%s.json", r.cfg.Scenario, r.res.StartedAt.Format("20060102-150405")))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r.res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	r.printf("results: %s\n", path)
	return nil
}

// newToken returns a random admin token for the hookd nodes of a phase.
func newToken() string {
	var b [24]byte
	rand.Read(b[:])
	return "hka_bench_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// machineInfo describes where the run happens.
func machineInfo() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		for _, line := range strings.Split(string(b), "\n") {
			if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
				m.MemoryMiB = kb >> 10
				break
			}
		}
	}
	return m
}
