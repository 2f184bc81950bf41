package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/version"
	"github.com/hookd/hookd/webhook"
)

const devSynopsis = `hookd dev [flags]

A hookd to try out, alone: it starts a node on SQLite (in a temporary
directory unless --data is given) with quick retries (1s, 2s, 4s) and local
targets allowed, runs a receiver of its own that verifies and prints each
webhook, creates an account and an endpoint that points at the receiver,
and prints them with the next commands to try. Ctrl-C stops it all (and
deletes the temporary directory). Not for production: see docs/operations.md.
Every flag has an environment twin: --addr → HOOKD_DEV_ADDR.`

// The dev node's retry policy: quick enough to watch a disable.
const (
	devRetryBase   = time.Second
	devRetryFactor = 2
)

// devFlags are the parsed flags of hookd dev.
type devFlags struct {
	addr         string
	receiverAddr string
	data         string
	logLevel     string
}

func runDev(ctx context.Context, args []string, env Env) error {
	var f devFlags
	fs := flag.NewFlagSet("hookd dev", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address of hookd's API and web UI")
	fs.StringVar(&f.receiverAddr, "receiver-addr", "127.0.0.1:9000", "address of the built-in receiver")
	fs.StringVar(&f.data, "data", "", "keep the database in this directory (default: a temporary one, deleted at exit)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	if err := parseCommand(fs, devSynopsis, args, env, "DEV_"); err != nil {
		return err
	}

	cfg := &config.Config{}
	if err := cfg.FlagSet("hookd dev", io.Discard).Parse(nil); err != nil { // serve's defaults
		return err
	}
	cfg.Addr = f.addr
	cfg.AllowHTTP = true
	cfg.AllowPrivateTargets = true
	cfg.RetryBase = devRetryBase
	cfg.RetryFactor = devRetryFactor
	cfg.LogLevel = f.logLevel
	cfg.RateLimit = 0 // a developer's loops should not meet 429
	temp := f.data == ""
	if temp {
		dir, err := os.MkdirTemp("", "hookd-dev-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		f.data = dir
	}
	cfg.DataDir = f.data
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	adminToken, _, err := ensureAdminToken(cfg)
	if err != nil {
		return err
	}
	cfg.AdminToken = adminToken

	// The receiver's socket first: the endpoint needs its address.
	rln, err := net.Listen("tcp", f.receiverAddr)
	if err != nil {
		return fmt.Errorf("the receiver cannot listen on %s (--receiver-addr): %w", f.receiverAddr, err)
	}
	defer rln.Close()
	logger := newLogger(env.Stderr, cfg.LogLevel, cfg.LogFormat)
	started := time.Now().UTC().Truncate(time.Second)
	node, err := StartNode(ctx, cfg, NodeOptions{Logger: logger})
	if err != nil {
		return err
	}
	stopNode := func() error {
		stopCtx, cancel := context.WithTimeout(context.Background(), cfg.AttemptTimeout+15*time.Second)
		defer cancel()
		return node.Stop(stopCtx)
	}
	api := "http://" + displayAddr(node.Addr())
	rcvURL := "http://" + displayAddr(rln.Addr().String()) + "/"

	setup, err := devSetup(ctx, api, adminToken, rcvURL)
	if err != nil {
		return errors.Join(fmt.Errorf("set up the dev account: %w", err), stopNode())
	}
	v, err := webhook.NewVerifier([]string{setup.endpoint.Secret}, nil)
	if err != nil {
		return errors.Join(err, stopNode())
	}
	// "/" answers 204 after verifying; "/fail" verifies and answers 503,
	// so that pointing the endpoint there shows retries and a disable.
	mux := http.NewServeMux()
	mux.Handle("/fail", newReceiver(receiverConfig{Out: env.Stdout, Verifier: v, Status: http.StatusServiceUnavailable}))
	mux.Handle("/", newReceiver(receiverConfig{Out: env.Stdout, Verifier: v}))
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	rsrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		BaseContext: func(net.Listener) context.Context { return reqCtx }}
	rerr := make(chan error, 1)
	go func() { rerr <- rsrv.Serve(rln) }()

	io.WriteString(env.Stdout, devBanner(devBannerData{
		api: api, rcvURL: rcvURL, data: f.data, temp: temp, adminToken: adminToken,
		account: setup.account, endpoint: setup.endpoint, portal: setup.portal, since: started,
	}))

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-rerr:
		runErr = fmt.Errorf("receiver: %w", runErr)
	}
	logger.Info("shutting down")
	cancelRequests()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rsrv.Shutdown(shutdownCtx)
	return errors.Join(runErr, stopNode())
}

// devCreated is what hookd dev creates through the API.
type devCreated struct {
	account  *client.Account
	endpoint *client.Endpoint
	portal   *client.PortalLink // nil if none could be made
}

