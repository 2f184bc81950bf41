package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/config"
)

// scrape returns the names of the samples a node exports.
func scrape(t *testing.T, baseURL string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, line := range strings.Split(get(t, baseURL+"/metrics", ""), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		names[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
	}
	return names
}

// The operator's view of a node at work: the backlog gauges, endpoints by
// state, the accepted→2xx latency, readiness; and every metric that the
// shipped alerts and dashboard use is one that hookd exports. On
// PostgreSQL (when the tests have one) the pool's metrics too.
func TestMetricsForOperators(t *testing.T) {
	t.Parallel()
	pg := os.Getenv("HOOKD_TEST_POSTGRES_URL") != ""
	b := start(t, func(c *config.Config) {
		c.MaxRetries, c.DisableAfter = 0, 1
		if pg {
			c.DB = postgresDB(t)
		}
	})
	acc, c := b.account()
	ok := newReceiver(t, always(reply{Status: 204}))
	failing := newReceiver(t, always(reply{Status: 500}))
	b.endpoint(c, ok, client.CreateEndpointParams{})
	bad := b.endpoint(c, failing, client.CreateEndpointParams{})
	ev := b.send(acc.ID, "call.received")
	for _, d := range ev.Deliveries {
		b.waitDelivery(c, d.ID, "finished", func(d *client.Delivery) bool { return d.Status != "pending" })
	}
	b.waitEndpoint(c, bad.ID, "disabled", func(e *client.Endpoint) bool { return !e.Enabled })

	// Backlog: an API-only node sharing nothing; its deliveries stay due.
	api := start(t, func(c *config.Config) { c.Deliver = false })
	acc2, c2 := api.account()
	api.endpoint(c2, nil, client.CreateEndpointParams{URL: "https://hooks.example.com/a"})
	api.endpoint(c2, nil, client.CreateEndpointParams{URL: "https://hooks.example.com/b"})
	api.send(acc2.ID, "call.received")
	api.send(acc2.ID, "sms.received")
	if got := metric(t, api.url, "hookd_deliveries_due"); got != 4 {
		t.Errorf("hookd_deliveries_due = %v on a node that does not deliver, after 2 events × 2 endpoints; want 4", got)
	}
	if got := metric(t, api.url, "hookd_delivery_backlog_age_seconds"); got < 0 {
		t.Errorf("hookd_delivery_backlog_age_seconds = %v", got)
	}
	if got := metric(t, b.url, "hookd_deliveries_due"); got != 0 {
		t.Errorf("hookd_deliveries_due = %v on the delivering node once all is delivered; want 0", got)
	}

	page := get(t, b.url+"/metrics", "")
	for _, want := range []string{
		`hookd_endpoints{state="enabled"} 1`,
		`hookd_endpoints{state="disabled"} 1`,
		`hookd_delivery_latency_seconds_count 1`,
		`hookd_ready 1`,
		`hookd_endpoints_disabled_total{reason="consecutive_failures"} 1`,
	} {
		if !strings.Contains(page, want+"\n") {
			t.Errorf("/metrics has no line %q", want)
		}
	}
	// No metric has a label that names an account, an endpoint or a URL.
	if strings.Contains(page, acc.ID) || strings.Contains(page, bad.ID) || strings.Contains(page, "127.0.0.1:") {
		t.Errorf("/metrics names an account, an endpoint or a URL")
	}

	exported := scrape(t, b.url)
	var used []string
	seen := map[string]bool{}
	name := regexp.MustCompile(`\b(?:hookd|process|go)_[a-z0-9_]+\b`)
	for _, file := range []string{"deploy/prometheus/alerts.yml", "deploy/grafana/hookd.json"} {
		text, err := os.ReadFile(filepath.Join("..", "..", file))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(file, ".json") && !json.Valid(text) {
			t.Errorf("%s is not valid JSON", file)
		}
		for _, n := range name.FindAllString(string(text), -1) {
			if !seen[n] {
				seen[n] = true
				used = append(used, n)
			}
		}
	}
	sort.Strings(used)
	if len(used) < 15 {
		t.Fatalf("found only %d metric names in the alerts and the dashboard: %v", len(used), used)
	}
	for _, n := range used {
		switch {
		case exported[n], exported[n+"_count"]: // a histogram by its own name
		case strings.HasPrefix(n, "hookd_db_pool_") && !pg:
			t.Logf("%s: PostgreSQL only, not checked (HOOKD_TEST_POSTGRES_URL is not set)", n)
		default:
			t.Errorf("%s is used by the alerts or the dashboard but hookd does not export it", n)
		}
	}
}
