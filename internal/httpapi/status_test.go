package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/hookd/hookd/internal/hook"
)

// TestStatusOfEveryCode: each error code a client can get answers the
// status docs/api.md gives it; a code the table does not know is a bug
// of hookd's, so 500, never a 4xx that would blame the client.
func TestStatusOfEveryCode(t *testing.T) {
	t.Parallel()
	want := map[string]int{
		"invalid_json":         400,
		"unknown_field":        400,
		"invalid_parameter":    400,
		"invalid_limit":        400,
		"invalid_reference":    400,
		"invalid_url":          400,
		"invalid_event_types":  400,
		"invalid_filter":       400,
		"unknown_event_type":   400,
		"invalid_event":        400,
		"unauthorized":         401,
		"forbidden":            403,
		"not_found":            404,
		"method_not_allowed":   405,
		"idempotency_conflict": 409,
		"endpoint_disabled":    409,
		"already_pending":      409,
		"not_redeliverable":    409,
		"payload_too_large":    413,
		"uri_too_long":         414,
		"rate_limited":         429,
		"headers_too_large":    431,
		"internal":             500,
		"unavailable":          503,
		"made_up_code":         500,
		"":                     500,
	}
	for code := range statusOf {
		if _, ok := want[code]; !ok {
			t.Errorf("code %q has a status (%d) but no row here: add it, and to docs/api.md and openapi.json", code, statusOf[code])
		}
	}
	a := New(Config{})
	for code, status := range want {
		rec := httptest.NewRecorder()
		a.writeError(rec, httptest.NewRequest("GET", "/v1/endpoints", nil), &hook.Error{Code: code, Message: "Why."})
		var e apiError
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Fatalf("code %q: body %q", code, rec.Body)
		}
		if rec.Code != status || e.Error.Code != code || e.Error.Message != "Why." {
			t.Errorf("code %q: %d %+v; want %d", code, rec.Code, e.Error, status)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("code %q: Content-Type %q", code, ct)
		}
	}
}