// devSetup creates the account, its endpoint pointing at the receiver and
// a portal link, through the API as an application would.
func devSetup(ctx context.Context, api, adminToken, rcvURL string) (*devCreated, error) {
	admin, err := client.New(api, adminToken, client.WithUserAgent(version.UserAgent()))
	if err != nil {
		return nil, err
	}
	acc, err := admin.CreateAccount(ctx, "Dev account")
	if err != nil {
		return nil, err
	}
	asAccount, err := client.New(api, acc.Token, client.WithUserAgent(version.UserAgent()))
	if err != nil {
		return nil, err
	}
	ep, err := asAccount.CreateEndpoint(ctx, client.CreateEndpointParams{
		URL: rcvURL, EventTypes: []string{"*"}, Description: "hookd dev's built-in receiver"})
	if err != nil {
		return nil, err
	}
	out := &devCreated{account: acc, endpoint: ep}
	if link, err := admin.CreatePortalLink(ctx, acc.ID, client.PortalLinkParams{TTL: time.Hour}); err == nil {
		out.portal = link
	}
	return out, nil
}

type devBannerData struct {
	api, rcvURL, data string
	temp              bool
	adminToken        string
	account           *client.Account
	endpoint          *client.Endpoint
	portal            *client.PortalLink
	since             time.Time
}

// devBanner is what hookd dev prints once it runs: what it created, then
// the next commands to try, in steps of lines that paste into a POSIX
// shell as they are. Each step starts with a "# N." comment line.
func devBanner(d devBannerData) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	where := d.data
	if d.temp {
		where += " (temporary: deleted at exit; --data DIR keeps it)"
	}
	p("hookd dev %s: a hookd node to try out, with a receiver of its own. Ctrl-C stops both.", version.Version)
	p("")
	p("  API        %s/v1/   health %s/healthz   metrics %s/metrics", d.api, d.api, d.api)
	p("  database   SQLite in %s", where)
	p("  admin      token %s", d.adminToken)
	p("  account    %s  token %s", d.account.ID, d.account.Token)
	p("  endpoint   %s → %s  (all event types)  secret %s", d.endpoint.ID, d.rcvURL, d.endpoint.Secret)
	p("  receiver   %s verifies each webhook and prints it below; %sfail answers 503", d.rcvURL, d.rcvURL)
	p("  retries    after %v, %v and %v; %d failed deliveries in a row disable the endpoint",
		devRetryBase, devRetryBase*devRetryFactor, devRetryBase*devRetryFactor*devRetryFactor, 3)
	if d.portal != nil {
		p("  web UI     %s  (single use, for an hour; or sign in at %s/ui/ with the account token)", d.portal.URL, d.api)
	} else {
		p("  web UI     %s/ui/  (sign in with the account token)", d.api)
	}
	p("")
	p("Next, in another terminal (hookd is `go run ./cmd/hookd` if it is not on your PATH):")
	p("")
	auth := `-H "Authorization: Bearer $ACCOUNT_TOKEN"`
	p("  # 1. Keep the ids and tokens in your shell")
	p("  export HOOKD_URL=%s HOOKD_ADMIN_TOKEN=%s", d.api, d.adminToken)
	p("  export ACCOUNT_ID=%s ACCOUNT_TOKEN=%s ENDPOINT_ID=%s", d.account.ID, d.account.Token, d.endpoint.ID)
	p("")
	p("  # 2. Send a call event as the platform's backend does: it shows up here, verified")
	p("  hookd send --account $ACCOUNT_ID --event call.received")
	p("  curl -s $HOOKD_URL/v1/deliveries %s", auth)
	p("")
	p("  # 3. Test the connection as the app's \"Test\" button does")
	p("  curl -s -X POST $HOOKD_URL/v1/endpoints/$ENDPOINT_ID/test %s", auth)
	p("")
	p("  # 4. Make it fail: point the endpoint at %sfail and send three events;", d.rcvURL)
	p("  #    after about 10 s of retries the endpoint is disabled (\"enabled\": false)")
	p("  curl -s -X PATCH $HOOKD_URL/v1/endpoints/$ENDPOINT_ID %s -d '{\"url\":\"%sfail\"}'", auth, d.rcvURL)
	p("  for i in 1 2 3; do hookd send --account $ACCOUNT_ID --event sms.received; done")
	p("  sleep 12; curl -s $HOOKD_URL/v1/endpoints/$ENDPOINT_ID %s", auth)
	p("")
	p("  # 5. Re-enable it at the working URL and recover what it missed since hookd dev started")
	p("  curl -s -X PATCH $HOOKD_URL/v1/endpoints/$ENDPOINT_ID %s -d '{\"url\":\"%s\",\"enabled\":true}'", auth, d.rcvURL)
	p("  curl -s -X POST $HOOKD_URL/v1/endpoints/$ENDPOINT_ID/recover %s -d '{\"since\":\"%s\"}'",
		auth, d.since.Format(time.RFC3339))
	p("")
	p("The API is in docs/api.md; retries, disabling and recovering in docs/delivery.md.")
	p("Webhooks received:")
	return b.String()
}
