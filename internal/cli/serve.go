package cli

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/httpapi"
	"github.com/hookd/hookd/internal/keyseal"
	"github.com/hookd/hookd/internal/metrics"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/retention"
	"github.com/hookd/hookd/internal/service"
	"github.com/hookd/hookd/internal/startstop"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/postgres"
	"github.com/hookd/hookd/internal/store/sqlite"
	"github.com/hookd/hookd/internal/ui"
	"github.com/hookd/hookd/internal/version"
	"github.com/hookd/hookd/webhook"
)

func runServe(ctx context.Context, args []string, env Env) error {
	cfg := &config.Config{}
	fs := cfg.FlagSet("hookd serve", env.Stderr)
	if err := parseCommand(fs, "hookd serve [flags]", args, env, ""); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	logger := newLogger(env.Stderr, cfg.LogLevel, cfg.LogFormat)
	n, err := StartNode(ctx, cfg, NodeOptions{Stdout: env.Stdout, Logger: logger})
	if err != nil {
		return err
	}
	<-ctx.Done()
	logger.Info("shutting down: finishing attempts under way", slog.Duration("shutdown_timeout", cfg.ShutdownTimeout))
	return shutdown(n, cfg.ShutdownTimeout, logger)
}

// closeGrace is the part of --shutdown-timeout kept for closing the
// database after the drain (at most a fifth of it).
const closeGrace = 2 * time.Second

// shutdown stops n within timeout (see docs/deployment.md#shutdown): the
// services drain until the timeout less the part kept for closing the
// database, and when the timeout is over shutdown returns, closed or not,
// so that the process exits. A stop that the timeout cut short is not a
// failure of hookd serve: what it abandoned is delivered again once its
// lease ends, and the log says so; shutdown returns an error only when
// something else went wrong.
func shutdown(n *Node, timeout time.Duration, logger *slog.Logger) error {
	hard := time.NewTimer(timeout)
	defer hard.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), timeout-min(closeGrace, timeout/5))
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- n.Stop(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-hard.C:
		// A database out of reach can hold its connections' close for
		// long (PostgreSQL's driver sends a cancel request first).
		logger.Warn("shutdown timeout reached before the database closed: exiting; unrecorded work is delivered again once its lease ends",
			slog.Duration("shutdown_timeout", timeout))
		return nil
	}
	if err != nil && onlyDeadline(err) {
		logger.Warn("shutdown timeout reached", slog.Duration("shutdown_timeout", timeout), slog.Any("error", err))
		return nil
	}
	return err
}

// onlyDeadline reports whether every error joined in err is a deadline
// that passed.
func onlyDeadline(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlyDeadline(e) {
				return false
			}
		}
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

