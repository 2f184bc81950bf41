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
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/httpapi"
	"github.com/hookd/hookd/internal/metrics"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/retention"
	"github.com/hookd/hookd/internal/secretbox"
	"github.com/hookd/hookd/internal/service"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/postgres"
	"github.com/hookd/hookd/internal/store/sqlite"
	"github.com/hookd/hookd/internal/ui"
	"github.com/hookd/hookd/internal/version"
	"github.com/hookd/hookd/webhook"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
	logger.Info("shutting down: finishing attempts under way")
	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.AttemptTimeout+15*time.Second)
	defer cancel()
	return n.Stop(stopCtx)
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
	pruner     *retention.Pruner
	server     *http.Server
	metricsSrv *http.Server
	ln         net.Listener
	metricsLn  net.Listener // nil without --metrics-addr
	senders    []*delivery.Sender
}

// serve runs srv on ln; if it stops for any reason but Shutdown, the node
// cannot do its job, and says so.
func (n *Node) serve(srv *http.Server, ln net.Listener, what string) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		n.log.Error("server stopped", slog.String("server", what), slog.Any("error", err))
	}
}

// StartNode opens the store (creating the schema), starts delivering and
// starts serving the API. Stop it with Stop.
func StartNode(ctx context.Context, cfg *config.Config, opts NodeOptions) (_ *Node, err error) {
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
		Store:   n.store,
		Sender:  sender,
		Policy:  delivery.RetryPolicy{MaxRetries: cfg.MaxRetries, Base: cfg.RetryBase, Factor: cfg.RetryFactor, Jitter: 0.1},
		Workers: cfg.Concurrency, EndpointConcurrency: cfg.EndpointConcurrency, AccountConcurrency: cfg.AccountConcurrency,
		DisableAfter: cfg.DisableAfter, Lease: cfg.Lease, OpenKey: sealer.Open,
		Now: opts.Now, Logger: opts.Logger, Metrics: m,
	}
	if cfg.DisableAfter == 0 {
		dcfg.DisableAfter = -1 // the flag's 0 means never
	}
	if cfg.OperatorWebhook != "" {
		dcfg.OperatorURL = cfg.OperatorWebhook
		if dcfg.OperatorSigner, err = webhook.NewSigner(cfg.OperatorWebhookSecret); err != nil {
			return nil, fmt.Errorf("--operator-webhook-secret: %w", err)
		}
		// The operator sets this URL: no SSRF guard (SPEC §2).
		dcfg.OperatorSender = delivery.NewSender(delivery.SenderConfig{
			Timeout: cfg.AttemptTimeout, RootCAs: opts.RootCAs, UserAgent: version.UserAgent(), Now: opts.Now})
	}
	if n.dispatcher, err = delivery.New(dcfg); err != nil {
		return nil, err
	}
	var handoff func() service.Handoff
	if cfg.Deliver {
		handoff = func() service.Handoff { return n.dispatcher.NewHandoff() }
	}
	svc, err := service.New(service.Config{
		Store: n.store, Catalog: cat, Sender: sender, Guard: guard, AllowHTTP: cfg.AllowHTTP,
		AdminToken: adminToken, SecretOverlap: cfg.SecretOverlap, Retention: cfg.Retention,
		OperatorEvents: cfg.OperatorWebhook != "", Sealer: sealer, Now: opts.Now, Logger: opts.Logger, Metrics: m,
		Handoff: handoff,
	})
	if err != nil {
		return nil, err
	}

	if cfg.Deliver {
		if err := n.dispatcher.Start(ctx); err != nil {
			return nil, err
		}
	}
	n.pruner = &retention.Pruner{Store: n.store, Retention: cfg.Retention, IdempotencyTTL: service.IdempotencyTTL,
		Now: opts.Now, Logger: opts.Logger}
	n.pruner.Start(ctx)

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
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      requestTimeout + 10*time.Second,
		IdleTimeout:       120 * time.Second,
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
	go n.serve(n.server, n.ln, "API")
	if cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
		if cfg.Pprof {
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		}
		n.metricsSrv = &http.Server{Addr: cfg.MetricsAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		if n.metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return nil, fmt.Errorf("listen on --metrics-addr %s: %w", cfg.MetricsAddr, err)
		}
		go n.serve(n.metricsSrv, n.metricsLn, "metrics")
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
	fmt.Fprintf(opts.Stdout, "Next: create an account with POST %s/v1/accounts (see the README's quickstart)\n", base)
	opts.Logger.Info("started", slog.String("addr", n.ln.Addr().String()), slog.String("storage", kind),
		slog.Bool("allow_private_targets", cfg.AllowPrivateTargets), slog.Bool("allow_http", cfg.AllowHTTP))
	return n, nil
}

// Addr is the address the API listens on.
func (n *Node) Addr() string { return n.ln.Addr().String() }

// Stop shuts down gracefully: stop taking requests, stop claiming, finish
// the attempts under way and write their results, close the store.
func (n *Node) Stop(ctx context.Context) error {
	var errs []error
	if err := n.server.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop API: %w", err))
	}
	if n.metricsSrv != nil {
		n.metricsSrv.Shutdown(ctx)
	}
	n.dispatcher.Stop()
	n.pruner.Stop()
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
	if n.ln != nil {
		n.ln.Close()
	}
	if n.server != nil {
		n.server.Close()
	}
	if n.dispatcher != nil {
		n.dispatcher.Stop()
	}
	if n.pruner != nil {
		n.pruner.Stop()
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
		return secretbox.Plain{}, nil
	}
	box, err := secretbox.ParseKeys(keys)
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
