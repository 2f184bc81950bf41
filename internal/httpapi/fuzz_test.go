package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/service"
	"github.com/hookd/hookd/internal/store/sqlite"
)

const fuzzAdmin = "fuzz-admin-token-0123456789"

// newTestAPI returns the API on a fresh SQLite store, and an account's
// token and an endpoint id in it.
func newTestAPI(tb testing.TB) (http.Handler, string, string) {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "hookd.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	cat, err := catalog.New()
	if err != nil {
		tb.Fatal(err)
	}
	// Connection tests go nowhere: every address is blocked.
	sender := delivery.NewSender(delivery.SenderConfig{Timeout: 100 * time.Millisecond, Guard: &netguard.Guard{}})
	svc, err := service.New(service.Config{Store: st, Catalog: cat, Sender: sender, Guard: &netguard.Guard{}, AdminToken: fuzzAdmin})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	acc, tok, err := svc.CreateAccount(ctx, service.Actor{Admin: true}, "Fuzz")
	if err != nil {
		tb.Fatal(err)
	}
	ep, _, err := svc.CreateEndpoint(ctx, service.Actor{AccountID: acc.ID}, service.CreateEndpointInput{
		URL: "https://example.com/hook", EventTypes: []string{"*"}})
	if err != nil {
		tb.Fatal(err)
	}
	return New(Config{Service: svc}), tok, ep.ID
}

// FuzzAPI sends arbitrary requests: whatever comes in, the API answers a
// JSON error or success, never a 5xx, never a panic.
func FuzzAPI(f *testing.F) {
	h, tok, epID := newTestAPI(f)
	seeds := []struct {
		method, path, body string
		admin              bool
	}{
		{"POST", "/v1/events", `{"account_id":"acc_x","event":"call.received","data":{}}`, true},
		{"POST", "/v1/events", `{"account_id":"acc_x","event":"sms.received","data":{"from":{"number":"+1"}},"idempotency_key":"k"}`, true},
		{"POST", "/v1/endpoints", `{"url":"https://0x7f.1/","event_types":["*"]}`, false},
		{"PATCH", "/v1/endpoints/{ep}", `{"enabled":false,"event_types":["sms.received"]}`, false},
		{"POST", "/v1/endpoints/{ep}/recover", `{"since":"2026-11-27T12:00:00+01:00"}`, false},
		{"GET", "/v1/deliveries?limit=3&cursor=ZGx2OmRsdl8wMQ&status=failed", ``, false},
		{"POST", "/v1/accounts", `{"name":"\u0000"}`, true},
		{"GET", "/v1/endpoints/{ep}/secret", ``, false},
		{"GET", "/v1/events?event=sms.received&since=2026-11-27T12:00:00+01:00&until=2026-11-28T00:00:00Z&limit=2", ``, false},
		{"GET", "/v1/events?account_id=acc_x&cursor=ZXZ0OmV2dF8wMQ&since=%20", ``, true},
		{"GET", "/v1/endpoints?limit=1&limit=600&cursor=%zz", ``, false},
		{"POST", "/v1/endpoints", "{\"url\":\"https://example.com/\",\"event_types\":[\"*\"],\"description\":\"\\ud800\xff\u202e\"}", false},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body, s.admin)
	}
	f.Fuzz(func(t *testing.T, method, path, body string, admin bool) {
		path = strings.ReplaceAll(path, "{ep}", epID)
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, "http://hookd"+path, strings.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		token := tok
		if admin {
			token = fuzzAdmin
		}
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: status %d: %s", method, path, body, rec.Code, rec.Body)
		}
		// ServeMux itself redirects unclean paths ("/a/../b") without a body.
		redirect := rec.Code >= 300 && rec.Code < 400
		if ct := rec.Header().Get("Content-Type"); rec.Code != http.StatusNoContent && !redirect &&
			!strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
			b, _ := io.ReadAll(rec.Body)
			t.Fatalf("%s %s: content type %q: %s", method, path, ct, b)
		}
	})
}
