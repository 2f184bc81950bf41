package httpapi

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/service"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/sqlite"
)

const apiAdmin = "api-test-admin-token-0123456789"

// apiBundle is the API over the real service on a fresh SQLite store, an
// account ("Acme") with an endpoint that points at a loopback HTTPS
// receiver answering 204, and a second account ("Globex").
type apiBundle struct {
	t          *testing.T
	h          http.Handler
	acme       string // account id
	acmeTok    string
	globex     string
	globexTok  string
	endpointID string
	rcvURL     string
}

func newAPIBundle(t *testing.T, cfg Config) *apiBundle {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	rcv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(rcv.Certificate())
	guard := &netguard.Guard{AllowPrivate: true}
	sender := delivery.NewSender(delivery.SenderConfig{Timeout: 5 * time.Second, Guard: guard, RootCAs: roots, UserAgent: "hookd/test"})
	t.Cleanup(sender.CloseIdleConnections)
	svc, err := service.New(service.Config{Store: st, Catalog: cat, Sender: sender, Guard: guard, AdminToken: apiAdmin,
		SecretOverlap: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Service = svc
	b := &apiBundle{t: t, h: New(cfg), rcvURL: rcv.URL + "/hooks"}
	admin := service.Actor{Admin: true}
	acc, tok, err := svc.CreateAccount(ctx, admin, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	b.acme, b.acmeTok = acc.ID, tok
	if acc, tok, err = svc.CreateAccount(ctx, admin, "Globex"); err != nil {
		t.Fatal(err)
	}
	b.globex, b.globexTok = acc.ID, tok
	ep, _, err := svc.CreateEndpoint(ctx, service.Actor{AccountID: b.acme}, service.CreateEndpointInput{
		URL: b.rcvURL, EventTypes: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	b.endpointID = ep.ID
	return b
}

// answer is a response as a client sees it.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", a.body, err)
	}
	return v
}

// do sends a request with token (none if empty) and a JSON body (none if
// empty).
func (b *apiBundle) do(method, path, token, body string) answer {
	b.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	return answer{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// want checks an answer's status and, for errors, its code and field.
func (b *apiBundle) want(what string, a answer, status int, codeField ...string) map[string]any {
	b.t.Helper()
	if a.status != status {
		b.t.Fatalf("%s: %d %s, want %d", what, a.status, a.body, status)
	}
	if len(a.body) == 0 {
		return nil
	}
	v := a.json(b.t)
	if len(codeField) > 0 {
		e, _ := v["error"].(map[string]any)
		if e == nil || e["code"] != codeField[0] {
			b.t.Fatalf("%s: body %s, want error code %s", what, a.body, codeField[0])
		}
		if len(codeField) > 1 && e["field"] != codeField[1] {
			b.t.Fatalf("%s: body %s, want field %s", what, a.body, codeField[1])
		}
		if msg, _ := e["message"].(string); msg == "" {
			b.t.Fatalf("%s: an error without a message: %s", what, a.body)
		}
	}
	return v
}

func items(v map[string]any) []map[string]any {
	var out []map[string]any
	for _, x := range v["data"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func TestAccountRoutes(t *testing.T) {
	t.Parallel()
	b := newAPIBundle(t, Config{})
	v := b.want("create", b.do("POST", "/v1/accounts", apiAdmin, `{"name":"Initech"}`), 201)
	id, tok := v["id"].(string), v["token"].(string)
	if !strings.HasPrefix(id, "acc_") || !strings.HasPrefix(tok, "hkt_") || v["name"] != "Initech" {
		t.Fatalf("created account %v", v)
	}
	b.want("missing name", b.do("POST", "/v1/accounts", apiAdmin, `{}`), 400, hook.EInvalidParameter, "name")
	b.want("empty body", b.do("POST", "/v1/accounts", apiAdmin, ``), 400, hook.EInvalidJSON)
	b.want("by an account", b.do("POST", "/v1/accounts", b.acmeTok, `{"name":"X"}`), 403, hook.EForbidden)
	if v := b.want("get", b.do("GET", "/v1/accounts/"+id, apiAdmin, ""), 200); v["token"] != nil || v["id"] != id {
		t.Errorf("GET account = %v; want it without its token", v)
	}
	b.want("get unknown", b.do("GET", "/v1/accounts/acc_01M8EV3Q3ZN3T3KD4HTPKPBYP9", apiAdmin, ""), 404, hook.ENotFound)

	// Three accounts, newest first, one per page.
	var seen []string
	cursor := ""
	for range 5 {
		v := b.want("list", b.do("GET", "/v1/accounts?limit=1&cursor="+cursor, apiAdmin, ""), 200)
		for _, a := range items(v) {
			seen = append(seen, a["id"].(string))
		}
		next, _ := v["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 3 || seen[0] != id || seen[2] != b.acme {
		t.Errorf("accounts paged one at a time: %v; want Initech, Globex, Acme", seen)
	}
	b.want("limit 0", b.do("GET", "/v1/accounts?limit=0", apiAdmin, ""), 400, hook.EInvalidLimit, "limit")
	b.want("a cursor of another list", b.do("GET", "/v1/accounts?cursor="+encodeCursor("ep", b.endpointID), apiAdmin, ""),
		400, hook.EInvalidParameter, "cursor")
	b.want("a cursor with a bad id", b.do("GET", "/v1/accounts?cursor="+encodeCursor("acc", "nope"), apiAdmin, ""),
		400, hook.EInvalidParameter, "cursor")

	v = b.want("rotate", b.do("POST", "/v1/accounts/"+id+"/rotate-token", apiAdmin, ""), 200)
	b.want("the old token", b.do("GET", "/v1/endpoints", tok, ""), 401, hook.EUnauthorized)
	b.want("the new token", b.do("GET", "/v1/endpoints", v["token"].(string), ""), 200)

	v = b.want("portal link", b.do("POST", "/v1/accounts/"+b.acme+"/portal-links", apiAdmin, `{"ttl":"5m","theme":"dark"}`), 201)
	if u, _ := v["url"].(string); !strings.HasPrefix(u, "http://example.com/ui/link/") || v["expires_at"] == nil {
		t.Errorf("portal link = %v", v)
	}
	b.want("portal link, no body", b.do("POST", "/v1/accounts/"+b.acme+"/portal-links", apiAdmin, ""), 201)
	b.want("portal link, bad ttl", b.do("POST", "/v1/accounts/"+b.acme+"/portal-links", apiAdmin, `{"ttl":"2d"}`),
		400, hook.EInvalidParameter, "ttl")
}

func TestAuthAnswers(t *testing.T) {
	t.Parallel()
	b := newAPIBundle(t, Config{})
	a := b.do("GET", "/v1/endpoints", "", "")
	b.want("no token", a, 401, hook.EUnauthorized)
	if got := a.header.Get("WWW-Authenticate"); got != `Bearer realm="hookd"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	b.want("a wrong token", b.do("GET", "/v1/endpoints", "hkt_wrong", ""), 401, hook.EUnauthorized)
	req := httptest.NewRequest("GET", "/v1/endpoints", nil)
	req.Header.Set("Authorization", "basic "+b.acmeTok)
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("a Basic scheme: %d, want 401", rec.Code)
	}
	req.Header.Set("Authorization", "bearer  "+b.acmeTok)
	rec = httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("a lower-case bearer scheme: %d, want 200", rec.Code)
	}
	b.want("a query parameter twice", b.do("GET", "/v1/endpoints?limit=1&limit=2", b.acmeTok, ""), 400, hook.EInvalidParameter, "limit")
	b.want("a bad percent escape", b.do("GET", "/v1/endpoints?cursor=%zz", b.acmeTok, ""), 400, hook.EInvalidParameter, "cursor")
	b.want("a broken query", b.do("GET", "/v1/endpoints?a=1;b=2", b.acmeTok, ""), 400, hook.EInvalidParameter)
}

func TestEndpointRoutes(t *testing.T) {
	t.Parallel()
	b := newAPIBundle(t, Config{})
	tok := b.acmeTok
	v := b.want("create", b.do("POST", "/v1/endpoints", tok,
		`{"url":"`+b.rcvURL+`/2","event_types":["sms.received"],"description":"CRM"}`), 201)
	id := v["id"].(string)
	if s, _ := v["secret"].(string); !strings.HasPrefix(s, "whsec_") || v["account_id"] != b.acme || v["public_key"] != nil {
		t.Fatalf("created endpoint %v", v)
	}
	b.want("create, http", b.do("POST", "/v1/endpoints", tok, `{"url":"http://example.com/","event_types":["*"]}`),
		400, hook.EInvalidURL, "url")
	b.want("create, an unknown field", b.do("POST", "/v1/endpoints", tok, `{"url":"https://example.com/","event_types":["*"],"secret":"x"}`),
		400, hook.EUnknownField, "secret")
	b.want("create, the wrong type", b.do("POST", "/v1/endpoints", tok, `{"url":"https://example.com/","event_types":["*"],"enabled":"yes"}`),
		400, hook.EInvalidJSON, "enabled")
	b.want("create by the admin without account_id", b.do("POST", "/v1/endpoints", apiAdmin, `{"url":"https://example.com/","event_types":["*"]}`),
		400, hook.EInvalidParameter, "account_id")
	b.want("create by the admin", b.do("POST", "/v1/endpoints", apiAdmin,
		`{"account_id":"`+b.globex+`","url":"https://example.com/","event_types":["*"],"signing":"ed25519"}`), 201)

	if v := b.want("get", b.do("GET", "/v1/endpoints/"+id, tok, ""), 200); v["secret"] != nil || v["description"] != "CRM" {
		t.Errorf("GET endpoint = %v; want no secret", v)
	}
	b.want("get by another account", b.do("GET", "/v1/endpoints/"+id, b.globexTok, ""), 404, hook.ENotFound)
	if l := items(b.want("list", b.do("GET", "/v1/endpoints", tok, ""), 200)); len(l) != 2 || l[0]["id"] != id {
		t.Errorf("Acme's endpoints: %v; want 2, the newest first", l)
	}
	if l := items(b.want("admin list", b.do("GET", "/v1/endpoints?account_id="+b.globex, apiAdmin, ""), 200)); len(l) != 1 {
		t.Errorf("Globex's endpoints for the admin: %v", l)
	}
	b.want("list with another account's id", b.do("GET", "/v1/endpoints?account_id="+b.globex, tok, ""), 404, hook.ENotFound)

	v = b.want("disable", b.do("PATCH", "/v1/endpoints/"+id, tok, `{"enabled":false,"description":null}`), 200)
	if v["enabled"] != false || v["disabled_reason"] != "manual" || v["disabled_at"] == nil || v["description"] != "CRM" {
		t.Errorf("after disabling: %v", v)
	}
	b.want("recover on a disabled endpoint", b.do("POST", "/v1/endpoints/"+id+"/recover", tok, `{"since":"2026-11-27T00:00:00Z"}`),
		409, hook.EEndpointDisabled)
	b.want("re-enable", b.do("PATCH", "/v1/endpoints/"+id, tok, `{"enabled":true}`), 200)
	b.want("patch signing", b.do("PATCH", "/v1/endpoints/"+id, tok, `{"signing":"ed25519"}`), 400, hook.EUnknownField, "signing")
	b.want("recover without since", b.do("POST", "/v1/endpoints/"+id+"/recover", tok, `{}`), 400, hook.EInvalidParameter, "since")
	b.want("recover with a bad since", b.do("POST", "/v1/endpoints/"+id+"/recover", tok, `{"since":"yesterday"}`),
		400, hook.EInvalidParameter, "since")
	if v := b.want("recover", b.do("POST", "/v1/endpoints/"+id+"/recover", tok, `{"since":"2026-11-27T00:00:00Z"}`), 202); v["queued"] != 0.0 {
		t.Errorf("recover = %v; want 0 queued", v)
	}

	a := b.do("GET", "/v1/endpoints/"+id+"/secret", tok, "")
	old := b.want("secret", a, 200)["secret"]
	if a.header.Get("Cache-Control") != "no-store" || old == nil {
		t.Errorf("GET secret: %s, Cache-Control %q", a.body, a.header.Get("Cache-Control"))
	}
	if v := b.want("rotate", b.do("POST", "/v1/endpoints/"+id+"/rotate-secret", tok, ""), 200); v["secret"] == old || v["secret"] == nil {
		t.Errorf("rotate-secret = %v; want a new secret", v)
	}

	v = b.want("test", b.do("POST", "/v1/endpoints/"+b.endpointID+"/test", tok, ""), 200)
	if v["ok"] != true || v["status_code"] != 204.0 || v["error"] != nil || v["delivery_id"] == nil {
		t.Errorf("test = %v; want ok with 204", v)
	}
	v = b.want("stats", b.do("GET", "/v1/endpoints/"+b.endpointID+"/stats", tok, ""), 200)
	if bs, _ := v["buckets"].([]any); v["window"] != "24h" || len(bs) != 24 {
		t.Errorf("stats = %v; want 24 hourly buckets", v)
	}
	if bs, _ := b.want("stats 7d", b.do("GET", "/v1/endpoints/"+b.endpointID+"/stats?window=7d", tok, ""), 200)["buckets"].([]any); len(bs) != 7 {
		t.Errorf("7d stats: %d buckets", len(bs))
	}
	b.want("stats 1y", b.do("GET", "/v1/endpoints/"+b.endpointID+"/stats?window=1y", tok, ""), 400, hook.EInvalidParameter, "window")

	if a := b.do("DELETE", "/v1/endpoints/"+id, tok, ""); a.status != 204 || len(a.body) != 0 {
		t.Errorf("DELETE: %d %q; want 204 and no body", a.status, a.body)
	}
	b.want("get after delete", b.do("GET", "/v1/endpoints/"+id, tok, ""), 404, hook.ENotFound)
}

func TestEventAndDeliveryRoutes(t *testing.T) {
	t.Parallel()
	b := newAPIBundle(t, Config{MaxEventBytes: 4096})
	body := func(event, key string) string {
		data := map[string]json.RawMessage{}
		cat, _ := catalog.New()
		for _, et := range cat.Types() {
			data[et.Event] = et.Example
		}
		s := `{"account_id":"` + b.acme + `","event":"` + event + `","data":` + string(data[event])
		if key != "" {
			s += `,"idempotency_key":"` + key + `"`
		}
		return s + "}"
	}
	v := b.want("submit", b.do("POST", "/v1/events", apiAdmin, body("sms.received", "k1")), 202)
	evID := v["id"].(string)
	ds := v["deliveries"].([]any)
	if len(ds) != 1 || ds[0].(map[string]any)["endpoint_id"] != b.endpointID {
		t.Fatalf("submit = %v; want one delivery to the endpoint", v)
	}
	dlv := ds[0].(map[string]any)["id"].(string)
	if v := b.want("replay", b.do("POST", "/v1/events", apiAdmin, body("sms.received", "k1")), 200); v["id"] != evID {
		t.Errorf("replay = %v; want the first answer", v)
	}
	b.want("conflict", b.do("POST", "/v1/events", apiAdmin, body("call.received", "k1")), 409, hook.EIdempotencyConflict, "idempotency_key")
	req := httptest.NewRequest("POST", "/v1/events", strings.NewReader(body("sms.received", "k2")))
	req.Header.Set("Authorization", "Bearer "+apiAdmin)
	req.Header.Set("Idempotency-Key", "k3")
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	b.want("header and field differ", answer{rec.Code, rec.Header(), rec.Body.Bytes()}, 400, hook.EInvalidParameter, "idempotency_key")
	b.want("too large", b.do("POST", "/v1/events", apiAdmin, `{"account_id":"`+strings.Repeat("a", 5000)+`"}`), 413, hook.EPayloadTooLarge)
	b.want("by an account", b.do("POST", "/v1/events", b.acmeTok, body("sms.received", "")), 403, hook.EForbidden)
	call := b.want("submit a call", b.do("POST", "/v1/events", apiAdmin, body("call.received", "")), 202)["id"].(string)

	if v := b.want("get event", b.do("GET", "/v1/events/"+evID, b.acmeTok, ""), 200); v["id"] != evID || v["event"] != "sms.received" {
		t.Errorf("GET event = %v", v)
	}
	b.want("get event by another account", b.do("GET", "/v1/events/"+evID, b.globexTok, ""), 404, hook.ENotFound)

	// The events list: the stored envelopes, newest first.
	l := items(b.want("list events", b.do("GET", "/v1/events", b.acmeTok, ""), 200))
	if len(l) != 2 || l[0]["id"] != call || l[1]["id"] != evID || l[1]["data"] == nil || l[1]["timestamp"] == nil {
		t.Errorf("Acme's events: %v; want the call, then the SMS, as envelopes", l)
	}
	v = b.want("list events, one per page", b.do("GET", "/v1/events?limit=1", b.acmeTok, ""), 200)
	next, _ := v["next_cursor"].(string)
	v = b.want("second page", b.do("GET", "/v1/events?limit=1&cursor="+url.QueryEscape(next), b.acmeTok, ""), 200)
	if l := items(v); len(l) != 1 || l[0]["id"] != evID || v["next_cursor"] != nil {
		t.Errorf("second page: %v; want the SMS and no next cursor", v)
	}
	if l := items(b.want("by type", b.do("GET", "/v1/events?event=call.received", b.acmeTok, ""), 200)); len(l) != 1 || l[0]["id"] != call {
		t.Errorf("event=call.received: %v", l)
	}
	if l := items(b.want("since tomorrow", b.do("GET", "/v1/events?since="+time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339),
		b.acmeTok, ""), 200)); len(l) != 0 {
		t.Errorf("since tomorrow: %v; want none", l)
	}
	if l := items(b.want("an offset with an unencoded +", b.do("GET", "/v1/events?since=2026-01-01T00:00:00+01:00&until=2099-01-01T00:00:00Z",
		b.acmeTok, ""), 200)); len(l) != 2 {
		t.Errorf("since 2026 until 2099: %v; want both events", l)
	}
	if l := items(b.want("Globex's events", b.do("GET", "/v1/events", b.globexTok, ""), 200)); len(l) != 0 {
		t.Errorf("Globex lists %v; want none", l)
	}
	if l := items(b.want("the admin's list", b.do("GET", "/v1/events?account_id="+b.acme, apiAdmin, ""), 200)); len(l) != 2 {
		t.Errorf("the admin lists Acme's %v", l)
	}
	b.want("another account's filter", b.do("GET", "/v1/events?account_id="+b.acme, b.globexTok, ""), 404, hook.ENotFound)
	b.want("a bad since", b.do("GET", "/v1/events?since=yesterday", b.acmeTok, ""), 400, hook.EInvalidParameter, "since")
	b.want("a bad until", b.do("GET", "/v1/events?until=2026-13-01T00:00:00Z", b.acmeTok, ""), 400, hook.EInvalidParameter, "until")
	b.want("until before since", b.do("GET", "/v1/events?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", b.acmeTok, ""),
		400, hook.EInvalidParameter, "until")
	b.want("an unknown type", b.do("GET", "/v1/events?event=call.recieved", b.acmeTok, ""), 400, hook.EInvalidParameter, "event")
	b.want("a cursor of deliveries", b.do("GET", "/v1/events?cursor="+encodeCursor("dlv", dlv), b.acmeTok, ""), 400, hook.EInvalidParameter, "cursor")

	// Event types, one per page.
	v = b.want("event types", b.do("GET", "/v1/event-types?limit=1", b.acmeTok, ""), 200)
	next, _ = v["next_cursor"].(string)
	if l := items(v); len(l) != 1 || l[0]["event"] != "call.received" || next == "" {
		t.Fatalf("event types page 1: %v", v)
	}
	v = b.want("event types page 2", b.do("GET", "/v1/event-types?limit=1&cursor="+next, b.acmeTok, ""), 200)
	if l := items(v); len(l) != 1 || l[0]["event"] != "sms.received" || v["next_cursor"] != nil {
		t.Errorf("event types page 2: %v", v)
	}
	if l := items(b.want("after the last type", b.do("GET", "/v1/event-types?cursor="+encodeCursor("et", "zzz"), b.acmeTok, ""), 200)); len(l) != 0 {
		t.Errorf("after the last type: %v", l)
	}

	// Deliveries.
	if v := b.want("get delivery", b.do("GET", "/v1/deliveries/"+dlv, b.acmeTok, ""), 200); v["status"] != "pending" || v["next_attempt_at"] == nil {
		t.Errorf("the new delivery: %v; want pending with its next attempt", v)
	}
	l = items(b.want("list deliveries", b.do("GET", "/v1/deliveries?event_id="+evID+"&status=pending", b.acmeTok, ""), 200))
	if len(l) != 1 || l[0]["id"] != dlv {
		t.Errorf("the SMS's pending deliveries: %v", l)
	}
	b.want("a bad status", b.do("GET", "/v1/deliveries?status=done", b.acmeTok, ""), 400, hook.EInvalidParameter, "status")
	b.want("redeliver while pending", b.do("POST", "/v1/deliveries/"+dlv+"/redeliver", b.acmeTok, ""), 409, hook.EAlreadyPending)
	b.want("attempts of a new delivery", b.do("GET", "/v1/deliveries/"+dlv+"/attempts", b.acmeTok, ""), 200)
	b.want("an attempts cursor that is no number", b.do("GET", "/v1/deliveries/"+dlv+"/attempts?cursor="+encodeCursor("att", "x"), b.acmeTok, ""),
		400, hook.EInvalidParameter, "cursor")
	test := b.want("test", b.do("POST", "/v1/endpoints/"+b.endpointID+"/test", b.acmeTok, ""), 200)
	tdlv := test["delivery_id"].(string)
	v = b.want("the test's attempts", b.do("GET", "/v1/deliveries/"+tdlv+"/attempts?limit=1", b.acmeTok, ""), 200)
	if l := items(v); len(l) != 1 || l[0]["number"] != 1.0 || l[0]["trigger"] != "test" || v["next_cursor"] != nil {
		t.Errorf("the test's attempts: %v", v)
	}
	b.want("redeliver a test", b.do("POST", "/v1/deliveries/"+tdlv+"/redeliver", b.acmeTok, ""), 409, hook.ENotRedeliverable)
	b.want("PATCH disables", b.do("PATCH", "/v1/endpoints/"+b.endpointID, b.acmeTok, `{"enabled":false}`), 200)
	v = b.want("redeliver once canceled", b.do("POST", "/v1/deliveries/"+dlv+"/redeliver", b.acmeTok, ""), 409, hook.EEndpointDisabled)
	_ = v
	b.want("re-enable", b.do("PATCH", "/v1/endpoints/"+b.endpointID, b.acmeTok, `{"enabled":true}`), 200)
	if v := b.want("redeliver", b.do("POST", "/v1/deliveries/"+dlv+"/redeliver", b.acmeTok, ""), 202); v["trigger"] != "redeliver" || v["status"] != "pending" {
		t.Errorf("redeliver = %v", v)
	}
}

// TestIndex: GET / answers where things are without a UI, and sends a
// browser to the UI when there is one.
func TestIndex(t *testing.T) {
	t.Parallel()
	a := New(Config{})
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	var idx map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &idx); err != nil || rec.Code != 200 ||
		idx["api"] != "/v1/" || idx["openapi"] != "/openapi.json" || idx["health"] != "/healthz" {
		t.Errorf("GET / without a UI: %d %s", rec.Code, rec.Body)
	}
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the UI") })
	a = New(Config{UI: ui})
	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/ui/" {
		t.Errorf("GET / with a UI: %d, Location %q; want 302 to /ui/", rec.Code, rec.Header().Get("Location"))
	}
	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/ui/webhooks", nil))
	if rec.Body.String() != "the UI" {
		t.Errorf("GET /ui/webhooks: %q", rec.Body)
	}
	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/nope", nil))
	if rec.Code != 404 {
		t.Errorf("GET /nope: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("PUT", "/v1/endpoints", nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, POST" {
		t.Errorf("PUT /v1/endpoints: %d, Allow %q; want 405 and GET, POST", rec.Code, rec.Header().Get("Allow"))
	}
}

// TestMetricsRoute: /metrics on the API's address counts requests by
// route pattern.
func TestMetricsRoute(t *testing.T) {
	t.Parallel()
	a := New(Config{ServeMetrics: true})
	a.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `hookd_http_requests_total{code="200",route="GET /healthz"} 1`) {
		t.Errorf("GET /metrics: %d\n%s", rec.Code, rec.Body)
	}
}

// TestRateLimitAnswers: over its rate, a token gets 429 with Retry-After;
// another account's budget is its own.
func TestRateLimitAnswers(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	b := newAPIBundle(t, Config{RateLimit: 1, RateBurst: 1, AdminRateLimit: 1, Now: func() time.Time { return now }})
	b.want("first", b.do("GET", "/v1/endpoints", b.acmeTok, ""), 200)
	a := b.do("GET", "/v1/endpoints", b.acmeTok, "")
	b.want("second", a, 429, hook.ERateLimited)
	if a.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q, want 1", a.header.Get("Retry-After"))
	}
	b.want("another account", b.do("GET", "/v1/endpoints", b.globexTok, ""), 200)
	b.want("admin first", b.do("GET", "/v1/endpoints", apiAdmin, ""), 200)
	b.want("admin second", b.do("GET", "/v1/endpoints", apiAdmin, ""), 429, hook.ERateLimited)
}

// panicky is a Service whose every call panics.
type panicky struct{ Service }

func (panicky) Authenticate(context.Context, string) (service.Actor, error) { panic("boom") }

// failing is a Service whose token check fails for reasons of its own.
type failing struct {
	Service
	err error
}

func (f failing) Authenticate(context.Context, string) (service.Actor, error) {
	return service.Actor{}, f.err
}

// TestFailureAnswers: a panic or an unexpected error is a 500 with the
// error shape and nothing of the cause; an outage is a 503; a request
// over the API's time bound ends.
func TestFailureAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		svc    Service
		status int
		code   string
	}{
		{"panic", panicky{}, 500, hook.EInternal},
		{"bug", failing{err: errors.New("secret detail")}, 500, hook.EInternal},
		{"outage", failing{err: fmt.Errorf("dial: %w", store.ErrUnavailable)}, 503, hook.EUnavailable},
	} {
		a := New(Config{Service: tc.svc, RequestTimeout: time.Second})
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/v1/endpoints", nil)
		req.Header.Set("Authorization", "Bearer x")
		a.ServeHTTP(rec, req)
		var e apiError
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != tc.status || e.Error.Code != tc.code ||
			strings.Contains(rec.Body.String(), "secret detail") || strings.Contains(rec.Body.String(), "boom") {
			t.Errorf("%s: %d %s; want %d %s without the cause", tc.name, rec.Code, rec.Body, tc.status, tc.code)
		}
	}
}
