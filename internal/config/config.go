// Package config is hookd serve's configuration: every flag in the README
// with its default, its HOOKD_* environment twin, and the checks that run
// before anything starts. Nothing else reads flags or the environment.
//
// It is the one place defaults are written (in FlagSet; the derived ones
// in Validate): the packages below take explicit values and reject
// missing ones (see package delivery's doc).
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/webhook"
	"net/netip"
)

// Config is the configuration of hookd serve. Its defaults are written
// once, in FlagSet; the two derived ones (--account-concurrency and
// --shutdown-timeout, whose 0 means "computed from other flags") are
// computed once, in Validate. Packages take the values as they are.
type Config struct {
	Addr       string // --addr
	DataDir    string // --data-dir
	DB         string // --db: "" (SQLite in the data dir), sqlite:PATH, postgres://…
	AdminToken string // --admin-token; generated into the data dir when empty (SQLite only)

	DBMaxConns         int           // --db-max-conns: PostgreSQL pool size
	DBStatementTimeout time.Duration // --db-statement-timeout: PostgreSQL
	TLSCert            string        // --tls-cert
	TLSKey             string        // --tls-key
	MetricsAddr        string        // --metrics-addr: serve /metrics there instead of on --addr
	Pprof              bool          // --pprof: also serve /debug/pprof/ on --metrics-addr

	AttemptTimeout      time.Duration // --attempt-timeout
	MaxRetries          int           // --max-retries
	RetryBase           time.Duration // --retry-base
	RetryFactor         float64       // --retry-factor
	DisableAfter        int           // --disable-after
	EndpointConcurrency int           // --endpoint-concurrency
	AccountConcurrency  int           // --account-concurrency; 0: a quarter of --concurrency
	Concurrency         int           // --concurrency: attempts in flight per node
	Deliver             bool          // --deliver: false makes an API-only node
	Lease               time.Duration // --lease: at least delivery.MinLease(--attempt-timeout)
	ShutdownTimeout     time.Duration // --shutdown-timeout; 0: shutdownGrace plus --attempt-timeout
	Retention           time.Duration // --retention
	SecretOverlap       time.Duration // --secret-overlap
	MaxEventBytes       int64         // --max-event-bytes
	MaxBatchBytes       int64         // --max-batch-bytes

	AllowPrivateTargets bool   // --allow-private-targets
	AllowTargetCIDRs    string // --allow-target-cidrs: comma-separated prefixes
	AllowHTTP           bool   // --allow-http

	OperatorWebhook       string // --operator-webhook URL
	OperatorWebhookSecret string // --operator-webhook-secret whsec_…

	SecretKey     string  // --secret-key: base64 32-byte keys, comma-separated, first seals
	SecretKeyFile string  // --secret-key-file: a file holding the same
	RateLimit     float64 // --rate-limit: requests/s per account token
	RateBurst     int     // --rate-limit-burst
	AdminRate     float64 // --admin-rate-limit: requests/s for the admin token

	UIFrameAncestors string // --ui-frame-ancestors: who may embed /ui/ (CSP frame-ancestors)

	LogLevel  string // --log-level: debug, info, warn, error
	LogFormat string // --log-format: text, json

	// Derived by Parse.
	TargetCIDRs []netip.Prefix `json:"-"`
}

// shutdownGrace is what the default --shutdown-timeout allows beyond one
// attempt timeout: for the API's requests under way, the last results and
// closing the database.
const shutdownGrace = 10 * time.Second

// Backend kinds.
const (
	BackendSQLite   = "sqlite"
	BackendPostgres = "postgres"
)

// Backend returns the storage backend --db selects and its location (a
// file path for SQLite, the URL for PostgreSQL).
func (c *Config) Backend() (kind, where string) {
	switch {
	case c.DB == "":
		return BackendSQLite, filepath.Join(c.DataDir, "hookd.db")
	case strings.HasPrefix(c.DB, "sqlite:"):
		return BackendSQLite, strings.TrimPrefix(c.DB, "sqlite:")
	case strings.HasPrefix(c.DB, "postgres://"), strings.HasPrefix(c.DB, "postgresql://"):
		return BackendPostgres, c.DB
	}
	return "", ""
}

