package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Scenarios run knows.
var scenarios = []string{"max", "steady", "steady-fanout", "batch", "backlog", "isolation", "filter", "pg", "soak"}

// defaultPostgresURL is where the pg scenario creates its database unless
// --db says otherwise.
const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// runConfig holds run's flags. Zero values take the scenario's defaults
// (see withDefaults).
type runConfig struct {
	Scenario        string        `json:"scenario"`
	Hookd           string        `json:"hookd,omitempty"`
	Commit          string        `json:"commit,omitempty"`
	Repo            string        `json:"repo"`
	Out             string        `json:"out"`
	Events          int           `json:"events"`
	Accounts        int           `json:"accounts"`
	Endpoints       int           `json:"endpoints"`
	Submitters      int           `json:"submitters"`
	Rate            float64       `json:"rate,omitempty"`
	Duration        time.Duration `json:"duration,omitempty"`
	CeilingDuration time.Duration `json:"ceiling_duration"`
	Concurrency     int           `json:"concurrency"`
	DB              string        `json:"db,omitempty"`
	Nodes           []int         `json:"nodes,omitempty"`
	HangFraction    float64       `json:"hang_fraction,omitempty"`
	Hostile         float64       `json:"hostile,omitempty"`
	SampleEvery     time.Duration `json:"sample_every,omitempty"`
	StallTimeout    time.Duration `json:"stall_timeout"`
	CallBytes       int           `json:"call_bytes"`
	SMSBytes        int           `json:"sms_bytes"`
	Profile         string        `json:"profile,omitempty"`
	ProfileSeconds  int           `json:"profile_seconds,omitempty"`
	ProfileDelay    time.Duration `json:"profile_delay,omitempty"`
	TraceSeconds    int           `json:"trace_seconds,omitempty"`
	Warmup          time.Duration `json:"warmup,omitempty"`
	KeepTmp         bool          `json:"keep_tmp,omitempty"`
	Reference       string        `json:"reference,omitempty"`
	HookdArgs       []string      `json:"hookd_args,omitempty"`
	// Fanout, BatchSize and Relay: see relay.go, batch.go, fanout.go.
	Fanout    int  `json:"fanout,omitempty"`
	BatchSize int  `json:"batch_size,omitempty"`
	Relay     bool `json:"relay"`
}

// stringsFlag is a repeatable flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, " ") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

