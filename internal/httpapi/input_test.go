package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// apiError is the error shape every answer other than 2xx must have.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// Bad input gets a 4xx with the JSON error shape, a code, the field at
// fault and a message that names the real cause.
func TestInputEdges(t *testing.T) {
	t.Parallel()
	h, tok, _ := newTestAPI(t)
	long := strings.Repeat("a", MaxURIBytes)
	for _, tc := range []struct {
		name         string
		method, path string
		body         string
		admin        bool
		header       map[string]string
		status       int
		code, field  string
		message      string // a part of the message
	}{
		{name: "CR/LF in an account name", method: "POST", path: "/v1/accounts", body: `{"name":"Acme\r\nAdmin: yes"}`, admin: true,
			status: 400, code: "invalid_parameter", field: "name", message: "control characters (U+000D at character 5)"},
		{name: "NUL in an account name", method: "POST", path: "/v1/accounts", body: `{"name":"Ac\u0000me"}`, admin: true,
			status: 400, code: "invalid_parameter", field: "name", message: "control characters (U+0000"},
		{name: "C1 control in an account name", method: "POST", path: "/v1/accounts", body: `{"name":"Ac\u0085me"}`, admin: true,
			status: 400, code: "invalid_parameter", field: "name", message: "control characters (U+0085"},
		{name: "bidi override in an account name", method: "POST", path: "/v1/accounts", body: `{"name":"Acme \u202egpj.exe"}`, admin: true,
			status: 400, code: "invalid_parameter", field: "name", message: "bidirectional override or isolate characters (U+202E"},
		{name: "bidi isolate in an account name", method: "POST", path: "/v1/accounts", body: `{"name":"\u2067Acme"}`, admin: true,
			status: 400, code: "invalid_parameter", field: "name", message: "U+2067 at character 1"},
		{name: "invalid UTF-8 in an account name", method: "POST", path: "/v1/accounts", body: "{\"name\":\"Ac\xffme\"}", admin: true,
			status: 400, code: "invalid_json", field: "name", message: "not valid UTF-8"},
		{name: "an account name too long", method: "POST", path: "/v1/accounts", body: `{"name":"` + strings.Repeat("é", 201) + `"}`, admin: true,
			status: 400, code: "invalid_parameter", field: "name", message: "at most 200 characters, not 201"},
		{name: "NUL in a description", method: "POST", path: "/v1/endpoints",
			body:   `{"url":"https://example.com/h","event_types":["*"],"description":"a\u0000b"}`,
			status: 400, code: "invalid_parameter", field: "description", message: "control characters (U+0000 at character 2)"},
		{name: "a newline in a description", method: "POST", path: "/v1/endpoints",
			body:   `{"url":"https://example.com/h","event_types":["*"],"description":"line\nbreak"}`,
			status: 400, code: "invalid_parameter", field: "description", message: "control characters (U+000A"},
		{name: "invalid UTF-8 in a description", method: "POST", path: "/v1/endpoints",
			body:   "{\"url\":\"https://example.com/h\",\"event_types\":[\"*\"],\"description\":\"caf\xe9\"}",
			status: 400, code: "invalid_json", field: "description", message: "not valid UTF-8"},
		{name: "an unpaired surrogate in a description", method: "POST", path: "/v1/endpoints",
			body:   `{"url":"https://example.com/h","event_types":["*"],"description":"x\ud800y"}`,
			status: 400, code: "invalid_json", field: "description", message: "unpaired surrogate"},
		{name: "a paired surrogate and an escaped backslash in a description", method: "POST", path: "/v1/endpoints",
			body:   `{"url":"https://example.com/h","event_types":["*"],"description":"\ud83d\ude00 \\ud800"}`,
			status: 201},
		{name: "invalid UTF-8 in event data", method: "POST", path: "/v1/events", admin: true,
			body:   "{\"account_id\":\"acc_x\",\"event\":\"sms.received\",\"data\":{\"body\":\"\xc3\"}}",
			status: 400, code: "invalid_json", field: "data", message: "not valid UTF-8"},
		{name: "a query parameter twice", method: "GET", path: "/v1/endpoints?limit=1&limit=600",
			status: 400, code: "invalid_parameter", field: "limit", message: "given 2 times"},
		{name: "a query parameter badly escaped", method: "GET", path: "/v1/endpoints?limit=%zz",
			status: 400, code: "invalid_parameter", field: "limit", message: "percent-encoded"},
		{name: "a request target over the limit", method: "GET", path: "/v1/endpoints?cursor=" + long,
			status: 414, code: "uri_too_long", message: fmt.Sprintf("the limit is %d", MaxURIBytes)},
		{name: "headers over the limit", method: "GET", path: "/v1/endpoints", header: map[string]string{"X-Big": strings.Repeat("b", MaxHeadersBytes)},
			status: 431, code: "headers_too_large", message: fmt.Sprintf("the limit is %d", MaxHeadersBytes)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			token := tok
			if tc.admin {
				token = fuzzAdmin
			}
			req.Header.Set("Authorization", "Bearer "+token)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("%s %s = %d, want %d: %s", tc.method, tc.path[:min(len(tc.path), 60)], rec.Code, tc.status, rec.Body)
			}
			if tc.code == "" {
				return
			}
			var e apiError
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("body %q (%s) is not the JSON error shape", rec.Body, rec.Header().Get("Content-Type"))
			}
			if e.Error.Code != tc.code || e.Error.Field != tc.field || !strings.Contains(e.Error.Message, tc.message) {
				t.Errorf("error = %+v, want code %s, field %q, a message with %q", e.Error, tc.code, tc.field, tc.message)
			}
		})
	}
}

