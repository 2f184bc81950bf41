package cli_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/config"
	"github.com/jackc/pgx/v5"
)

// callData is the catalogue's call.received example with some members
// replaced.
func callData(t *testing.T, set map[string]any) json.RawMessage {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(example("call.received"), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Custom headers and payload filters on both backends: the receiver gets
// the headers on deliveries, retries and tests, listings mask them, an
// event goes only to the endpoints whose filter takes it (and POST
// /v1/events lists only those), recover applies the current filter, and
// bad input is refused naming the problem.
func TestEndpointHeadersAndFilters(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			var db string
			if backend == "postgres" {
				db = postgresDB(t)
			}
			k, _ := newSecretKey(t)
			b := start(t, func(c *config.Config) { c.DB, c.SecretKey, c.DBMaxConns = db, k, 4 })
			testHeadersAndFilters(t, b.with(t), db)
		})
	}
}

func testHeadersAndFilters(t *testing.T, b *bundle, db string) {
	acc, c := b.account()
	const token = "Bearer sk_live_0123456789abcdef5f2c"
	// The first attempt fails, so the header is seen on a retry too.
	inbound := newReceiver(t, func(n int) reply {
		if n == 1 {
			return reply{Status: http.StatusServiceUnavailable}
		}
		return reply{}
	})
	epIn := b.endpoint(c, inbound, client.CreateEndpointParams{
		EventTypes: []string{"call.received"},
		Headers:    map[string]string{"Authorization": token, "X-Team": "on-call"},
		Filter:     json.RawMessage(`{"data.direction":"inbound","data.duration_seconds":{"$gte":30}}`),
	})
	missed := newReceiver(t, always(reply{}))
	epMissed := b.endpoint(c, missed, client.CreateEndpointParams{
		Filter: json.RawMessage(`{"$or":[{"data.status":"missed"},{"data.tags":{"$in":["vip"]}}]}`),
	})
	all := newReceiver(t, always(reply{}))
	epAll := b.endpoint(c, all, client.CreateEndpointParams{})

	// Listings mask the values; the headers route shows them.
	if got := epIn.Headers; got["Authorization"] != "••••5f2c" || got["X-Team"] != "••••" || len(got) != 2 {
		t.Errorf("create answer headers = %v, want masked values", got)
	}
	if string(epIn.Filter) != `{"data.direction":"inbound","data.duration_seconds":{"$gte":30}}` || epAll.Filter != nil && string(epAll.Filter) != "null" {
		t.Errorf("filters = %s and %s", epIn.Filter, epAll.Filter)
	}
	full, err := c.GetEndpointHeaders(b.ctx, epIn.ID)
	if err != nil || full["Authorization"] != token || full["X-Team"] != "on-call" {
		t.Errorf("GetEndpointHeaders = %v, %v", full, err)
	}
	if db != "" {
		// Sealed at rest like keys (--secret-key).
		conn, err := pgx.Connect(b.ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		var stored string
		err = conn.QueryRow(b.ctx, `SELECT headers::text FROM endpoints WHERE id = $1`, epIn.ID).Scan(&stored)
		conn.Close(b.ctx)
		if err != nil || strings.Contains(stored, "0123456789abcdef") || !strings.Contains(stored, "enc:v1:") {
			t.Errorf("stored headers = %s, %v; want sealed values", stored, err)
		}
	}
	listed, err := c.ListEndpoints(b.ctx, client.EndpointListParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range listed.Data {
		for _, v := range e.Headers {
			if strings.Contains(v, "5f2c") && v != "••••5f2c" {
				t.Errorf("listing shows a header value: %v", e.Headers)
			}
		}
	}

	submit := func(data json.RawMessage) []string {
		t.Helper()
		res, err := b.admin.SubmitEvent(b.ctx, client.SubmitEventParams{AccountID: acc.ID, Event: "call.received", Data: data})
		if err != nil {
			t.Fatalf("SubmitEvent: %v", err)
		}
		var eps []string
		for _, d := range res.Deliveries {
			eps = append(eps, d.EndpointID)
		}
		slices.Sort(eps)
		return eps
	}
	want := func(ids ...string) []string { slices.Sort(ids); return ids }

	// Inbound, 357 s, completed: the inbound endpoint and the catch-all.
	if got := submit(example("call.received")); !slices.Equal(got, want(epIn.ID, epAll.ID)) {
		t.Errorf("inbound call: deliveries to %v, want %v", got, want(epIn.ID, epAll.ID))
	}
	// Outbound and missed: the missed-calls endpoint and the catch-all.
	if got := submit(callData(t, map[string]any{"direction": "outbound", "status": "missed"})); !slices.Equal(got, want(epMissed.ID, epAll.ID)) {
		t.Errorf("missed outbound call: deliveries to %v, want %v", got, want(epMissed.ID, epAll.ID))
	}
	// Inbound, 12 s, tagged vip: too short for the first, vip for the second.
	if got := submit(callData(t, map[string]any{"duration_seconds": 12, "tags": []string{"vip"}})); !slices.Equal(got, want(epMissed.ID, epAll.ID)) {
		t.Errorf("short vip call: deliveries to %v, want %v", got, want(epMissed.ID, epAll.ID))
	}
	for _, rec := range []*received{inbound.next(), inbound.next()} {
		if got := rec.Header.Get("Authorization"); got != token {
			t.Errorf("request %d: Authorization = %q, want the header's value", rec.N, got)
		}
		if got := rec.Header.Get("X-Team"); got != "on-call" {
			t.Errorf("request %d: X-Team = %q", rec.N, got)
		}
		if rec.Verified != nil {
			t.Errorf("request %d: signature: %v", rec.N, rec.Verified)
		}
	}
	ds, err := c.ListDeliveries(b.ctx, client.DeliveryListParams{EndpointID: epIn.ID})
	if err != nil || len(ds.Data) != 1 {
		t.Fatalf("deliveries of the inbound endpoint = %v, %v", ds, err)
	}
	b.waitStatus(c, ds.Data[0].ID, "succeeded")
	for _, a := range b.attempts(c, ds.Data[0].ID) {
		if a.RequestHeaders["authorization"] != "••••5f2c" || a.RequestHeaders["x-team"] != "••••" {
			t.Errorf("attempt %d request_headers = %v, want the custom headers masked", a.Number, a.RequestHeaders)
		}
	}
	if strings.Contains(b.logs.String(), "0123456789abcdef5f2c") {
		t.Errorf("a header value is in the logs")
	}

	// The test ignores the filter and sends the headers.
	tr, err := c.TestEndpoint(b.ctx, epIn.ID)
	if err != nil || !tr.OK {
		t.Fatalf("TestEndpoint = %+v, %v", tr, err)
	}
	if rec := inbound.next(); rec.Header.Get("Authorization") != token || !strings.Contains(string(rec.Body), `"webhook.test"`) {
		t.Errorf("test request: Authorization %q, body %s", rec.Header.Get("Authorization"), rec.Body)
	}

	// Recover applies the current filter: with "outbound only", the one
	// outbound call the endpoint never got is queued, the inbound ones not.
	outbound := `{"data.direction":"outbound"}`
	if _, err := c.UpdateEndpoint(b.ctx, epIn.ID, client.UpdateEndpointParams{Filter: json.RawMessage(outbound)}); err != nil {
		t.Fatal(err)
	}
	n, err := c.Recover(b.ctx, epIn.ID, time.Time{})
	if err != nil || n != 1 {
		t.Errorf("Recover with an outbound filter = %d, %v; want 1", n, err)
	}
	if rec := inbound.next(); !strings.Contains(string(rec.Body), `"outbound"`) || rec.Header.Get("Authorization") != token {
		t.Errorf("recovered request: %s", rec.Body)
	}

	// PATCH null removes; absent keeps.
	up, err := c.UpdateEndpoint(b.ctx, epIn.ID, client.UpdateEndpointParams{Filter: json.RawMessage("null")})
	if err != nil || string(up.Filter) != "null" || len(up.Headers) != 2 {
		t.Errorf("PATCH filter null = %s %v, %v", up.Filter, up.Headers, err)
	}
	none := map[string]string(nil)
	up, err = c.UpdateEndpoint(b.ctx, epIn.ID, client.UpdateEndpointParams{Headers: &none})
	if err != nil || len(up.Headers) != 0 {
		t.Errorf("PATCH headers null = %v, %v", up.Headers, err)
	}

	// Filter test: on the catalogue example, on a stored event, and a bad
	// filter.
	ft, err := c.FilterTest(b.ctx, epMissed.ID, client.FilterTestParams{})
	if err != nil || ft.Matches || len(ft.Explanation) != 3 || ft.EventType != "call.received" {
		t.Errorf("FilterTest on the example = %+v, %v; want no match explained in 3 lines", ft, err)
	}
	ft, err = c.FilterTest(b.ctx, epMissed.ID, client.FilterTestParams{
		Filter: json.RawMessage(`{"data.tags":"billing"}`), Data: callData(t, map[string]any{"tags": []string{"billing"}})})
	if err != nil || !ft.Matches {
		t.Errorf("FilterTest with data = %+v, %v; want a match", ft, err)
	}
	evs, err := c.ListDeliveries(b.ctx, client.DeliveryListParams{EndpointID: epMissed.ID})
	if err != nil || len(evs.Data) == 0 {
		t.Fatal(err)
	}
	ft, err = c.FilterTest(b.ctx, epMissed.ID, client.FilterTestParams{Event: evs.Data[0].EventID})
	if err != nil || !ft.Matches || ft.EventID == nil || *ft.EventID != evs.Data[0].EventID {
		t.Errorf("FilterTest on a stored event = %+v, %v; want a match", ft, err)
	}

	// Bad input: 400 naming the problem, nothing changed.
	bad := []struct {
		p    client.CreateEndpointParams
		code string
		says string
	}{
		{client.CreateEndpointParams{Filter: json.RawMessage(`{"data.duration_seconds":{"$gte":true}}`)}, client.CodeInvalidFilter, "data.duration_seconds.$gte"},
		{client.CreateEndpointParams{Filter: json.RawMessage(`{"direction":"inbound"}`)}, client.CodeInvalidFilter, "paths start at the envelope"},
		{client.CreateEndpointParams{Headers: map[string]string{"Webhook-Id": "x"}}, client.CodeInvalidParameter, `"Webhook-Id"`},
		{client.CreateEndpointParams{Headers: map[string]string{"X-A": "a\r\nb"}}, client.CodeInvalidParameter, "CR, LF or NUL"},
		{client.CreateEndpointParams{RateLimit: 10_001}, client.CodeInvalidParameter, "rate_limit"},
	}
	for _, tc := range bad {
		tc.p.URL, tc.p.EventTypes = all.URL(), []string{"*"}
		_, err := c.CreateEndpoint(b.ctx, tc.p)
		ce, ok := err.(*client.Error)
		if !ok || ce.StatusCode != 400 || ce.Code != tc.code || !strings.Contains(ce.Message, tc.says) {
			t.Errorf("CreateEndpoint(%+v) = %v, want 400 %s saying %q", tc.p, err, tc.code, tc.says)
		}
	}
	_, err = c.UpdateEndpoint(b.ctx, epAll.ID, client.UpdateEndpointParams{RateLimit: ptr(0)})
	if err != nil {
		t.Errorf("PATCH rate_limit null: %v", err)
	}
	raw, _ := c.GetEndpoint(b.ctx, epAll.ID)
	if raw.RateLimit != nil {
		t.Errorf("rate_limit = %v, want null", *raw.RateLimit)
	}
}

func ptr[T any](v T) *T { return &v }