// FlagSet returns the flags of serve bound to c, with their defaults.
func (c *Config) FlagSet(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Addr, "addr", ":8080", "address the API listens on")
	fs.StringVar(&c.DataDir, "data-dir", "./hookd-data", "directory for the SQLite database and the generated admin token")
	fs.StringVar(&c.DB, "db", "", "database: empty for SQLite in the data dir, sqlite:PATH, or a postgres:// URL")
	fs.IntVar(&c.DBMaxConns, "db-max-conns", 16, "PostgreSQL: connections per node")
	fs.DurationVar(&c.DBStatementTimeout, "db-statement-timeout", 30*time.Second, "PostgreSQL: longest a statement may run, and a transaction sit idle")
	fs.StringVar(&c.AdminToken, "admin-token", "", "admin bearer token (generated into the data dir if empty; required with PostgreSQL)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "serve HTTPS with this certificate file (with --tls-key)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "private key file for --tls-cert")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "serve /metrics on this address alone instead of on --addr")
	fs.BoolVar(&c.Pprof, "pprof", false, "serve Go's /debug/pprof/ profiles on --metrics-addr (needs --metrics-addr)")
	fs.DurationVar(&c.AttemptTimeout, "attempt-timeout", 5*time.Second, "time limit of one delivery attempt: connect, TLS, request, response")
	fs.IntVar(&c.MaxRetries, "max-retries", 3, "retries after a failed first attempt")
	fs.DurationVar(&c.RetryBase, "retry-base", 30*time.Second, "wait before the first retry")
	fs.Float64Var(&c.RetryFactor, "retry-factor", 8, "each further retry waits this many times longer")
	fs.IntVar(&c.DisableAfter, "disable-after", 3, "disable an endpoint after this many consecutive failed deliveries (0: never)")
	fs.IntVar(&c.EndpointConcurrency, "endpoint-concurrency", 10, "in-flight attempts per endpoint per node")
	fs.IntVar(&c.Concurrency, "concurrency", 256, "in-flight attempts per node")
	fs.IntVar(&c.AccountConcurrency, "account-concurrency", 0,
		"in-flight attempts per account per node (0: a quarter of --concurrency, at least --endpoint-concurrency; 64 by default)")
	fs.BoolVar(&c.Deliver, "deliver", true, "run the delivery engine; --deliver=false makes an API-only node")
	fs.DurationVar(&c.Lease, "lease", 30*time.Second, "how long a node owns claimed work; at least twice --attempt-timeout")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 0,
		"on SIGTERM, how long to finish the attempts under way before giving them back (0: 10s plus --attempt-timeout)")
	fs.DurationVar(&c.Retention, "retention", 720*time.Hour, "keep events, deliveries and attempts this long")
	fs.DurationVar(&c.SecretOverlap, "secret-overlap", 24*time.Hour, "how long a rotated-out secret keeps signing")
	fs.Int64Var(&c.MaxEventBytes, "max-event-bytes", 1<<20, "largest accepted POST /v1/events body, in bytes")
	fs.Int64Var(&c.MaxBatchBytes, "max-batch-bytes", 8<<20, "largest accepted POST /v1/events/batch body, in bytes")
	fs.BoolVar(&c.AllowPrivateTargets, "allow-private-targets", false, "allow deliveries to private, loopback and other non-public addresses")
	fs.StringVar(&c.AllowTargetCIDRs, "allow-target-cidrs", "", "comma-separated non-public prefixes deliveries may reach anyway")
	fs.BoolVar(&c.AllowHTTP, "allow-http", false, "accept http:// endpoint URLs (development)")
	fs.StringVar(&c.OperatorWebhook, "operator-webhook", "", "URL that receives endpoint.disabled and endpoint.enabled events")
	fs.StringVar(&c.OperatorWebhookSecret, "operator-webhook-secret", "", "whsec_ secret that signs operator events")
	fs.StringVar(&c.SecretKey, "secret-key", "", "encrypt endpoint secrets at rest with this key (base64 of 32 bytes; comma-separated to rotate, first seals)")
	fs.StringVar(&c.SecretKeyFile, "secret-key-file", "", "read --secret-key from this file")
	fs.Float64Var(&c.RateLimit, "rate-limit", 50, "requests per second per account token (0: no limit)")
	fs.IntVar(&c.RateBurst, "rate-limit-burst", 100, "requests an account token may make at once")
	fs.Float64Var(&c.AdminRate, "admin-rate-limit", 0, "requests per second for the admin token (0: no limit)")
	fs.StringVar(&c.UIFrameAncestors, "ui-frame-ancestors", "'none'", "CSP frame-ancestors of the web UI: 'none', 'self' or origins like https://app.example.com")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
	return fs
}

// Parse reads serve's flags from args, then fills every flag that args
// did not set from its HOOKD_* environment twin (--retry-base →
// HOOKD_RETRY_BASE), then validates.
func Parse(name string, args []string, getenv func(string) string, out io.Writer) (*Config, error) {
	c := &Config{}
	fs := c.FlagSet(name, out)
	if err := ParseFlags(fs, args, getenv); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseFlags parses args into fs and applies HOOKD_* environment values to
// the flags args left unset. Command-line flags win over the environment.
//
// It prints nothing: -h and -help return flag.ErrHelp for the caller to
// print the usage (see PrintUsage), and a bad flag returns an error that
// names it as --name.
func ParseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := f.Value.(durationValue); !ok && kindOf(f.Value) == "duration" {
			f.Value = durationValue{f.Value}
		}
	})
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		env := EnvName(f.Name)
		if v := getenv(env); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q (--%s): %w", env, v, f.Name, err))
			}
		}
	})
	return errors.Join(errs...)
}

