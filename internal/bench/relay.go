package bench

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/webhook"
)

// The relay is the fair yardstick for hookd: an HTTP server that takes
// the same POST /v1/events bodies, decodes them, builds the same envelope,
// signs it with Standard Webhooks and POSTs it to the same receivers with
// hookd's transport settings, from as many workers as hookd has
// (--concurrency), and stores nothing. What hookd adds to it is the price
// of durability: the fsync'd commit before 202, the schema check, the
// attempt log, the SSRF guard. It runs as "hookd-bench relay", a process
// of its own, so that its CPU time is measured like hookd's.

// relayLinePrefix starts the line "relay" prints once it listens.
const relayLinePrefix = "hookd-bench relay:"

var relayReady = regexp.MustCompile(regexp.QuoteMeta(relayLinePrefix) + ` addr=(\S+)`)

// relayTopology is the relay's view of the accounts and endpoints: the
// receiver's base URL and, per account, the indexes i of its endpoints
// (which receive at /e/<i>).
type relayTopology struct {
	Receiver string           `json:"receiver"`
	Accounts map[string][]int `json:"accounts"`
}

// relayEndpoint is one endpoint of the relay: where it receives and the
// key that signs for it.
type relayEndpoint struct {
	id     string
	url    string
	signer *webhook.Signer
}

// Relay is the minimal relay's handler and its sending workers.
type Relay struct {
	accounts map[string][]relayEndpoint
	hc       *http.Client
	jobs     chan relayJob
	wg       sync.WaitGroup
	// failed counts sends that did not get a 2xx after relayTries
	// attempts. The relay retries in memory only: it keeps nothing that
	// would survive its process.
	failed atomic.Int64
}

type relayJob struct {
	ep    *relayEndpoint
	msgID string
	body  []byte
}

