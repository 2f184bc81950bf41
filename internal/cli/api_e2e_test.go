package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/config"
)

// rawCall makes an API request with a raw body and returns status and the
// decoded error (if any).
func (b *bundle) rawCall(method, path, token, body string, header map[string]string) (int, map[string]any) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.url+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func errOf(body map[string]any) (code, field string) {
	e, _ := body["error"].(map[string]any)
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	return
}

// Authentication and authorisation: 401 without a valid token, 403 for an
// account token on admin routes, 404 for another account's ids on every
// route, as ids and as filters.
func TestAuthAndTenantIsolation(t *testing.T) {
	t.Parallel()
	b := start(t)
	rcv := newReceiver(t, always(reply{}))
	acc1, c1 := b.account()
	acc2, c2 := b.account()
	ep1 := b.endpoint(c1, rcv, client.CreateEndpointParams{})
	ep2 := b.endpoint(c2, rcv, client.CreateEndpointParams{})
	ev1 := b.send(acc1.ID, "call.received")
	b.send(acc2.ID, "call.received")
	d1 := b.waitStatus(c1, ev1.Deliveries[0].ID, "succeeded")

	for _, tok := range []string{"", "wrong-token", acc1.Token + "x"} {
		code, body := b.rawCall("GET", "/v1/endpoints", tok, "", nil)
		if c, _ := errOf(body); code != 401 || c != "unauthorized" {
			t.Errorf("token %q: %d %v, want 401 unauthorized", tok, code, body)
		}
	}
	adminOnly := []struct{ method, path, body string }{
		{"POST", "/v1/accounts", `{"name":"x"}`},
		{"POST", "/v1/accounts", `not json`}, // 403 before the body is read
		{"GET", "/v1/accounts/" + acc1.ID, ""},
		{"POST", "/v1/accounts/" + acc1.ID + "/rotate-token", ""},
		{"POST", "/v1/events", `{"account_id":"` + acc1.ID + `","event":"call.received","data":{}}`},
	}
	for _, r := range adminOnly {
		code, body := b.rawCall(r.method, r.path, acc1.Token, r.body, nil)
		if c, _ := errOf(body); code != 403 || c != "forbidden" {
			t.Errorf("account token on %s %s: %d %v, want 403 forbidden", r.method, r.path, code, body)
		}
	}
	// Account 2 looks at account 1's objects.
	other := []struct{ method, path, body string }{
		{"GET", "/v1/endpoints/" + ep1.ID, ""},
		{"PATCH", "/v1/endpoints/" + ep1.ID, `{"description":"mine now"}`},
		{"DELETE", "/v1/endpoints/" + ep1.ID, ""},
		{"POST", "/v1/endpoints/" + ep1.ID + "/test", ""},
		{"POST", "/v1/endpoints/" + ep1.ID + "/rotate-secret", ""},
		{"GET", "/v1/endpoints/" + ep1.ID + "/secret", ""},
		{"POST", "/v1/endpoints/" + ep1.ID + "/recover", `{"since":"2026-01-01T00:00:00Z"}`},
		{"GET", "/v1/events/" + ev1.ID, ""},
		{"GET", "/v1/deliveries/" + d1.ID, ""},
		{"GET", "/v1/deliveries/" + d1.ID + "/attempts", ""},
		{"POST", "/v1/deliveries/" + d1.ID + "/redeliver", ""},
		{"GET", "/v1/deliveries?endpoint_id=" + ep1.ID, ""},
		{"GET", "/v1/deliveries?event_id=" + ev1.ID, ""},
		{"GET", "/v1/deliveries?account_id=" + acc1.ID, ""},
		{"GET", "/v1/endpoints?account_id=" + acc1.ID, ""},
		{"POST", "/v1/endpoints", `{"account_id":"` + acc1.ID + `","url":"https://example.com/","event_types":["*"]}`},
	}
	for _, r := range other {
		code, body := b.rawCall(r.method, r.path, acc2.Token, r.body, nil)
		if c, _ := errOf(body); code != 404 || c != "not_found" {
			t.Errorf("other account on %s %s: %d %v, want 404 not_found", r.method, r.path, code, body)
		}
	}
	// Nothing of account 1 changed, and lists never leak.
	if e, _ := c1.GetEndpoint(b.ctx, ep1.ID); e.Description != "" {
		t.Errorf("account 2 changed account 1's endpoint")
	}
	for _, l := range []func() (int, error){
		func() (int, error) {
			p, err := c2.ListEndpoints(b.ctx, client.EndpointListParams{})
			return countOther(p, err, acc1.ID, func(e client.Endpoint) string { return e.AccountID })
		},
		func() (int, error) {
			p, err := c2.ListDeliveries(b.ctx, client.DeliveryListParams{})
			return countOther(p, err, ep1.ID, func(d client.Delivery) string { return d.EndpointID })
		},
	} {
		if n, err := l(); err != nil || n != 0 {
			t.Errorf("account 2's list shows %d of account 1's objects (err %v)", n, err)
		}
	}
	if p, _ := c2.ListEndpoints(b.ctx, client.EndpointListParams{}); len(p.Data) != 1 || p.Data[0].ID != ep2.ID {
		t.Errorf("account 2 lists %d endpoints, want its own one", len(p.Data))
	}
	// The admin sees both; an account token works for its own account.
	if p, err := b.admin.ListEndpoints(b.ctx, client.EndpointListParams{}); err != nil || len(p.Data) != 2 {
		t.Errorf("admin lists %d endpoints, want 2 (err %v)", len(p.Data), err)
	}
	if p, err := c1.ListDeliveries(b.ctx, client.DeliveryListParams{AccountID: acc1.ID}); err != nil || len(p.Data) != 1 {
		t.Errorf("own account filter: %v, %v", p, err)
	}
	// Rotating the token: the old one stops at once.
	tok, err := b.admin.RotateAccountToken(b.ctx, acc1.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c1.GetEndpoint(b.ctx, ep1.ID)
	wantCode(t, err, 401, client.CodeUnauthorized)
	if _, err := b.as(tok).GetEndpoint(b.ctx, ep1.ID); err != nil {
		t.Errorf("new token: %v", err)
	}
}

func countOther[T any](p *client.Page[T], err error, id string, of func(T) string) (int, error) {
	if err != nil {
		return 0, err
	}
	n := 0
	for _, x := range p.Data {
		if of(x) == id {
			n++
		}
	}
	return n, nil
}

// Bad input gets a 4xx naming the problem, and stores nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	b := start(t, func(c *config.Config) { c.MaxEventBytes = 4096 })
	acc, c := b.account()
	ep := b.endpoint(c, newReceiver(t, always(reply{})), client.CreateEndpointParams{})
	tests := []struct {
		name, method, path, body string
		status                   int
		code, field              string
	}{
		{"not JSON", "POST", "/v1/endpoints", `{"url":`, 400, "invalid_json", ""},
		{"array", "POST", "/v1/endpoints", `[]`, 400, "invalid_json", ""},
		{"wrong type", "POST", "/v1/endpoints", `{"url":"https://example.com/","event_types":"*"}`, 400, "invalid_json", "event_types"},
		{"unknown field", "POST", "/v1/endpoints", `{"url":"https://example.com/","event_types":["*"],"secret":"x"}`, 400, "unknown_field", "secret"},
		{"two values", "POST", "/v1/endpoints", `{} {}`, 400, "invalid_json", ""},
		{"no url", "POST", "/v1/endpoints", `{"event_types":["*"]}`, 400, "invalid_url", "url"},
		{"http url", "POST", "/v1/endpoints", `{"url":"http://example.com/","event_types":["*"]}`, 400, "invalid_url", "url"},
		{"userinfo", "POST", "/v1/endpoints", `{"url":"https://u:p@example.com/","event_types":["*"]}`, 400, "invalid_url", "url"},
		{"relative", "POST", "/v1/endpoints", `{"url":"/hooks","event_types":["*"]}`, 400, "invalid_url", "url"},
		{"long url", "POST", "/v1/endpoints", `{"url":"https://example.com/` + strings.Repeat("a", 2048) + `","event_types":["*"]}`, 400, "invalid_url", "url"},
		{"no types", "POST", "/v1/endpoints", `{"url":"https://example.com/","event_types":[]}`, 400, "invalid_event_types", "event_types"},
		{"unknown type", "POST", "/v1/endpoints", `{"url":"https://example.com/","event_types":["call.made"]}`, 400, "invalid_event_types", "event_types"},
		{"internal type", "POST", "/v1/endpoints", `{"url":"https://example.com/","event_types":["webhook.test"]}`, 400, "invalid_event_types", "event_types"},
		{"star and more", "POST", "/v1/endpoints", `{"url":"https://example.com/","event_types":["*","sms.received"]}`, 400, "invalid_event_types", "event_types"},
		{"bad signing", "POST", "/v1/endpoints", `{"url":"https://example.com/","event_types":["*"],"signing":"rsa"}`, 400, "invalid_parameter", "signing"},
		{"patch bad url", "PATCH", "/v1/endpoints/" + ep.ID, `{"url":"ftp://example.com/"}`, 400, "invalid_url", "url"},
		{"bad since", "POST", "/v1/endpoints/" + ep.ID + "/recover", `{"since":"yesterday"}`, 400, "invalid_parameter", "since"},
		{"limit 0", "GET", "/v1/deliveries?limit=0", ``, 400, "invalid_limit", "limit"},
		{"limit 501", "GET", "/v1/endpoints?limit=501", ``, 400, "invalid_limit", "limit"},
		{"limit text", "GET", "/v1/endpoints?limit=ten", ``, 400, "invalid_limit", "limit"},
		{"foreign cursor", "GET", "/v1/deliveries?cursor=bm9wZQ", ``, 400, "invalid_parameter", "cursor"},
		{"bad status", "GET", "/v1/deliveries?status=lost", ``, 400, "invalid_parameter", "status"},
		{"unknown endpoint", "GET", "/v1/endpoints/ep_nope", ``, 404, "not_found", ""},
		{"unknown route", "GET", "/v1/nope", ``, 404, "not_found", ""},
		{"wrong method", "PUT", "/v1/endpoints/" + ep.ID, `{}`, 405, "method_not_allowed", ""},
		{"event unknown type", "POST", "/v1/events", `{"account_id":"` + acc.ID + `","event":"call.made","data":{}}`, 400, "unknown_event_type", "event"},
		{"event test type", "POST", "/v1/events", `{"account_id":"` + acc.ID + `","event":"webhook.test","data":{}}`, 400, "unknown_event_type", "event"},
		{"event operator type", "POST", "/v1/events", `{"account_id":"` + acc.ID + `","event":"endpoint.disabled","data":{}}`, 400, "unknown_event_type", "event"},
		{"event bad number", "POST", "/v1/events", `{"account_id":"` + acc.ID + `","event":"sms.received","data":` +
			strings.Replace(string(example("sms.received")), `"+1`, `"1`, 1) + `}`, 400, "invalid_event", "data.from.number"},
		{"event missing field", "POST", "/v1/events", `{"account_id":"` + acc.ID + `","event":"sms.received","data":{}}`, 400, "invalid_event", ""},
		{"event no account", "POST", "/v1/events", `{"account_id":"acc_nope","event":"sms.received","data":` + string(example("sms.received")) + `}`, 400, "invalid_reference", "account_id"},
		{"event too large", "POST", "/v1/events", `{"account_id":"` + acc.ID + `","event":"sms.received","data":{"body":"` + strings.Repeat("x", 5000) + `"}}`, 413, "payload_too_large", ""},
		{"account no name", "POST", "/v1/accounts", `{}`, 400, "invalid_parameter", "name"},
		{"null body", "POST", "/v1/accounts", `null`, 400, "invalid_json", ""},
		{"patch null", "PATCH", "/v1/endpoints/" + ep.ID, `null`, 400, "invalid_json", ""},
		{"field in other case", "POST", "/v1/accounts", `{"Name":"Acme"}`, 400, "unknown_field", "Name"},
		{"event field in other case", "POST", "/v1/events", `{"account_id":"` + acc.ID + `","EVENT":"sms.received","data":` + string(example("sms.received")) + `}`, 400, "unknown_field", "EVENT"},
		{"field twice", "PATCH", "/v1/endpoints/" + ep.ID, `{"description":"a","description":"b"}`, 400, "invalid_json", "description"},
		{"nested too deeply", "POST", "/v1/endpoints", `{"url":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`, 400, "invalid_json", ""},
	}
	for _, tt := range tests {
		token := acc.Token // the app's routes
		if strings.HasPrefix(tt.path, "/v1/events") || strings.HasPrefix(tt.path, "/v1/accounts") {
			token = adminToken
		}
		status, body := b.rawCall(tt.method, tt.path, token, tt.body, nil)
		code, field := errOf(body)
		if status != tt.status || code != tt.code || (tt.field != "" && field != tt.field) {
			t.Errorf("%s: %d %v, want %d %s field %q", tt.name, status, body, tt.status, tt.code, tt.field)
		}
		e, _ := body["error"].(map[string]any)
		if e == nil || e["message"] == "" {
			t.Errorf("%s: no error message: %v", tt.name, body)
		}
		if msg, _ := e["message"].(string); tt.name == "nested too deeply" && !strings.Contains(msg, "too deeply") {
			t.Errorf("%s: message %q does not name the problem", tt.name, msg)
		}
	}
	if got, err := c.GetEndpoint(b.ctx, ep.ID); err != nil || got.Description != "" {
		t.Errorf("after the refused PATCHes the endpoint is %+v, %v; want it unchanged", got, err)
	}
	// Nothing was half-stored.
	if p, _ := c.ListDeliveries(b.ctx, client.DeliveryListParams{}); len(p.Data) != 0 {
		t.Errorf("bad events left %d deliveries", len(p.Data))
	}
	if p, _ := c.ListEndpoints(b.ctx, client.EndpointListParams{}); len(p.Data) != 1 {
		t.Errorf("bad endpoints left %d endpoints, want 1", len(p.Data))
	}
	if e, _ := c.GetEndpoint(b.ctx, ep.ID); e.URL != ep.URL {
		t.Errorf("a rejected PATCH changed the URL")
	}
}

