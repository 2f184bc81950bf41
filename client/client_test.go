package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
)

const (
	testToken = "tok_s3cr3t-value"
	testUA    = "hookd-test/1"
)

// seen is a request as the fake server received it.
type seen struct {
	Method string
	Path   string // escaped
	Query  string // raw
	Body   string
	Header http.Header
}

// fake is an httptest server that records every request and answers with
// respond. Assertions happen in the test goroutine, on fake.requests.
type fake struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newFake(t *testing.T, respond http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(body), r.Header.Clone()})
		f.mu.Unlock()
		respond(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

// client returns a Client of f with the test token and user agent.
func (f *fake) client(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.New(f.srv.URL, testToken, client.WithUserAgent(testUA))
	if err != nil {
		t.Fatalf("New(%q) error: %v", f.srv.URL, err)
	}
	return c
}

// answer returns a handler that writes status and body as JSON.
func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

const (
	endpointJSON = `{"id":"ep_1","account_id":"acc_1","url":"https://example.com/h","description":"d",
		"event_types":["sms.received"],"signing":"ed25519","public_key":"whpk_abc","enabled":false,
		"disabled_reason":"consecutive_failures","disabled_at":"2026-11-27T12:30:00.000Z",
		"consecutive_failures":3,"created_at":"2026-11-27T12:00:00.000Z","updated_at":"2026-11-27T12:30:00.000Z"}`
	deliveryJSON = `{"id":"dlv_1","event_id":"evt_1","endpoint_id":"ep_1","trigger":"scheduled","status":"pending",
		"attempts":1,"next_attempt_at":"2026-11-27T12:00:30.000Z","last_status_code":503,
		"last_error":"http_status: 503","created_at":"2026-11-27T12:00:00.000Z","updated_at":"2026-11-27T12:00:01.000Z"}`
	attemptJSON = `{"id":"att_1","delivery_id":"dlv_1","number":1,"trigger":"scheduled",
		"started_at":"2026-11-27T12:00:00.500Z","duration_ms":42,"status_code":null,"error":"connect: refused",
		"response_body":"","request_headers":{"webhook-id":"evt_1"}}`
)

var (
	wantEndpoint = client.Endpoint{
		ID: "ep_1", AccountID: "acc_1", URL: "https://example.com/h", Description: "d",
		EventTypes: []string{"sms.received"}, Signing: "ed25519", PublicKey: ptr("whpk_abc"), Enabled: false,
		DisabledReason: ptr("consecutive_failures"), DisabledAt: ptr(ts("2026-11-27T12:30:00Z")),
		ConsecutiveFailures: 3, CreatedAt: ts("2026-11-27T12:00:00Z"), UpdatedAt: ts("2026-11-27T12:30:00Z"),
	}
	wantDelivery = client.Delivery{
		ID: "dlv_1", EventID: "evt_1", EndpointID: "ep_1", Trigger: "scheduled", Status: "pending", Attempts: 1,
		NextAttemptAt: ptr(ts("2026-11-27T12:00:30Z")), LastStatusCode: ptr(503), LastError: ptr("http_status: 503"),
		CreatedAt: ts("2026-11-27T12:00:00Z"), UpdatedAt: ts("2026-11-27T12:00:01Z"),
	}
	wantAttempt = client.Attempt{
		ID: "att_1", DeliveryID: "dlv_1", Number: 1, Trigger: "scheduled", StartedAt: ts("2026-11-27T12:00:00.5Z"),
		DurationMS: 42, Error: ptr("connect: refused"), RequestHeaders: map[string]string{"webhook-id": "evt_1"},
	}
)

// TestMethods checks, for every method, the request it sends and how it
// reads the answer.
func TestMethods(t *testing.T) {
	t.Parallel()

	createdEndpoint := wantEndpoint
	createdEndpoint.Secret = "whsec_abc"
	rawEnvelope := `{"id":"evt_1", "event":"sms.received","timestamp":"2026-11-27T12:00:00.000Z","account_id":"acc_1","data":{"n":12345678901234567890}}`

	tests := []struct {
		name string
		call func(context.Context, *client.Client) (any, error)

		// The request the client must send. An empty body means none,
		// and then no Content-Type either.
		method, path, query, body string
		// header lists further headers; "" means the header must be absent.
		header map[string]string
		public bool // no Authorization header

		// The canned answer and what the method must make of it.
		status int
		resp   string
		want   any
	}{
		{
			name:   "CreateAccount",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return c.CreateAccount(ctx, "Acme <GmbH>") },
			method: "POST", path: "/v1/accounts", body: `{"name":"Acme <GmbH>"}`,
			status: 201, resp: `{"id":"acc_1","name":"Acme <GmbH>","created_at":"2026-11-27T12:00:00.000Z","token":"tok_new"}`,
			want: &client.Account{ID: "acc_1", Name: "Acme <GmbH>", CreatedAt: ts("2026-11-27T12:00:00Z"), Token: "tok_new"},
		},
		{
			name:   "GetAccount escapes the id",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return c.GetAccount(ctx, "acc 1/x?y") },
			method: "GET", path: "/v1/accounts/acc%201%2Fx%3Fy",
			status: 200, resp: `{"id":"acc_1","name":"Acme","created_at":"2026-11-27T12:00:00.000Z"}`,
			want: &client.Account{ID: "acc_1", Name: "Acme", CreatedAt: ts("2026-11-27T12:00:00Z")},
		},
		{
			name:   "RotateAccountToken",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return c.RotateAccountToken(ctx, "acc_1") },
			method: "POST", path: "/v1/accounts/acc_1/rotate-token",
			status: 200, resp: `{"token":"tok_2"}`,
			want: "tok_2",
		},
		{
			name: "SubmitEvent with raw data and a key",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.SubmitEvent(ctx, client.SubmitEventParams{
					AccountID: "acc_1", Event: "sms.received", IdempotencyKey: "k-1",
					Data: json.RawMessage("{\"body\": \"<b>&amp;\",\n \"n\": 12345678901234567890.50}"),
				})
			},
			method: "POST", path: "/v1/events",
			body:   `{"account_id":"acc_1","event":"sms.received","data":{"body":"<b>&amp;","n":12345678901234567890.50}}`,
			header: map[string]string{"Idempotency-Key": "k-1"},
			status: 202, resp: `{"id":"evt_1","deliveries":[{"id":"dlv_1","endpoint_id":"ep_1"}]}`,
			want: &client.SubmitEventResult{ID: "evt_1", Deliveries: []client.DeliveryRef{{ID: "dlv_1", EndpointID: "ep_1"}}},
		},
		{
			name: "SubmitEvent replayed",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.SubmitEvent(ctx, client.SubmitEventParams{
					AccountID: "acc_1", Event: "call.received", Data: map[string]any{"call_id": "c1"},
				})
			},
			method: "POST", path: "/v1/events",
			body:   `{"account_id":"acc_1","event":"call.received","data":{"call_id":"c1"}}`,
			header: map[string]string{"Idempotency-Key": ""},
			status: 200, resp: `{"id":"evt_1","deliveries":[]}`,
			want: &client.SubmitEventResult{ID: "evt_1", Deliveries: []client.DeliveryRef{}, Replayed: true},
		},
		{
			name: "SubmitEvent without data",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.SubmitEvent(ctx, client.SubmitEventParams{AccountID: "acc_1", Event: "sms.received"})
			},
			method: "POST", path: "/v1/events", body: `{"account_id":"acc_1","event":"sms.received"}`,
			status: 202, resp: `{"id":"evt_2","deliveries":[]}`,
			want: &client.SubmitEventResult{ID: "evt_2", Deliveries: []client.DeliveryRef{}},
		},
		{
			name:   "GetEvent",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return c.GetEvent(ctx, "evt_1") },
			method: "GET", path: "/v1/events/evt_1",
			status: 200, resp: rawEnvelope,
			want: &client.Envelope{ID: "evt_1", Event: "sms.received", Timestamp: ts("2026-11-27T12:00:00Z"),
				AccountID: "acc_1", Data: json.RawMessage(`{"n":12345678901234567890}`)},
		},
		{
			name:   "GetEventRaw keeps the bytes",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return c.GetEventRaw(ctx, "evt_1") },
			method: "GET", path: "/v1/events/evt_1",
			status: 200, resp: rawEnvelope,
			want: []byte(rawEnvelope),
		},
		{
			name: "ListEvents with every filter",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListEvents(ctx, client.EventListParams{ListParams: client.ListParams{Limit: 2, Cursor: "c1"},
					AccountID: "acc_1", Event: "sms.received", Since: ts("2026-11-27T12:00:00Z"),
					Until: time.Date(2026, 11, 27, 14, 0, 0, 0, time.FixedZone("CET", 3600))})
			},
			method: "GET", path: "/v1/events",
			query:  "account_id=acc_1&cursor=c1&event=sms.received&limit=2&since=2026-11-27T12%3A00%3A00Z&until=2026-11-27T13%3A00%3A00Z",
			status: 200, resp: `{"data":[` + rawEnvelope + `],"next_cursor":"c2"}`,
			want: &client.Page[client.Envelope]{Data: []client.Envelope{{ID: "evt_1", Event: "sms.received",
				Timestamp: ts("2026-11-27T12:00:00Z"), AccountID: "acc_1", Data: json.RawMessage(`{"n":12345678901234567890}`)}},
				NextCursor: "c2"},
		},
		{
			name:   "EventTypes",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return c.EventTypes(ctx) },
			method: "GET", path: "/v1/event-types",
			status: 200, resp: `{"data":[{"event":"sms.received","description":"An SMS arrived.","schema":{"type":"object"},"example":{"body":"Hi"}}],"next_cursor":null}`,
			want: []client.EventType{{Event: "sms.received", Description: "An SMS arrived.",
				Schema: json.RawMessage(`{"type":"object"}`), Example: json.RawMessage(`{"body":"Hi"}`)}},
		},
		{
			name: "CreateEndpoint with every field",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.CreateEndpoint(ctx, client.CreateEndpointParams{
					AccountID: "acc_1", URL: "https://example.com/h?a=1&b=2", EventTypes: []string{"*"},
					Enabled: ptr(false), Description: "d", Signing: "ed25519",
				})
			},
			method: "POST", path: "/v1/endpoints",
			body:   `{"account_id":"acc_1","url":"https://example.com/h?a=1&b=2","event_types":["*"],"enabled":false,"description":"d","signing":"ed25519"}`,
			status: 201, resp: strings.TrimSuffix(endpointJSON, "}") + `,"secret":"whsec_abc"}`,
			want: &createdEndpoint,
		},
		{
			name: "CreateEndpoint with the required fields",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.CreateEndpoint(ctx, client.CreateEndpointParams{URL: "https://example.com/h", EventTypes: []string{"sms.received"}})
			},
			method: "POST", path: "/v1/endpoints",
			body:   `{"url":"https://example.com/h","event_types":["sms.received"]}`,
			status: 201, resp: endpointJSON,
			want: &wantEndpoint,
		},
		{
			name:   "GetEndpoint",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return c.GetEndpoint(ctx, "ep_1") },
			method: "GET", path: "/v1/endpoints/ep_1",
			status: 200, resp: endpointJSON,
			want: &wantEndpoint,
		},
		{
			name: "ListEndpoints with parameters",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListEndpoints(ctx, client.EndpointListParams{ListParams: client.ListParams{Limit: 10, Cursor: "ZXA6ZXBfMQ"}, AccountID: "acc_1"})
			},
			method: "GET", path: "/v1/endpoints", query: "account_id=acc_1&cursor=ZXA6ZXBfMQ&limit=10",
			status: 200, resp: `{"data":[` + endpointJSON + `],"next_cursor":"ZXA6ZXBfMg"}`,
			want: &client.Page[client.Endpoint]{Data: []client.Endpoint{wantEndpoint}, NextCursor: "ZXA6ZXBfMg"},
		},
		{
			name: "ListEndpoints without parameters",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListEndpoints(ctx, client.EndpointListParams{})
			},
			method: "GET", path: "/v1/endpoints",
			status: 200, resp: `{"data":[],"next_cursor":null}`,
			want: &client.Page[client.Endpoint]{Data: []client.Endpoint{}},
		},
		{
			name: "UpdateEndpoint sends only what is set",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.UpdateEndpoint(ctx, "ep_1", client.UpdateEndpointParams{Enabled: ptr(true)})
			},
			method: "PATCH", path: "/v1/endpoints/ep_1", body: `{"enabled":true}`,
			status: 200, resp: endpointJSON,
			want: &wantEndpoint,
		},
		{
			name: "UpdateEndpoint with every field, empty values included",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.UpdateEndpoint(ctx, "ep_1", client.UpdateEndpointParams{
					URL: ptr("https://example.com/new"), EventTypes: []string{}, Description: ptr(""), Enabled: ptr(false),
				})
			},
			method: "PATCH", path: "/v1/endpoints/ep_1",
			body:   `{"url":"https://example.com/new","event_types":[],"description":"","enabled":false}`,
			status: 200, resp: endpointJSON,
			want: &wantEndpoint,
		},
		{
			name: "UpdateEndpoint with nothing set",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.UpdateEndpoint(ctx, "ep_1", client.UpdateEndpointParams{})
			},
			method: "PATCH", path: "/v1/endpoints/ep_1", body: `{}`,
			status: 200, resp: endpointJSON,
			want: &wantEndpoint,
		},
		{
			name:   "DeleteEndpoint",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return nil, c.DeleteEndpoint(ctx, "ep_1") },
			method: "DELETE", path: "/v1/endpoints/ep_1",
			status: 204,
		},
		{
			name:   "TestEndpoint",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return c.TestEndpoint(ctx, "ep_1") },
			method: "POST", path: "/v1/endpoints/ep_1/test",
			status: 200, resp: `{"ok":true,"status_code":204,"duration_ms":17,"error":null,"hint":"","delivery_id":"dlv_9","attempt_id":"att_9"}`,
			want: &client.TestResult{OK: true, StatusCode: ptr(204), DurationMS: 17, DeliveryID: "dlv_9", AttemptID: "att_9"},
		},
		{
			name:   "RotateSecret",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return c.RotateSecret(ctx, "ep_1") },
			method: "POST", path: "/v1/endpoints/ep_1/rotate-secret",
			status: 200, resp: `{"secret":"whsec_new"}`,
			want: &client.Secret{Secret: "whsec_new"},
		},
		{
			name:   "GetSecret of an ed25519 endpoint",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return c.GetSecret(ctx, "ep_1") },
			method: "GET", path: "/v1/endpoints/ep_1/secret",
			status: 200, resp: `{"public_key":"whpk_abc"}`,
			want: &client.Secret{PublicKey: "whpk_abc"},
		},
		{
			name: "Recover sends since in UTC",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				since := time.Date(2026, 11, 27, 13, 0, 0, 123456789, time.FixedZone("CET", 3600))
				return c.Recover(ctx, "ep_1", since)
			},
			method: "POST", path: "/v1/endpoints/ep_1/recover", body: `{"since":"2026-11-27T12:00:00.123456789Z"}`,
			status: 202, resp: `{"queued":3}`,
			want: 3,
		},
		{
			name: "ListDeliveries with every filter",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListDeliveries(ctx, client.DeliveryListParams{
					ListParams: client.ListParams{Limit: 500, Cursor: "c&1"},
					AccountID:  "acc_1", EndpointID: "ep_1", EventID: "evt_1", Status: "failed",
				})
			},
			method: "GET", path: "/v1/deliveries",
			query:  "account_id=acc_1&cursor=c%261&endpoint_id=ep_1&event_id=evt_1&limit=500&status=failed",
			status: 200, resp: `{"data":[` + deliveryJSON + `],"next_cursor":null}`,
			want: &client.Page[client.Delivery]{Data: []client.Delivery{wantDelivery}},
		},
		{
			name: "ListDeliveries with one filter",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListDeliveries(ctx, client.DeliveryListParams{EventID: "evt_1"})
			},
			method: "GET", path: "/v1/deliveries", query: "event_id=evt_1",
			status: 200, resp: `{"data":[],"next_cursor":null}`,
			want: &client.Page[client.Delivery]{Data: []client.Delivery{}},
		},
		{
			name:   "GetDelivery",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return c.GetDelivery(ctx, "dlv_1") },
			method: "GET", path: "/v1/deliveries/dlv_1",
			status: 200, resp: deliveryJSON,
			want: &wantDelivery,
		},
		{
			name: "ListAttempts",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListAttempts(ctx, "dlv_1", client.ListParams{Limit: 1})
			},
			method: "GET", path: "/v1/deliveries/dlv_1/attempts", query: "limit=1",
			status: 200, resp: `{"data":[` + attemptJSON + `],"next_cursor":"YXR0OjE"}`,
			want: &client.Page[client.Attempt]{Data: []client.Attempt{wantAttempt}, NextCursor: "YXR0OjE"},
		},
		{
			name:   "Redeliver",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return c.Redeliver(ctx, "dlv_0") },
			method: "POST", path: "/v1/deliveries/dlv_0/redeliver",
			status: 202, resp: deliveryJSON,
			want: &wantDelivery,
		},
		{
			name:   "Healthz",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return nil, c.Healthz(ctx) },
			method: "GET", path: "/healthz", public: true,
			status: 200, resp: `{"status":"ok"}`,
		},
		{
			name:   "Readyz",
			call:   func(ctx context.Context, c *client.Client) (any, error) { return nil, c.Readyz(ctx) },
			method: "GET", path: "/readyz", public: true,
			status: 200, resp: `{"status":"ok"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, answer(tt.status, tt.resp))
			got, err := tt.call(t.Context(), f.client(t))
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if tt.want == nil {
				if v := reflect.ValueOf(got); got != nil && !v.IsNil() {
					t.Errorf("result = %#v, want nil", got)
				}
			} else if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("result =\n%s\nwant\n%s", dump(got), dump(tt.want))
			}

			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tt.method || r.Path != tt.path || r.Query != tt.query {
				t.Errorf("request = %s %s?%s, want %s %s?%s", r.Method, r.Path, r.Query, tt.method, tt.path, tt.query)
			}
			if r.Body != tt.body {
				t.Errorf("body = %s, want %s", r.Body, tt.body)
			}
			wantHeader := map[string]string{
				"Authorization": "Bearer " + testToken,
				"User-Agent":    testUA,
				"Accept":        "application/json",
				"Content-Type":  "",
			}
			if tt.public {
				wantHeader["Authorization"] = ""
			}
			if tt.body != "" {
				wantHeader["Content-Type"] = "application/json"
			}
			for k, v := range tt.header {
				wantHeader[k] = v
			}
			for k, want := range wantHeader {
				if got := r.Header.Values(k); want == "" && len(got) != 0 || want != "" && (len(got) != 1 || got[0] != want) {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// dump formats v for failure messages, following pointers.
func dump(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return fmt.Sprintf("%T %s", v, b)
}

func TestErrors(t *testing.T) {
	t.Parallel()

	long := strings.Repeat("é", 300) // 600 bytes, two per rune
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        client.Error
		wantString  string
	}{
		{
			name: "JSON error with a field", status: 400, contentType: "application/json",
			body:       `{"error":{"code":"invalid_url","message":"The URL must use https.","field":"url"}}`,
			want:       client.Error{StatusCode: 400, Code: client.CodeInvalidURL, Message: "The URL must use https.", Field: "url"},
			wantString: "hookd: 400 invalid_url: The URL must use https. (field url)",
		},
		{
			name: "JSON error without a field", status: 401, contentType: "application/json",
			body:       `{"error":{"code":"unauthorized","message":"A valid token is required."}}` + "\n",
			want:       client.Error{StatusCode: 401, Code: client.CodeUnauthorized, Message: "A valid token is required."},
			wantString: "hookd: 401 unauthorized: A valid token is required.",
		},
		{
			name: "HTML from a proxy", status: 502, contentType: "text/html",
			body:       "<html>\r\n<body>\tBad   Gateway</body>\n</html>\n",
			want:       client.Error{StatusCode: 502, Code: "http_502", Message: "<html> <body> Bad Gateway</body> </html>"},
			wantString: "hookd: 502 http_502: <html> <body> Bad Gateway</body> </html>",
		},
		{
			name: "JSON that is not an error body", status: 503, contentType: "application/json",
			body: `{"status":"unavailable"}`,
			want: client.Error{StatusCode: 503, Code: "http_503", Message: `{"status":"unavailable"}`},
		},
		{
			name: "empty body", status: 500,
			want:       client.Error{StatusCode: 500, Code: "http_500", Message: "Internal Server Error"},
			wantString: "hookd: 500 http_500: Internal Server Error",
		},
		{
			name: "long body is cut", status: 500, contentType: "text/plain", body: long,
			want: client.Error{StatusCode: 500, Code: "http_500", Message: long[:200] + "…"},
		},
		{
			name: "invalid UTF-8 is dropped", status: 500, contentType: "text/plain", body: "bad\xff\xfe body",
			want: client.Error{StatusCode: 500, Code: "http_500", Message: "bad body"},
		},
		{
			name: "304 is not success", status: 304,
			want: client.Error{StatusCode: 304, Code: "http_304", Message: "Not Modified"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, err := f.client(t).GetEndpoint(t.Context(), "ep_1")
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("GetEndpoint error = %v (%T), want *client.Error", err, err)
			}
			if *e != tt.want {
				t.Errorf("error = %#v, want %#v", *e, tt.want)
			}
			if tt.wantString != "" && err.Error() != tt.wantString {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.wantString)
			}
			if got := client.ErrorCode(err); got != tt.want.Code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.want.Code)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

// TestBadSuccess checks 2xx answers that do not hold what a method
// expects: they are errors, but not *Error.
func TestBadSuccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr string
	}{
		{"204 where a body is expected", 204, "", "empty response body (HTTP 204)"},
		{"200 without a body", 200, "", "empty response body (HTTP 200)"},
		{"200 with invalid JSON", 200, `{"id":`, "decode response"},
		{"200 with the wrong shape", 200, `[1,2]`, "decode response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, answer(tt.status, tt.body))
			ep, err := f.client(t).GetEndpoint(t.Context(), "ep_1")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("GetEndpoint = %v, %v; want an error containing %q", ep, err, tt.wantErr)
			}
			if ep != nil {
				t.Errorf("GetEndpoint endpoint = %v, want nil", ep)
			}
			if code := client.ErrorCode(err); code != "" {
				t.Errorf("ErrorCode = %q, want empty", code)
			}
			if !strings.HasPrefix(err.Error(), "hookd: GET /v1/endpoints/ep_1: ") {
				t.Errorf("error %q does not name the request", err)
			}
		})
	}
}

func TestErrorCode(t *testing.T) {
	t.Parallel()
	e := &client.Error{StatusCode: 409, Code: client.CodeAlreadyPending}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"other error", errors.New("boom"), ""},
		{"*Error", e, client.CodeAlreadyPending},
		{"wrapped *Error", fmt.Errorf("redeliver: %w", e), client.CodeAlreadyPending},
		{"context error", context.Canceled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := client.ErrorCode(tt.err); got != tt.want {
				t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base    string
		wantErr bool
	}{
		{"http://localhost:8080", false},
		{"https://hooks.example.com/", false},
		{"https://hooks.example.com/hookd", false},
		{"http://[::1]:8080", false},
		{"", true},
		{"localhost:8080", true},
		{"/v1", true},
		{"ftp://example.com", true},
		{"http://", true},
		{"https://user:p4ssw0rd@example.com", true},
		{"http://example.com?x=1", true},
		{"http://example.com/#top", true},
		{"http://exa mple.com", true},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			t.Parallel()
			c, err := client.New(tt.base, testToken)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New(%q) = %v, %v; want error: %v", tt.base, c, err, tt.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "p4ssw0rd") || strings.Contains(err.Error(), testToken)) {
				t.Errorf("New(%q) error %q shows a credential", tt.base, err)
			}
		})
	}
}

// TestBasePath checks that a base URL with a path prefix (a reverse proxy)
// keeps it, with or without a trailing slash.
func TestBasePath(t *testing.T) {
	t.Parallel()
	for _, suffix := range []string{"/hookd", "/hookd/"} {
		t.Run(suffix, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, answer(200, deliveryJSON))
			c, err := client.New(f.srv.URL+suffix, testToken)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetDelivery(t.Context(), "dlv_1"); err != nil {
				t.Fatal(err)
			}
			if got := f.requests()[0].Path; got != "/hookd/v1/deliveries/dlv_1" {
				t.Errorf("path = %q, want /hookd/v1/deliveries/dlv_1", got)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	f := newFake(t, answer(200, deliveryJSON))
	c, err := client.New(f.srv.URL, "", client.WithHTTPClient(nil), client.WithUserAgent(""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetDelivery(t.Context(), "dlv_1"); err != nil {
		t.Fatal(err)
	}
	h := f.requests()[0].Header
	if got := h.Get("User-Agent"); got != "hookd-go-client" {
		t.Errorf("User-Agent = %q, want hookd-go-client", got)
	}
	if got := h.Values("Authorization"); len(got) != 0 {
		t.Errorf("Authorization = %q without a token, want none", got)
	}
}

func TestWithHTTPClient(t *testing.T) {
	t.Parallel()
	f := newFake(t, answer(200, deliveryJSON))
	var used bool
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	})}
	c, err := client.New(f.srv.URL, testToken, client.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetDelivery(t.Context(), "dlv_1"); err != nil {
		t.Fatal(err)
	}
	if !used {
		t.Error("the given http.Client was not used")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestEmptyID(t *testing.T) {
	t.Parallel()
	f := newFake(t, answer(200, endpointJSON))
	c := f.client(t)
	calls := map[string]func() error{
		"GetEndpoint":  func() error { _, err := c.GetEndpoint(t.Context(), ""); return err },
		"TestEndpoint": func() error { _, err := c.TestEndpoint(t.Context(), ""); return err },
		"ListAttempts": func() error { _, err := c.ListAttempts(t.Context(), "", client.ListParams{}); return err },
		"Redeliver":    func() error { _, err := c.Redeliver(t.Context(), ""); return err },
	}
	for name, call := range calls {
		if err := call(); err == nil || !strings.Contains(err.Error(), "empty id") {
			t.Errorf("%s with an empty id: error = %v, want one about the empty id", name, err)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("server got %d requests, want none", n)
	}
}

func TestResponseTooLarge(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		io.WriteString(w, `{"data":"`+strings.Repeat("x", 8<<20)+`"}`)
	})
	_, err := f.client(t).GetEventRaw(t.Context(), "evt_1")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("GetEventRaw of a 8 MiB body: error = %v, want one about the size", err)
	}
}

// pagedServer serves three pages of list items (ids given), keyed by the
// cursor; a cursor it does not know is an invalid_parameter.
func pagedServer(t *testing.T, items func(id string) string, pages map[string][]string, next map[string]string) *fake {
	return newFake(t, func(w http.ResponseWriter, r *http.Request) {
		cursor := r.URL.Query().Get("cursor")
		ids, ok := pages[cursor]
		if !ok {
			answer(400, `{"error":{"code":"invalid_parameter","message":"Bad cursor.","field":"cursor"}}`)(w, r)
			return
		}
		var data []string
		for _, id := range ids {
			data = append(data, items(id))
		}
		nc := "null"
		if n := next[cursor]; n != "" {
			nc = `"` + n + `"`
		}
		answer(200, `{"data":[`+strings.Join(data, ",")+`],"next_cursor":`+nc+`}`)(w, r)
	})
}

var (
	threePages = map[string][]string{"": {"a", "b"}, "c1": {"c", "d"}, "c2": {"e"}}
	threeNext  = map[string]string{"": "c1", "c1": "c2"}
)

func deliveryItem(id string) string {
	return strings.Replace(deliveryJSON, `"id":"dlv_1"`, `"id":"`+id+`"`, 1)
}

func endpointItem(id string) string {
	return strings.Replace(endpointJSON, `"id":"ep_1"`, `"id":"`+id+`"`, 1)
}

func TestAllDeliveries(t *testing.T) {
	t.Parallel()
	f := pagedServer(t, deliveryItem, threePages, threeNext)
	c := f.client(t)
	p := client.DeliveryListParams{ListParams: client.ListParams{Limit: 2}, EndpointID: "ep_1", Status: "failed"}

	// Twice: an iterator starts afresh each time.
	for range 2 {
		var ids []string
		for d, err := range c.AllDeliveries(t.Context(), p) {
			if err != nil {
				t.Fatalf("AllDeliveries error: %v", err)
			}
			ids = append(ids, d.ID)
		}
		if got, want := strings.Join(ids, ","), "a,b,c,d,e"; got != want {
			t.Errorf("AllDeliveries ids = %s, want %s", got, want)
		}
	}
	var queries []string
	for _, r := range f.requests() {
		queries = append(queries, r.Query)
	}
	want := []string{
		"endpoint_id=ep_1&limit=2&status=failed",
		"cursor=c1&endpoint_id=ep_1&limit=2&status=failed",
		"cursor=c2&endpoint_id=ep_1&limit=2&status=failed",
	}
	want = append(want, want...)
	if !reflect.DeepEqual(queries, want) {
		t.Errorf("queries = %q, want %q", queries, want)
	}
}

func TestAllEndpoints(t *testing.T) {
	t.Parallel()
	f := pagedServer(t, endpointItem, threePages, threeNext)
	var ids []string
	for e, err := range f.client(t).AllEndpoints(t.Context(), client.EndpointListParams{AccountID: "acc_1"}) {
		if err != nil {
			t.Fatalf("AllEndpoints error: %v", err)
		}
		ids = append(ids, e.ID)
	}
	if got, want := strings.Join(ids, ","), "a,b,c,d,e"; got != want {
		t.Errorf("AllEndpoints ids = %s, want %s", got, want)
	}
	var queries []string
	for _, r := range f.requests() {
		queries = append(queries, r.Path+"?"+r.Query)
	}
	want := []string{"/v1/endpoints?account_id=acc_1", "/v1/endpoints?account_id=acc_1&cursor=c1", "/v1/endpoints?account_id=acc_1&cursor=c2"}
	if !reflect.DeepEqual(queries, want) {
		t.Errorf("requests = %q, want %q", queries, want)
	}
}

func TestAllStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		pages    map[string][]string
		next     map[string]string
		stopAt   int // break after this many items; 0: never
		wantIDs  string
		wantCode string // of the error yielded; "-" for a non-*Error
		wantReqs int
	}{
		{name: "break early", pages: threePages, next: threeNext, stopAt: 3, wantIDs: "a,b,c", wantReqs: 2},
		{name: "break on the first", pages: threePages, next: threeNext, stopAt: 1, wantIDs: "a", wantReqs: 1},
		{
			name:  "error on page 2",
			pages: map[string][]string{"": {"a", "b"}}, next: map[string]string{"": "c1"},
			wantIDs: "a,b", wantCode: client.CodeInvalidParameter, wantReqs: 2,
		},
		{
			name:  "cursor loop",
			pages: map[string][]string{"": {"a"}, "c1": {"b"}}, next: map[string]string{"": "c1", "c1": "c1"},
			wantIDs: "a,b", wantCode: "-", wantReqs: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := pagedServer(t, deliveryItem, tt.pages, tt.next)
			var (
				ids  []string
				errs []error
			)
			for d, err := range f.client(t).AllDeliveries(t.Context(), client.DeliveryListParams{}) {
				if err != nil {
					if d.ID != "" {
						t.Errorf("item with the error = %q, want the zero Delivery", d.ID)
					}
					errs = append(errs, err)
					continue // the iterator must stop by itself
				}
				ids = append(ids, d.ID)
				if len(ids) == tt.stopAt {
					break
				}
			}
			if got := strings.Join(ids, ","); got != tt.wantIDs {
				t.Errorf("ids = %s, want %s", got, tt.wantIDs)
			}
			switch {
			case tt.wantCode == "" && len(errs) != 0:
				t.Errorf("errors = %v, want none", errs)
			case tt.wantCode != "" && len(errs) != 1:
				t.Errorf("errors = %v, want exactly one", errs)
			case tt.wantCode == "-" && client.ErrorCode(errs[0]) != "":
				t.Errorf("error = %v, want one that is not an *Error", errs[0])
			case tt.wantCode != "" && tt.wantCode != "-" && client.ErrorCode(errs[0]) != tt.wantCode:
				t.Errorf("error = %v, want code %s", errs[0], tt.wantCode)
			}
			if n := len(f.requests()); n != tt.wantReqs {
				t.Errorf("server got %d requests, want %d", n, tt.wantReqs)
			}
		})
	}
}

func TestEventTypesFollowsCursors(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "" {
			answer(200, `{"data":[{"event":"call.received"}],"next_cursor":"n"}`)(w, r)
			return
		}
		answer(200, `{"data":[{"event":"sms.received"}],"next_cursor":null}`)(w, r)
	})
	types, err := f.client(t).EventTypes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(types) != 2 || types[0].Event != "call.received" || types[1].Event != "sms.received" {
		t.Errorf("EventTypes = %+v, want call.received and sms.received", types)
	}
}

func TestContext(t *testing.T) {
	t.Parallel()

	// The handler blocks until the client gives up; release frees it in
	// case the client never does, so that the server can close.
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	c := f.client(t)

	t.Run("canceled while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			<-started
			cancel()
		}()
		_, err := c.TestEndpoint(ctx, "ep_1")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("TestEndpoint error = %v, want context.Canceled", err)
		}
		if code := client.ErrorCode(err); code != "" {
			t.Errorf("ErrorCode = %q, want empty", code)
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("error %q contains the token", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		err := c.DeleteEndpoint(ctx, "ep_1")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("DeleteEndpoint error = %v, want context.DeadlineExceeded", err)
		}
		<-started
	})
	t.Run("canceled before", func(t *testing.T) {
		n := len(f.requests())
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for _, err := range c.AllDeliveries(ctx, client.DeliveryListParams{}) {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("AllDeliveries error = %v, want context.Canceled", err)
			}
		}
		if got := len(f.requests()); got != n {
			t.Errorf("server got %d requests with a canceled context, want none", got-n)
		}
	})
}

func TestNetworkError(t *testing.T) {
	t.Parallel()
	f := newFake(t, answer(200, "{}"))
	c := f.client(t)
	f.srv.Close()
	err := c.Healthz(t.Context())
	if err == nil {
		t.Fatal("Healthz of a closed server: no error")
	}
	if code := client.ErrorCode(err); code != "" {
		t.Errorf("ErrorCode = %q, want empty", code)
	}
	if !strings.HasPrefix(err.Error(), "hookd: ") || strings.Contains(err.Error(), testToken) {
		t.Errorf("error = %q, want a hookd: error without the token", err)
	}
}

func TestReadyzUnavailable(t *testing.T) {
	t.Parallel()
	f := newFake(t, answer(503, `{"status":"unavailable"}`))
	err := f.client(t).Readyz(t.Context())
	var e *client.Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("Readyz error = %v, want an *Error with status 503", err)
	}
}

// TestConcurrent uses one Client from many goroutines, for the race
// detector.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	f := newFake(t, answer(200, deliveryJSON))
	c := f.client(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.GetDelivery(t.Context(), "dlv_1")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// A 503 from a server whose database is out is retried after its
// Retry-After when the call carries an idempotency key, and not without
// one (a repeat could store the event twice).
func TestSubmitEventRetriesUnavailable(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.Header().Set("Retry-After", "1")
			answer(503, `{"error":{"code":"unavailable","message":"The database is unavailable for now."}}`)(w, r)
			return
		}
		answer(202, `{"id":"evt_1","deliveries":[]}`)(w, r)
	})
	c := f.client(t)
	ctx := context.Background()
	res, err := c.SubmitEvent(ctx, client.SubmitEventParams{AccountID: "acc_1", Event: "sms.received", IdempotencyKey: "k1"})
	if err != nil {
		t.Fatalf("SubmitEvent with a key: %v", err)
	}
	if res.ID != "evt_1" || res.Replayed {
		t.Errorf("SubmitEvent = %+v, want evt_1, not replayed", res)
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3 (two 503s, then 202)", len(reqs))
	}
	for i, r := range reqs {
		if got := r.Header.Get("Idempotency-Key"); got != "k1" || r.Body != reqs[0].Body {
			t.Errorf("request %d: key %q, body %s; want the first request repeated", i, got, r.Body)
		}
	}

	calls.Store(0)
	_, err = c.SubmitEvent(ctx, client.SubmitEventParams{AccountID: "acc_1", Event: "sms.received"})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != 503 || ce.Code != client.CodeUnavailable || ce.RetryAfter != time.Second {
		t.Fatalf("SubmitEvent without a key: error %v, want 503 unavailable with RetryAfter 1s", err)
	}
	if got := len(f.requests()); got != 4 {
		t.Errorf("requests = %d, want 4: no retry without a key", got)
	}
}