func parseRunFlags(args []string, stderr io.Writer) (*runConfig, error) {
	c := &runConfig{}
	fs := flag.NewFlagSet("hookd-bench run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nodes string
	var hookdArgs stringsFlag
	fs.StringVar(&c.Scenario, "scenario", "", "max, steady, steady-fanout, batch, backlog, isolation, filter, pg or soak (required)")
	fs.StringVar(&c.Hookd, "hookd", "", "hookd binary to measure (default: go build ./cmd/hookd from --repo)")
	fs.StringVar(&c.Commit, "commit", "", "commit to report for a --hookd binary (default: its build info, or the repository's HEAD when run builds hookd)")
	fs.StringVar(&c.Repo, "repo", ".", "hookd repository root, to build hookd and read the commit")
	fs.StringVar(&c.Out, "out", "", "JSON results file (default bench-results/<scenario>-<time>.json)")
	fs.IntVar(&c.Events, "events", 0, "events to submit (default 100000; backlog 1000000; steady: rate × duration)")
	fs.IntVar(&c.Accounts, "accounts", 0, "accounts; endpoint i belongs to account i mod accounts (default 10: 5 endpoints each; steady 50: 1 each)")
	fs.IntVar(&c.Endpoints, "endpoints", 50, "endpoints, each subscribing to \"*\"")
	fs.IntVar(&c.Submitters, "submitters", 32, "goroutines submitting events through the API")
	fs.Float64Var(&c.Rate, "rate", 1000, "steady: events per second, paced open-loop")
	fs.DurationVar(&c.Duration, "duration", 60*time.Second, "steady: how long to submit")
	fs.DurationVar(&c.Warmup, "warmup", 5*time.Second, "steady-fanout: submit at --rate this long first, not counted (connections opened, caches filled), and report it apart")
	fs.DurationVar(&c.CeilingDuration, "ceiling-duration", 10*time.Second, "how long to measure the raw ceiling (0: skip it)")
	fs.IntVar(&c.Concurrency, "concurrency", 256, "hookd's --concurrency, and the raw-ceiling client's concurrency")
	fs.StringVar(&c.DB, "db", "", "postgres:// URL: run hookd on a fresh database created there (pg default: "+defaultPostgresURL+")")
	fs.StringVar(&nodes, "nodes", "", "hookd nodes sharing the database, e.g. 2 or 1,2 (pg default: 1,2; SQLite: 1)")
	fs.Float64Var(&c.HangFraction, "hang-fraction", 0.1, "isolation: share of endpoints that hang past the attempt timeout")
	fs.Float64Var(&c.Hostile, "hostile", 0, "share of endpoints pointing at hostile receivers (internal/hostile; soak default 0.1); their deliveries are not counted")
	fs.DurationVar(&c.SampleEvery, "sample-every", 30*time.Second, "soak: how often to sample hookd's RSS, open fds and goroutines")
	fs.DurationVar(&c.StallTimeout, "stall-timeout", 60*time.Second, "give up waiting for deliveries after this long without progress")
	fs.IntVar(&c.CallBytes, "call-bytes", 2048, "size of a call.received delivery body")
	fs.IntVar(&c.SMSBytes, "sms-bytes", 400, "size of an sms.received delivery body (the example is larger than 400: then as is)")
	fs.StringVar(&c.Profile, "profile", "", "write a CPU profile of hookd per phase into this directory (hookd --pprof)")
	fs.IntVar(&c.ProfileSeconds, "profile-seconds", 10, "length of each CPU profile")
	fs.DurationVar(&c.ProfileDelay, "profile-delay", 2*time.Second, "start each CPU profile this long into the phase")
	fs.IntVar(&c.TraceSeconds, "trace-seconds", 0, "with --profile: also an execution trace (runtime/trace) of each node this long, taken with the CPU profile (go tool trace)")
	fs.StringVar(&c.Reference, "reference", "", "backlog: results JSON of a max run, to compare the drain rate with (as % of each run's raw ceiling)")
	fs.BoolVar(&c.KeepTmp, "keep-tmp", false, "keep the temporary directory (databases, logs)")
	fs.IntVar(&c.Fanout, "fanout", 5, "steady-fanout: endpoints per event (accounts = endpoints / fanout)")
	fs.IntVar(&c.BatchSize, "batch-size", 100, "batch: events per POST /v1/events/batch, 1 to 500")
	fs.BoolVar(&c.Relay, "relay", true, "max, pg and steady-fanout: measure the minimal relay (no storage) in the same run, as the fair yardstick")
	fs.Var(&hookdArgs, "hookd-arg", "extra flag for hookd serve (repeatable), e.g. --hookd-arg=--log-level=warn")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	c.HookdArgs = hookdArgs
	for _, f := range strings.Split(nodes, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n < 1 || n > 16 {
			return nil, fmt.Errorf("--nodes: %q is not a number from 1 to 16", f)
		}
		c.Nodes = append(c.Nodes, n)
	}
	if err := c.withDefaults(); err != nil {
		return nil, err
	}
	return c, nil
}

// withDefaults fills in the scenario's defaults and checks the result.
func (c *runConfig) withDefaults() error {
	known := false
	for _, s := range scenarios {
		known = known || s == c.Scenario
	}
	if !known {
		return fmt.Errorf("--scenario: want one of %s, got %q", strings.Join(scenarios, ", "), c.Scenario)
	}
	switch c.Scenario {
	case "steady":
		if c.Events == 0 {
			c.Events = int(c.Rate * c.Duration.Seconds())
		}
		if c.Accounts == 0 {
			c.Accounts = c.Endpoints
		}
	case "soak":
		if c.Events == 0 {
			c.Events = int(c.Rate * c.Duration.Seconds())
		}
		if c.Accounts == 0 {
			c.Accounts = c.Endpoints
		}
		if c.Hostile == 0 {
			c.Hostile = 0.1
		}
		// Hostile endpoints stay enabled: a later --hookd-arg still wins.
		c.HookdArgs = append([]string{"--disable-after=0"}, c.HookdArgs...)
	case "steady-fanout":
		if c.Fanout < 1 || c.Fanout > c.Endpoints {
			return errors.New("--fanout must be from 1 to --endpoints")
		}
		if c.Accounts == 0 {
			c.Accounts = c.Endpoints / c.Fanout
		}
		if c.Accounts*c.Fanout != c.Endpoints {
			c.Endpoints = c.Accounts * c.Fanout // every account gets --fanout endpoints
		}
		if c.Events == 0 {
			c.Events = int(c.Rate * c.Duration.Seconds())
		}
	case "batch":
		if c.BatchSize < 1 || c.BatchSize > 500 {
			return errors.New("--batch-size must be from 1 to 500")
		}
	case "backlog":
		if c.Events == 0 {
			c.Events = 1_000_000
		}
	case "pg":
		if c.DB == "" {
			c.DB = defaultPostgresURL
		}
		if len(c.Nodes) == 0 {
			c.Nodes = []int{1, 2}
		}
	}
	if c.Events == 0 {
		c.Events = 100_000
	}
	if c.Accounts == 0 {
		c.Accounts = min(10, c.Endpoints)
	}
	if len(c.Nodes) == 0 {
		c.Nodes = []int{1}
	}
	switch {
	case c.Events < 1:
		return errors.New("--events must be positive")
	case c.Endpoints < 1 || c.Accounts < 1 || c.Accounts > c.Endpoints:
		return errors.New("--accounts and --endpoints must be positive, with no more accounts than endpoints")
	case c.Submitters < 1:
		return errors.New("--submitters must be positive")
	case c.Concurrency < 1:
		return errors.New("--concurrency must be positive")
	case (c.Scenario == "steady" || c.Scenario == "steady-fanout" || c.Scenario == "soak") && (c.Rate <= 0 || c.Duration <= 0):
		return errors.New("--rate and --duration must be positive")
	case c.Hostile < 0 || c.Hostile >= 1:
		return errors.New("--hostile must be in [0, 1)")
	case c.Hostile > 0 && c.Scenario != "soak":
		return errors.New("--hostile is for the soak scenario")
	case c.Scenario == "soak" && c.SampleEvery <= 0:
		return errors.New("--sample-every must be positive")
	case c.HangFraction < 0 || c.HangFraction >= 1:
		return errors.New("--hang-fraction must be in [0, 1)")
	case c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://"):
		return errors.New("--db must be a postgres:// URL (SQLite is the default)")
	case c.DB == "" && (len(c.Nodes) > 1 || c.Nodes[0] > 1):
		return errors.New("--nodes above 1 needs PostgreSQL (--db): SQLite is one node's")
	case c.Scenario == "backlog" && c.DB != "" && len(c.Nodes) > 1:
		return errors.New("backlog runs one node count at a time")
	}
	return nil
}