// Idempotency keys: same key and request → the first answer, no new
// event; same key, other data → 409.
func TestIdempotency(t *testing.T) {
	t.Parallel()
	b := start(t)
	rcv := newReceiver(t, always(reply{}))
	acc, c := b.account()
	b.endpoint(c, rcv, client.CreateEndpointParams{})
	p := client.SubmitEventParams{AccountID: acc.ID, Event: "sms.received", Data: example("sms.received"), IdempotencyKey: "call-42"}
	first, err := b.admin.SubmitEvent(b.ctx, p)
	if err != nil || first.Replayed {
		t.Fatalf("first = %+v, %v", first, err)
	}
	// Same data with other key order and spacing is the same request.
	var m map[string]any
	json.Unmarshal(example("sms.received"), &m)
	p.Data = m
	again, err := b.admin.SubmitEvent(b.ctx, p)
	if err != nil || !again.Replayed || again.ID != first.ID || fmt.Sprint(again.Deliveries) != fmt.Sprint(first.Deliveries) {
		t.Fatalf("replay = %+v, %v; want the first answer", again, err)
	}
	// The idempotency_key body field works like the header.
	status, body := b.rawCall("POST", "/v1/events", adminToken,
		`{"account_id":"`+acc.ID+`","event":"sms.received","idempotency_key":"call-42","data":`+string(example("sms.received"))+`}`, nil)
	if status != 200 || body["id"] != first.ID {
		t.Errorf("body key replay: %d %v", status, body)
	}
	m["body"] = "something else"
	_, err = b.admin.SubmitEvent(b.ctx, p)
	wantCode(t, err, 409, client.CodeIdempotencyConflict)
	rcv.next()
	rcv.none(200 * time.Millisecond)
	if p, _ := c.ListDeliveries(b.ctx, client.DeliveryListParams{}); len(p.Data) != 1 {
		t.Errorf("%d deliveries, want 1", len(p.Data))
	}
}