func runMigrate(ctx context.Context, args []string, env Env) error {
	cfg := &config.Config{}
	fs := cfg.FlagSet("hookd migrate", env.Stderr)
	if err := parseCommand(fs, "hookd migrate [flags]", args, env, ""); err != nil {
		return err
	}
	if kind, where := cfg.Backend(); kind == config.BackendPostgres {
		// Migrations alone: no listener, no pool beyond what they need.
		if err := postgres.Migrate(ctx, where, postgres.Options{StatementTimeout: cfg.DBStatementTimeout}); err != nil {
			return err
		}
	} else {
		st, err := openStore(ctx, cfg, time.Now, slog.New(slog.DiscardHandler))
		if err != nil {
			return err
		}
		if err := st.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintln(env.Stdout, "database schema is up to date")
	return nil
}

// NodeOptions are what tests (and embedders) can set beyond Config.
type NodeOptions struct {
	Stdout io.Writer
	Logger *slog.Logger
	// RootCAs verifies receivers; nil means the system roots.
	RootCAs *x509.CertPool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Node is a running hookd serve: store, dispatcher, API server.
type Node struct {
	cfg        *config.Config
	log        *slog.Logger
	store      store.Store
	dispatcher *delivery.Dispatcher
	server     *http.Server
	ln         net.Listener
	metricsLn  net.Listener // nil without --metrics-addr
	senders    []*delivery.Sender
	// services are what runs in the background, in the order started:
	// the dispatcher, the retention pruner, the API and metrics servers.
	services []startstop.Service
}

// Server timeouts of the API and metrics servers: the one place they are
// written. A client gets this long to send its request headers, and the
// API's whole request; an idle keep-alive connection is closed after
// serverIdleTimeout. The API's write timeout follows its request bound
// (see StartNode).
const (
	serverReadHeaderTimeout = 10 * time.Second
	serverReadTimeout       = 30 * time.Second
	serverIdleTimeout       = 120 * time.Second
)

// startService starts s and keeps it for Stop.
func (n *Node) startService(ctx context.Context, s startstop.Service) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	n.services = append(n.services, s)
	return nil
}

// StartNode validates cfg (filling in its derived defaults, see
// config.Config), opens the store (creating the schema), starts
// delivering and starts serving the API. Stop it with Stop.
func StartNode(ctx context.Context, cfg *config.Config, opts NodeOptions) (_ *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	n := &Node{cfg: cfg, log: opts.Logger}
	defer func() {
		if err != nil {
			n.closeAll()
		}
	}()

	adminToken, generated, err := ensureAdminToken(cfg)
	if err != nil {
		return nil, err
	}
	if n.store, err = openStore(ctx, cfg, opts.Now, opts.Logger); err != nil {
		return nil, err
	}
	cat, err := catalog.New()
	if err != nil {
		return nil, err
	}
	m := metrics.New()
	m.WatchStore(n.store, metrics.StoreOptions{Now: opts.Now})
	m.WatchReadiness(readiness(n.store), 2*time.Second)
	m.WatchRateLimited(n.store.DeliveryRateLimited)
	guard := &netguard.Guard{AllowPrivate: cfg.AllowPrivateTargets, Allow: cfg.TargetCIDRs}
	sender := delivery.NewSender(delivery.SenderConfig{
		Timeout: cfg.AttemptTimeout, Guard: guard, RootCAs: opts.RootCAs, UserAgent: version.UserAgent(), Now: opts.Now})

	sealer, err := keySealer(cfg)
	if err != nil {
		return nil, err
	}
	if err := resealAtStart(ctx, n.store, sealer, opts.Logger); err != nil {
		return nil, err
	}
	dcfg := delivery.Config{
		Store:  n.store,
		Sender: sender,
		Policy: delivery.RetryPolicy{MaxRetries: cfg.MaxRetries, Base: cfg.RetryBase, Factor: cfg.RetryFactor,
			Jitter: delivery.RetryJitter},
		Workers: cfg.Concurrency, EndpointConcurrency: cfg.EndpointConcurrency, AccountConcurrency: cfg.AccountConcurrency,
		DisableAfter: cfg.DisableAfter, Lease: cfg.Lease, OpenKey: sealer.Open,
		Now: opts.Now, Logger: opts.Logger, Metrics: m,
	}
	if cfg.OperatorWebhook != "" {
		dcfg.OperatorURL = cfg.OperatorWebhook
		if dcfg.OperatorSigner, err = webhook.NewSigner(cfg.OperatorWebhookSecret); err != nil {
			return nil, fmt.Errorf("--operator-webhook-secret: %w", err)
		}
		// The operator sets this URL: no SSRF guard (docs/security.md).
		dcfg.OperatorSender = delivery.NewSender(delivery.SenderConfig{
			Timeout: cfg.AttemptTimeout, RootCAs: opts.RootCAs, UserAgent: version.UserAgent(), Now: opts.Now})
	}
	if n.dispatcher, err = delivery.New(dcfg); err != nil {
		return nil, err
	}
	var events service.EventCreator // nil: the store's
	if cfg.Deliver {
		events = n.dispatcher
	}
	svc, err := service.New(service.Config{
		Store: n.store, Catalog: cat, Sender: sender, Guard: guard, AllowHTTP: cfg.AllowHTTP,
		AdminToken: adminToken, SecretOverlap: cfg.SecretOverlap, Retention: cfg.Retention,
		OperatorEvents: cfg.OperatorWebhook != "", Sealer: sealer, Now: opts.Now, Logger: opts.Logger, Metrics: m,
		Events: events,
	})
	if err != nil {
		return nil, err
	}

	if cfg.Deliver {
		if err := n.startService(ctx, n.dispatcher); err != nil {
			return nil, err
		}
	}
	pruner := &retention.Pruner{Store: n.store, Retention: cfg.Retention, IdempotencyTTL: service.IdempotencyTTL,
		Now: opts.Now, Logger: opts.Logger}
	if err := n.startService(ctx, pruner); err != nil {
		return nil, err
	}

	// A request waits at most this long for the database (and for a
	// connection test's receiver) before it answers 503 unavailable.
	requestTimeout := cfg.DBStatementTimeout + cfg.AttemptTimeout + 2*time.Second
	api := httpapi.New(httpapi.Config{
		Service: svc, Ready: readiness(n.store), MaxEventBytes: cfg.MaxEventBytes, MaxBatchBytes: cfg.MaxBatchBytes, RequestTimeout: requestTimeout,
		RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, AdminRateLimit: cfg.AdminRate,
		ServeMetrics: cfg.MetricsAddr == "", Logger: opts.Logger, Metrics: m, Now: opts.Now,
		UI: ui.New(ui.Config{Service: svc, FrameAncestors: strings.TrimSpace(cfg.UIFrameAncestors),
			AttemptTimeout: cfg.AttemptTimeout, SecretOverlap: cfg.SecretOverlap, Logger: opts.Logger}),
	})
	n.server = &http.Server{
		Handler: api,
		// Bounded so that slow clients cannot pin connections; the write
		// timeout leaves room for a request's own bound (requestTimeout).
		ReadHeaderTimeout: serverReadHeaderTimeout,
		ReadTimeout:       serverReadTimeout,
		WriteTimeout:      requestTimeout + serverReadHeaderTimeout,
		IdleTimeout:       serverIdleTimeout,
		MaxHeaderBytes:    httpapi.MaxHeaderBytes, // the API answers over its own limits with JSON
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		n.server.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	n.senders = append(n.senders, sender)
	if dcfg.OperatorSender != nil {
		n.senders = append(n.senders, dcfg.OperatorSender)
	}
	if n.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if n.server.TLSConfig != nil {
		n.ln = tls.NewListener(n.ln, n.server.TLSConfig)
	}
	if err := n.startService(ctx, &startstop.HTTPServer{Name: "API", Server: n.server, Listener: n.ln, Logger: opts.Logger}); err != nil {
		return nil, err
	}
	if cfg.MetricsAddr != "" {
		if n.metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return nil, fmt.Errorf("listen on --metrics-addr %s: %w", cfg.MetricsAddr, err)
		}
		srv := metrics.NewServer(n.metricsLn, m, cfg.Pprof, serverReadHeaderTimeout, opts.Logger)
		if err := n.startService(ctx, srv); err != nil {
			return nil, err
		}
	}

	kind, where := cfg.Backend()
	if kind == config.BackendPostgres {
		where = "PostgreSQL"
	}
	base := scheme + "://" + displayAddr(n.ln.Addr().String())
	fmt.Fprintf(opts.Stdout, "hookd %s listening on %s (storage: %s %s)\n", version.Version, base, kind, where)
	switch {
	case generated:
		fmt.Fprintf(opts.Stdout, "Admin token (shown once, saved in %s):\n  %s\n", adminTokenPath(cfg), adminToken)
	case cfg.AdminToken == "":
		fmt.Fprintf(opts.Stdout, "Admin token: in %s\n", adminTokenPath(cfg))
	}
	fmt.Fprintf(opts.Stdout, "Web UI: %s/ui/\n", base)
	metricsURL := base + "/metrics"
	if n.metricsLn != nil {
		metricsURL = "http://" + displayAddr(n.metricsLn.Addr().String()) + "/metrics"
	}
	fmt.Fprintf(opts.Stdout, "API: %s/v1/  health: %s/healthz  metrics: %s\n", base, base, metricsURL)
	fmt.Fprintf(opts.Stdout, "OpenAPI: %s/openapi.json\n", base)
	fmt.Fprintf(opts.Stdout, "Next: create an account with POST %s/v1/accounts (see the README's quickstart)\n", base)
	opts.Logger.Info("started", slog.String("addr", n.ln.Addr().String()), slog.String("storage", kind),
		slog.Bool("allow_private_targets", cfg.AllowPrivateTargets), slog.Bool("allow_http", cfg.AllowHTTP))
	return n, nil
}

// Addr is the address the API listens on.
func (n *Node) Addr() string { return n.ln.Addr().String() }

// Stop shuts down gracefully, within ctx: it stops taking requests and
// claiming at once, then lets the API's requests and the attempts under
// way finish and writes their results, all at the same time and under
// the same deadline, then closes the store. When ctx ends first, every
// service abandons what it has under way (see startstop.Service and
// delivery.Dispatcher.Stop) and Stop returns their errors, which then
// include ctx's.
func (n *Node) Stop(ctx context.Context) error {
	errs := []error{startstop.StopAll(ctx, n.services...)}
	for _, s := range n.senders {
		s.CloseIdleConnections()
	}
	if err := n.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	n.log.Info("stopped")
	return errors.Join(errs...)
}

// closeAll releases what a failed StartNode had opened.
func (n *Node) closeAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	startstop.StopAll(ctx, n.services...)
	if n.ln != nil {
		n.ln.Close()
	}
	if n.metricsLn != nil {
		n.metricsLn.Close()
	}
	if n.store != nil {
		n.store.Close()
	}
}