// EnvName is the environment twin of a flag: HOOKD_ + upper snake case.
func EnvName(flagName string) string {
	return "HOOKD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Validate checks the configuration; each error names the flag.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	kind, _ := c.Backend()
	if kind == "" {
		bad("--db %q: want empty (SQLite in --data-dir), sqlite:PATH, or a postgres:// or postgresql:// URL", redactURL(c.DB))
	}
	if kind == BackendPostgres && c.AdminToken == "" {
		bad("--admin-token is required with PostgreSQL (every node must share it)")
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		bad("--admin-token must be at least 16 characters")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("--tls-cert and --tls-key go together")
	}
	if c.DBMaxConns < 2 || c.DBMaxConns > 1000 {
		bad("--db-max-conns must be from 2 to 1000")
	}
	if c.DBStatementTimeout < time.Second {
		bad("--db-statement-timeout must be at least 1s")
	}
	if c.AttemptTimeout <= 0 {
		bad("--attempt-timeout must be positive")
	}
	if c.MaxRetries < 0 || c.MaxRetries > 20 {
		bad("--max-retries must be from 0 to 20")
	}
	if c.RetryBase <= 0 {
		bad("--retry-base must be positive")
	}
	if c.RetryFactor < 1 {
		bad("--retry-factor must be at least 1")
	}
	if c.DisableAfter < 0 {
		bad("--disable-after must be 0 (never) or more")
	}
	if c.EndpointConcurrency < 1 {
		bad("--endpoint-concurrency must be at least 1")
	}
	if c.Concurrency < 1 {
		bad("--concurrency must be at least 1")
	}
	// An account limit below one endpoint's would make
	// --endpoint-concurrency unreachable, and one above the workers would
	// mean nothing: both are mistakes, not settings. --concurrency itself
	// turns the account limit off.
	switch {
	case c.AccountConcurrency < 0:
		bad("--account-concurrency must be 0 (a quarter of --concurrency) or more")
	case c.AccountConcurrency == 0:
		if c.Concurrency >= 1 && c.EndpointConcurrency >= 1 {
			c.AccountConcurrency = delivery.DefaultAccountConcurrency(c.Concurrency, c.EndpointConcurrency)
		}
	case c.AccountConcurrency > c.Concurrency:
		bad("--account-concurrency %d must not exceed --concurrency %d (equal to it: no per-account limit)",
			c.AccountConcurrency, c.Concurrency)
	case c.AccountConcurrency < min(c.EndpointConcurrency, c.Concurrency):
		bad("--account-concurrency %d must be at least --endpoint-concurrency %d: one endpoint may use that many",
			c.AccountConcurrency, c.EndpointConcurrency)
	}
	if c.Lease < delivery.MinLease(c.AttemptTimeout) {
		bad("--lease %s must be at least twice --attempt-timeout %s, so that a node finishes an attempt well before another may take the work", c.Lease, c.AttemptTimeout)
	}
	switch {
	case c.ShutdownTimeout < 0:
		bad("--shutdown-timeout must be 0 (10s plus --attempt-timeout) or more")
	case c.ShutdownTimeout == 0:
		c.ShutdownTimeout = shutdownGrace + c.AttemptTimeout
	}
	if c.Retention < time.Hour {
		bad("--retention must be at least 1h")
	}
	if c.SecretOverlap < 0 {
		bad("--secret-overlap must not be negative")
	}
	if c.MaxEventBytes < 1024 || c.MaxEventBytes > 64<<20 {
		bad("--max-event-bytes must be from 1024 to 67108864")
	}
	if c.MaxBatchBytes < 1024 || c.MaxBatchBytes > 256<<20 {
		bad("--max-batch-bytes must be from 1024 to 268435456")
	}
	if c.AllowTargetCIDRs != "" {
		p, err := netguard.ParseCIDRs(c.AllowTargetCIDRs)
		if err != nil {
			bad("--allow-target-cidrs: %v", err)
		}
		c.TargetCIDRs = p
	}
	if c.OperatorWebhook != "" {
		u, err := url.Parse(c.OperatorWebhook)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("--operator-webhook must be an http(s) URL")
		}
		if _, err := webhook.NewSigner(c.OperatorWebhookSecret); err != nil {
			bad("--operator-webhook-secret must be a whsec_ secret (24 to 64 bytes of base64): %v", err)
		}
	}
	if f := strings.TrimSpace(c.UIFrameAncestors); f == "" || strings.ContainsAny(f, ";,\r\n") {
		bad("--ui-frame-ancestors must be a space-separated CSP source list like 'none', 'self' or https://app.example.com")
	}
	if c.Pprof && c.MetricsAddr == "" {
		bad("--pprof needs --metrics-addr: profiles are never served on the public address")
	}
	if c.SecretKey != "" && c.SecretKeyFile != "" {
		bad("--secret-key and --secret-key-file exclude each other")
	}
	if c.RateLimit < 0 || c.AdminRate < 0 || c.RateBurst < 0 {
		bad("--rate-limit, --rate-limit-burst and --admin-rate-limit must not be negative")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("--log-level must be debug, info, warn or error")
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("--log-format must be text or json")
	}
	return errors.Join(errs...)
}

// redactURL hides a password in a database URL for error messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
