package cli_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/cli"
	"github.com/hookd/hookd/internal/config"
)

// Through the real server, a request target or headers over the API's
// limits get 414 and 431 with the JSON error shape, not net/http's plain
// text; only beyond the server's hard limit (1 MiB) does net/http answer
// for itself.
func TestHeadLimits(t *testing.T) {
	t.Parallel()
	b := start(t)
	status, body := b.rawCall("GET", "/v1/endpoints?cursor="+strings.Repeat("a", 100<<10), adminToken, "", nil)
	if code, _ := errOf(body); status != http.StatusRequestURITooLong || code != "uri_too_long" {
		t.Errorf("a 100 KB query: %d %v, want 414 uri_too_long", status, body)
	}
	status, body = b.rawCall("GET", "/v1/endpoints", adminToken, "", map[string]string{"X-Big": strings.Repeat("b", 100<<10)})
	if code, _ := errOf(body); status != http.StatusRequestHeaderFieldsTooLarge || code != "headers_too_large" {
		t.Errorf("100 KB of headers: %d %v, want 431 headers_too_large", status, body)
	}
	status, _ = b.rawCall("GET", "/v1/endpoints", adminToken, "", map[string]string{"X-Big": strings.Repeat("b", 2<<20)})
	if status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("2 MiB of headers: %d, want 431", status)
	}
	status, body = b.rawCall("GET", "/v1/endpoints?limit=1&limit=600", adminToken, "", nil)
	if code, field := errOf(body); status != 400 || code != "invalid_parameter" || field != "limit" {
		t.Errorf("limit=1&limit=600: %d %v, want 400 invalid_parameter on limit", status, body)
	}
}

// The banner names the metrics URL on --metrics-addr when it is set.
func TestBannerMetricsAddr(t *testing.T) {
	t.Parallel()
	var cfg config.Config
	if err := cfg.FlagSet("test", io.Discard).Parse(nil); err != nil {
		t.Fatal(err)
	}
	cfg.Addr, cfg.MetricsAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir, cfg.AdminToken = t.TempDir(), adminToken
	var out bytes.Buffer
	node, err := cli.StartNode(context.Background(), &cfg, cli.NodeOptions{Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		node.Stop(ctx)
	}()
	m := regexp.MustCompile(`metrics: (http://\S+)/metrics`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("banner has no metrics URL:\n%s", out.String())
	}
	if m[1] == "http://"+node.Addr() {
		t.Fatalf("banner names the API address for metrics, though --metrics-addr is set:\n%s", out.String())
	}
	resp, err := http.Get(m[0][len("metrics: "):])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "hookd_events_accepted_total") {
		t.Errorf("GET %s = %d, want the metrics", m[0], resp.StatusCode)
	}
}
