package cli_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/cli"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/hostile"
	"github.com/hookd/hookd/webhook"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// httptest servers' and the HTTP client's idle connections close
		// asynchronously after the tests that used them.
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		// toxiproxy (the PostgreSQL outage tests' in-process proxy)
		// leaves a link's goroutine blocked after its proxy was stopped
		// with data in flight; it is the test tool's, not hookd's.
		goleak.IgnoreTopFunction("github.com/Shopify/toxiproxy/v2/toxics.(*NoopToxic).Pipe"),
	)
}

const adminToken = "test-admin-token-0123456789"

// bundle is one hookd node with its admin client, and helpers.
type bundle struct {
	t     *testing.T
	ctx   context.Context
	node  *cli.Node
	cfg   *config.Config
	url   string
	admin *client.Client
	logs  *syncBuffer
	// http makes every API call of the bundle's clients and raw calls,
	// checking each against the OpenAPI document (openapi_check_test.go).
	http *http.Client
}

// nodeOpt changes the node's configuration before it starts.
type nodeOpt func(*config.Config)

// start runs a hookd node on loopback with a fresh SQLite database, fast
// retries and a root pool that trusts httptest's TLS certificate.
func start(t *testing.T, opts ...nodeOpt) *bundle {
	t.Helper()
	var cfg config.Config
	fs := cfg.FlagSet("test", io.Discard)
	if err := fs.Parse(nil); err != nil { // defaults
		t.Fatal(err)
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.AdminToken = adminToken
	cfg.AllowPrivateTargets = true
	cfg.RetryBase = 20 * time.Millisecond
	cfg.RetryFactor = 2
	cfg.AttemptTimeout = 2 * time.Second
	cfg.Lease = 5 * time.Second
	cfg.RateLimit = 0 // tests poll; TestRateLimit turns it on
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	node, err := cli.StartNode(ctx, &cfg, cli.NodeOptions{Logger: logger, RootCAs: testRoots()})
	if err != nil {
		t.Fatalf("StartNode: %v", err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := node.Stop(stopCtx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if t.Failed() {
			t.Logf("hookd logs:\n%s", logs.String())
		}
	})
	url := "http://" + node.Addr()
	hc := checkedHTTPClient(t)
	hc.Timeout = 60 * time.Second
	admin, err := client.New(url, adminToken, client.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{t: t, ctx: ctx, node: node, cfg: &cfg, url: url, admin: admin, logs: logs, http: hc}
}

var (
	rootsOnce sync.Once
	roots     *x509.CertPool
)

// testRoots trusts the certificate every httptest TLS server uses.
func testRoots() *x509.CertPool {
	rootsOnce.Do(func() {
		srv := httptest.NewTLSServer(http.NotFoundHandler())
		roots = x509.NewCertPool()
		roots.AddCert(srv.Certificate())
		srv.Close()
		// The hostile receivers' certificates (hostile_e2e_test.go).
		if ca, err := hostile.CA(); err == nil {
			roots.AddCert(ca)
		}
	})
	return roots
}

// with returns the bundle for use in subtest t.
func (b *bundle) with(t *testing.T) *bundle {
	c := *b
	c.t = t
	return &c
}

// as returns a client that uses token.
func (b *bundle) as(token string) *client.Client {
	c, err := client.New(b.url, token, client.WithHTTPClient(b.http))
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

// account creates an account and returns it with a client for its token.
func (b *bundle) account() (*client.Account, *client.Client) {
	b.t.Helper()
	a, err := b.admin.CreateAccount(b.ctx, "Acme Support")
	if err != nil {
		b.t.Fatalf("CreateAccount: %v", err)
	}
	return a, b.as(a.Token)
}

// endpoint creates an endpoint for the receiver, subscribed to all types.
func (b *bundle) endpoint(c *client.Client, rcv *receiver, p client.CreateEndpointParams) *client.Endpoint {
	b.t.Helper()
	if p.URL == "" {
		p.URL = rcv.URL()
	}
	if p.EventTypes == nil {
		p.EventTypes = []string{"*"}
	}
	e, err := c.CreateEndpoint(b.ctx, p)
	if err != nil {
		b.t.Fatalf("CreateEndpoint: %v", err)
	}
	if rcv != nil && e.Secret != "" {
		rcv.setSecret(e.Secret)
	}
	return e
}

// send submits an example event of type typ for the account.
func (b *bundle) send(accountID, typ string) *client.SubmitEventResult {
	b.t.Helper()
	res, err := b.admin.SubmitEvent(b.ctx, client.SubmitEventParams{AccountID: accountID, Event: typ, Data: example(typ)})
	if err != nil {
		b.t.Fatalf("SubmitEvent: %v", err)
	}
	return res
}

// waitDelivery polls a delivery until cond holds or the deadline passes.
// Polling here reads state through the API, as a user would.
func (b *bundle) waitDelivery(c *client.Client, id string, what string, cond func(*client.Delivery) bool) *client.Delivery {
	b.t.Helper()
	var d *client.Delivery
	var err error
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		d, err = c.GetDelivery(b.ctx, id)
		if err == nil && cond(d) {
			return d
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.t.Fatalf("delivery %s: waited for %s; last state %+v, err %v", id, what, d, err)
	return nil
}

func (b *bundle) waitStatus(c *client.Client, id, status string) *client.Delivery {
	b.t.Helper()
	return b.waitDelivery(c, id, "status "+status, func(d *client.Delivery) bool { return d.Status == status })
}

func (b *bundle) waitEndpoint(c *client.Client, id, what string, cond func(*client.Endpoint) bool) *client.Endpoint {
	b.t.Helper()
	var e *client.Endpoint
	var err error
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		e, err = c.GetEndpoint(b.ctx, id)
		if err == nil && cond(e) {
			return e
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.t.Fatalf("endpoint %s: waited for %s; last state %+v, err %v", id, what, e, err)
	return nil
}

func (b *bundle) attempts(c *client.Client, deliveryID string) []client.Attempt {
	b.t.Helper()
	p, err := c.ListAttempts(b.ctx, deliveryID, client.ListParams{Limit: 100})
	if err != nil {
		b.t.Fatalf("ListAttempts: %v", err)
	}
	return p.Data
}

// wantCode asserts err is an API error with the code (and status).
func wantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	ce, ok := err.(*client.Error)
	if !ok || ce.StatusCode != status || ce.Code != code {
		t.Fatalf("error = %v, want %d %s", err, status, code)
	}
}

var examples = map[string]json.RawMessage{}

func init() {
	for _, name := range []string{"call.received", "sms.received"} {
		b, err := os.ReadFile("../catalog/examples/" + name + ".json")
		if err != nil {
			panic(err)
		}
		examples[name] = b
	}
}

func example(typ string) json.RawMessage { return examples[typ] }

// syncBuffer is a concurrency-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

var _ = webhook.HeaderID