// An outage is 503 unavailable with Retry-After; a code without a status
// is a bug, 500, not the client's 400.
func TestWriteErrorStatuses(t *testing.T) {
	t.Parallel()
	a := New(Config{})
	for _, tc := range []struct {
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{fmt.Errorf("insert event: %w", fmt.Errorf("%w: disk full", store.ErrUnavailable)), 503, hook.EUnavailable, "2"},
		{hook.Errorf("no_such_code", "Made up."), 500, "no_such_code", ""},
		{fmt.Errorf("scan: bug"), 500, hook.EInternal, ""},
		{hook.Errorf(hook.EInvalidJSON, "Bad."), 400, hook.EInvalidJSON, ""},
	} {
		rec := httptest.NewRecorder()
		a.writeError(rec, httptest.NewRequest("POST", "/v1/events", nil), tc.err)
		var e apiError
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Fatalf("writeError(%v): body %q", tc.err, rec.Body)
		}
		if rec.Code != tc.status || e.Error.Code != tc.code || rec.Header().Get("Retry-After") != tc.retryAfter {
			t.Errorf("writeError(%v) = %d %s, Retry-After %q; want %d %s, %q", tc.err, rec.Code, e.Error.Code,
				rec.Header().Get("Retry-After"), tc.status, tc.code, tc.retryAfter)
		}
	}
}

// /readyz answers 503 with Retry-After and the error shape while the
// store refuses writes, and 200 when it takes them.
func TestReadyz(t *testing.T) {
	t.Parallel()
	var down error
	a := New(Config{Ready: func(context.Context) error { return down }})
	for _, tc := range []struct {
		err        error
		status     int
		retryAfter string
	}{
		{fmt.Errorf("%w: disk full", store.ErrUnavailable), 503, "2"},
		{nil, 200, ""},
	} {
		down = tc.err
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		var body struct {
			Status string
			Error  *struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("GET /readyz: body %q", rec.Body)
		}
		if rec.Code != tc.status || rec.Header().Get("Retry-After") != tc.retryAfter ||
			(tc.status == 503) != (body.Error != nil && body.Error.Code == hook.EUnavailable) {
			t.Errorf("GET /readyz with Ready = %v: %d, Retry-After %q, body %s; want %d, %q",
				tc.err, rec.Code, rec.Header().Get("Retry-After"), rec.Body, tc.status, tc.retryAfter)
		}
	}
}