func openStore(ctx context.Context, cfg *config.Config, now func() time.Time, logger *slog.Logger) (store.Store, error) {
	kind, where := cfg.Backend()
	switch kind {
	case config.BackendSQLite:
		s, err := sqlite.Open(ctx, where, sqlite.Options{Now: now()})
		if err != nil { // not a nil *sqlite.Store in a non-nil interface
			return nil, err
		}
		return s, nil
	case config.BackendPostgres:
		s, err := postgres.Open(ctx, where, postgres.Options{
			MaxConns: int32(cfg.DBMaxConns), StatementTimeout: cfg.DBStatementTimeout, Logger: logger})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("--db: unsupported database %q", cfg.DB)
}

// readiness is what /readyz asks: that the database takes a write (a
// backend that can probe one), else that it answers. Reads keep working on
// a full disk or a read-only database while every write fails, so a ping
// alone would keep a load balancer sending traffic that cannot be stored.
func readiness(st store.Store) func(ctx context.Context) error {
	if p, ok := st.(interface {
		WriteProbe(ctx context.Context) error
	}); ok {
		return p.WriteProbe
	}
	return st.Ping
}

// keySealer returns what protects signing keys at rest: AES-GCM under
// --secret-key, or nothing (keys stored as they are).
func keySealer(cfg *config.Config) (service.KeySealer, error) {
	keys := cfg.SecretKey
	if cfg.SecretKeyFile != "" {
		b, err := os.ReadFile(cfg.SecretKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--secret-key-file: %w", err)
		}
		keys = strings.TrimSpace(string(b))
	}
	if keys == "" {
		return keyseal.Plain{}, nil
	}
	box, err := keyseal.ParseKeys(keys)
	if err != nil {
		return nil, fmt.Errorf("--secret-key: %w", err)
	}
	return box, nil
}

func adminTokenPath(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "admin-token") }

// ensureAdminToken returns the admin token: the configured one, or the
// one kept in the data dir, generated on first start.
func ensureAdminToken(cfg *config.Config) (token string, generated bool, err error) {
	if cfg.AdminToken != "" {
		return cfg.AdminToken, false, nil
	}
	path := adminTokenPath(cfg)
	if b, err := os.ReadFile(path); err == nil {
		tok := strings.TrimSpace(string(b))
		if len(tok) < 16 {
			return "", false, fmt.Errorf("%s holds no usable admin token; delete it to generate a new one", path)
		}
		return tok, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read admin token: %w", err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", false, err
	}
	tok := "hka_" + base64.RawURLEncoding.EncodeToString(b[:])
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", false, fmt.Errorf("create data dir: %w", err)
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("save admin token: %w", err)
	}
	return tok, true, nil
}

// displayAddr turns a listen address into one a browser can use.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
