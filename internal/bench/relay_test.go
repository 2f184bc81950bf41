package bench

import (
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

// The relay takes hookd's POST /v1/events body, answers 202 with an id
// per delivery, and sends each endpoint of the account the signed
// envelope, over TLS, as hookd would.
func TestRelay(t *testing.T) {
	t.Parallel()
	type got struct {
		path   string
		header http.Header
		body   []byte
	}
	var (
		mu      sync.Mutex
		arrived []got
		signal  = make(chan struct{}, 16)
	)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		arrived = append(arrived, got{r.URL.Path, r.Header.Clone(), b})
		mu.Unlock()
		signal <- struct{}{}
	}))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	rl, err := NewRelay(&relayTopology{Receiver: srv.URL, Accounts: map[string][]int{"acc_1": {0, 3}, "acc_2": {1}}}, roots, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer rl.Close()

	send := func(body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		rl.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body)))
		return rec
	}
	rec := send(`{"account_id":"acc_1","event":"sms.received","data":{ "body": "Hi" }}`)
	var ans struct {
		ID         string
		Deliveries []struct{ ID, EndpointID string }
	}
	if rec.Code != http.StatusAccepted || json.Unmarshal(rec.Body.Bytes(), &ans) != nil || !strings.HasPrefix(ans.ID, "evt_") || len(ans.Deliveries) != 2 {
		t.Fatalf("POST /v1/events = %d %s; want 202 with an event id and 2 deliveries", rec.Code, rec.Body)
	}
	for range 2 {
		select {
		case <-signal:
		case <-time.After(30 * time.Second):
			t.Fatal("the relay did not send both deliveries")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var paths []string
	for _, g := range arrived {
		paths = append(paths, g.path)
		var env map[string]any
		if err := json.Unmarshal(g.body, &env); err != nil {
			t.Fatalf("body %s: %v", g.body, err)
		}
		if g.header.Get(webhook.HeaderID) != ans.ID || g.header.Get(webhook.HeaderTimestamp) == "" ||
			!strings.HasPrefix(g.header.Get(webhook.HeaderSignature), "v1,") {
			t.Errorf("headers = %v; want webhook-id %s, a timestamp and a v1 signature", g.header, ans.ID)
		}
		if !strings.Contains(string(g.body), `"id":"`+ans.ID+`"`) || !strings.Contains(string(g.body), `"data":{"body":"Hi"}`) {
			t.Errorf("envelope = %s; want the event id and the compacted data", g.body)
		}
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"/e/0", "/e/3"}) {
		t.Errorf("delivered to %v, want /e/0 and /e/3", paths)
	}
	for _, bad := range []string{`{"account_id":"acc_9","event":"sms.received","data":{}}`, `not json`, `{"account_id":"acc_1"}`} {
		if rec := send(bad); rec.Code != http.StatusBadRequest {
			t.Errorf("POST %s = %d, want 400", bad, rec.Code)
		}
	}
}

func TestParseRunFlagsYardstick(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want func(*runConfig) bool
		err  string
	}{
		{"SteadyFanoutDefaults", []string{"--scenario", "steady-fanout"}, func(c *runConfig) bool {
			return c.Rate == 1000 && c.Fanout == 5 && c.Duration == time.Minute && c.Events == 60_000 &&
				c.Accounts == 10 && c.Endpoints == 50 && c.Relay
		}, ""},
		{"SteadyFanout3", []string{"--scenario", "steady-fanout", "--fanout", "3", "--rate", "200", "--duration", "5s"}, func(c *runConfig) bool {
			return c.Accounts == 16 && c.Endpoints == 48 && c.Events == 1000
		}, ""},
		{"FanoutTooBig", []string{"--scenario", "steady-fanout", "--fanout", "51"}, nil, "--fanout"},
		{"BatchDefaults", []string{"--scenario", "batch"}, func(c *runConfig) bool { return c.BatchSize == 100 && c.Events == 100_000 }, ""},
		{"BatchTooBig", []string{"--scenario", "batch", "--batch-size", "501"}, nil, "--batch-size"},
		{"NoRelay", []string{"--scenario", "max", "--relay=false"}, func(c *runConfig) bool { return !c.Relay }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseRunFlags(tc.args, io.Discard)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one about %s", err, tc.err)
				}
				return
			}
			if err != nil || !tc.want(c) {
				t.Fatalf("config = %+v, %v", c, err)
			}
		})
	}
}

func TestYardstickChecksAndPostgresCost(t *testing.T) {
	t.Parallel()
	p := PhaseResult{Name: "pg-1node", Events: 1000}
	postgresCost(&p, 2*time.Second, 5000)
	if p.PostgresCPUMsPerDelivery != 0.4 || p.PostgresCPUMsPerEvent != 2 ||
		!strings.Contains(strings.Join(p.Notes, "\n"), "one PostgreSQL core feeds about 2,500 deliveries/s") {
		t.Errorf("postgresCost = %v ms/delivery, %v ms/event, notes %q", p.PostgresCPUMsPerDelivery, p.PostgresCPUMsPerEvent, p.Notes)
	}
	r := &Result{Phases: []PhaseResult{{Name: "steady-fanout", Latency: Summary{P99: 12, Max: 140}}},
		Ratios: map[string]float64{"batch_intake_vs_single": 3.4, "max_throughput_vs_relay": 0.5}}
	got := map[string]bool{}
	for _, c := range yardstickChecks(r) {
		got[c.Target] = c.Pass
	}
	want := map[string]bool{
		"steady-fanout: p99 accept→arrival < 25 ms":     true,
		"steady-fanout: max accept→arrival < 100 ms":    false,
		"batch: intake ≥ 3× the single-event intake":    true,
		"max: ≥ 60 % of the minimal relay's throughput": false,
	}
	for k, v := range want {
		if pass, ok := got[k]; !ok || pass != v {
			t.Errorf("check %q = %t (present %t), want %t", k, pass, ok, v)
		}
	}
}