// NewRelay returns a relay for top that sends with workers goroutines,
// trusting roots for the receiver's certificate.
func NewRelay(top *relayTopology, roots *x509.CertPool, workers int) (*Relay, error) {
	r := &Relay{
		accounts: make(map[string][]relayEndpoint, len(top.Accounts)),
		hc: &http.Client{
			Transport:     ceilingTransport(roots, 5*time.Second),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		// A bounded queue: when the senders fall behind, intake waits
		// for them (back-pressure) instead of holding without bound.
		jobs: make(chan relayJob, 16*workers),
	}
	for acc, idx := range top.Accounts {
		eps := make([]relayEndpoint, len(idx))
		for k, i := range idx {
			secret, err := webhook.NewSecret()
			if err != nil {
				return nil, err
			}
			s, err := webhook.NewSigner(secret)
			if err != nil {
				return nil, err
			}
			eps[k] = relayEndpoint{id: fmt.Sprintf("ep_relay_%d", i), url: top.Receiver + endpointPath(i, false), signer: s}
		}
		r.accounts[acc] = eps
	}
	for range workers {
		r.wg.Add(1)
		go r.send()
	}
	return r, nil
}

// Close stops the workers once the queue is empty.
func (r *Relay) Close() {
	close(r.jobs)
	r.wg.Wait()
	r.hc.CloseIdleConnections()
}

func (r *Relay) send() {
	defer r.wg.Done()
	for j := range r.jobs {
		for try := 1; ; try++ {
			err := relayPost(r.hc, j.ep, j.msgID, j.body)
			if err == nil {
				break
			}
			if try == relayTries {
				r.failed.Add(1)
				break
			}
			// A loaded receiver or machine can fail a send now and then;
			// hookd retries such a failure, and so does its yardstick.
			time.Sleep(time.Duration(try) * 100 * time.Millisecond)
		}
	}
}

// relayTries is how many times the relay sends a delivery before it
// counts it as failed.
const relayTries = 4

// relayPost signs body and POSTs it, with the headers hookd sends.
func relayPost(hc *http.Client, ep *relayEndpoint, msgID string, body []byte) error {
	ts := time.Now().Unix()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	h := req.Header
	h["Content-Type"] = []string{"application/json"}
	h["User-Agent"] = []string{"hookd-bench-relay"}
	h[webhook.HeaderID] = []string{msgID}
	h[webhook.HeaderTimestamp] = []string{strconv.FormatInt(ts, 10)}
	h[webhook.HeaderSignature] = []string{ep.signer.Sign(msgID, ts, body)}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

type relayDelivery struct {
	ID         string `json:"id"`
	EndpointID string `json:"endpoint_id"`
}

// ServeHTTP takes POST /v1/events like hookd: it decodes the event,
// builds and queues one signed delivery per endpoint of the account and
// answers 202 with the ids. GET /readyz answers 200.
func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.Method == http.MethodGet && req.URL.Path == "/readyz":
		w.WriteHeader(http.StatusOK)
		return
	case req.Method != http.MethodPost || req.URL.Path != "/v1/events":
		http.Error(w, `{"error":{"code":"not_found","message":"The relay takes POST /v1/events."}}`, http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, 1<<20))
	if err != nil {
		http.Error(w, `{"error":{"code":"payload_too_large","message":"Body too large."}}`, http.StatusRequestEntityTooLarge)
		return
	}
	var in struct {
		AccountID      string          `json:"account_id"`
		Event          string          `json:"event"`
		Data           json.RawMessage `json:"data"`
		IdempotencyKey string          `json:"idempotency_key"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Event == "" || len(in.Data) == 0 {
		http.Error(w, `{"error":{"code":"invalid_json","message":"Not an event."}}`, http.StatusBadRequest)
		return
	}
	eps, ok := r.accounts[in.AccountID]
	if !ok {
		http.Error(w, `{"error":{"code":"invalid_reference","message":"No such account."}}`, http.StatusBadRequest)
		return
	}
	var data bytes.Buffer
	if err := json.Compact(&data, in.Data); err != nil {
		http.Error(w, `{"error":{"code":"invalid_event","message":"Bad data."}}`, http.StatusBadRequest)
		return
	}
	now := time.Now()
	id := hook.NewIDAt(hook.PrefixEvent, now)
	env := hook.EncodeEnvelope(id, in.Event, now, in.AccountID, data.Bytes())
	out := struct {
		ID         string          `json:"id"`
		Deliveries []relayDelivery `json:"deliveries"`
	}{ID: id, Deliveries: make([]relayDelivery, len(eps))}
	for k := range eps {
		out.Deliveries[k] = relayDelivery{ID: hook.NewIDAt(hook.PrefixDelivery, now), EndpointID: eps[k].id}
		r.jobs <- relayJob{ep: &eps[k], msgID: id, body: env}
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	w.Write(b)
}

// runRelay is "hookd-bench relay": the relay on a loopback port until
// SIGTERM.
func runRelay(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("hookd-bench relay", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	addr := fs.String("addr", "127.0.0.1:0", "HTTP address of the relay's POST /v1/events")
	topFile := fs.String("topology", "", "JSON file of the receiver's URL and each account's endpoint indexes (required)")
	certFile := fs.String("cert-file", "", "PEM certificate of the receiver (required)")
	workers := fs.Int("concurrency", 256, "sending workers, like hookd's --concurrency")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *topFile == "" || *certFile == "" || *workers < 1 {
		return errors.New("--topology, --cert-file and a positive --concurrency are required")
	}
	var top relayTopology
	b, err := os.ReadFile(*topFile)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return fmt.Errorf("%s: %w", *topFile, err)
	}
	pem, err := os.ReadFile(*certFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s: no PEM certificate", *certFile)
	}
	rl, err := NewRelay(&top, roots, *workers)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: rl, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(env.Stdout, "%s addr=%s pid=%d\n", relayLinePrefix, ln.Addr(), os.Getpid())
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutCtx)
	rl.Close()
	if n := rl.failed.Load(); n > 0 {
		fmt.Fprintf(env.Stdout, "%s %d sends failed\n", relayLinePrefix, n)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// relayProc is a running "hookd-bench relay".
type relayProc struct {
	*child
	url string
}

// startRelay writes the topology and starts the relay through self.
func startRelay(ctx context.Context, self func(args ...string) *exec.Cmd, dir, name string, top *relayTopology, certFile string, workers int) (*relayProc, error) {
	topFile := filepath.Join(dir, name+"-topology.json")
	b, err := json.Marshal(top)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(topFile, b, 0o600); err != nil {
		return nil, err
	}
	cmd := self("relay", "--topology", topFile, "--cert-file", certFile, "--concurrency", strconv.Itoa(workers))
	c, err := startChild(name, cmd, filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	m, err := c.waitLine(ctx, relayReady, 30*time.Second)
	if err != nil {
		c.stop(time.Second)
		return nil, err
	}
	return &relayProc{child: c, url: "http://" + m[1]}, nil
}