// Lists: newest first, opaque cursors, null next_cursor at the end (also
// when the last page is exactly full).
func TestPagination(t *testing.T) {
	t.Parallel()
	b := start(t, func(c *config.Config) { c.RetryBase = time.Hour })
	acc, c := b.account()
	var made []string
	for range 6 {
		made = append([]string{b.endpoint(c, nil, client.CreateEndpointParams{URL: "https://example.com/hook"}).ID}, made...)
	}
	var got []string
	cursor := ""
	pages := 0
	for {
		p, err := c.ListEndpoints(b.ctx, client.EndpointListParams{ListParams: client.ListParams{Limit: 3, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range p.Data {
			got = append(got, e.ID)
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if fmt.Sprint(got) != fmt.Sprint(made) || pages != 2 {
		t.Errorf("paged %d pages: %v, want 2 pages %v", pages, got, made)
	}
	status, body := b.rawCall("GET", "/v1/endpoints?limit=6", acc.Token, "", nil)
	if status != 200 || body["next_cursor"] != nil || len(body["data"].([]any)) != 6 {
		t.Errorf("exactly full last page: next_cursor = %v", body["next_cursor"])
	}
	status, body = b.rawCall("GET", "/v1/event-types", acc.Token, "", nil)
	if status != 200 || body["next_cursor"] != nil || len(body["data"].([]any)) != 2 {
		t.Errorf("event types = %d %v", status, body)
	}
	status, body = b.rawCall("GET", "/v1/event-types?limit=1", acc.Token, "", nil)
	cur, _ := body["next_cursor"].(string)
	if status != 200 || len(body["data"].([]any)) != 1 || cur == "" {
		t.Fatalf("event types, limit 1 = %d %v", status, body)
	}
	status, body = b.rawCall("GET", "/v1/event-types?limit=1&cursor="+cur, acc.Token, "", nil)
	if status != 200 || len(body["data"].([]any)) != 1 || body["next_cursor"] != nil ||
		body["data"].([]any)[0].(map[string]any)["event"] != "sms.received" {
		t.Errorf("event types, second page = %d %v", status, body)
	}
	if status, _ := b.rawCall("GET", "/v1/event-types?limit=0", acc.Token, "", nil); status != 400 {
		t.Errorf("event types, limit 0 = %d, want 400", status)
	}
	_ = acc
}

// Health and readiness need no token.
func TestHealth(t *testing.T) {
	t.Parallel()
	b := start(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, _ := b.rawCall("GET", path, "", "", nil); status != 200 {
			t.Errorf("%s = %d", path, status)
		}
	}
	resp, err := http.Get(b.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "hookd_events_accepted_total 0") {
		t.Errorf("/metrics lacks hookd_events_accepted_total")
	}
}
