package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// notInOpenAPI are the routes the OpenAPI document leaves out, and why.
var notInOpenAPI = map[string]string{
	"/ui/": "the web UI: HTML pages for browsers, not the JSON API (docs/portal.md)",
}

// TestOpenAPIRoutes walks the routes the API registers and the paths the
// OpenAPI document describes: a route served but not described, or
// described but not served, fails, so the document cannot drift from
// the router.
func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi.json is OpenAPI %q, want 3.1", doc.OpenAPI)
	}
	documented := map[string]bool{} // "GET /v1/endpoints/{id}"
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "post", "patch", "delete", "put", "head", "options":
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}

	// Every optional route on: metrics on this address, and a UI.
	a := New(Config{ServeMetrics: true, UI: http.NotFoundHandler()})
	served := map[string]bool{}
	for _, pattern := range a.Routes() {
		if why, ok := notInOpenAPI[pattern]; ok {
			t.Logf("%s: not in the document: %s", pattern, why)
			continue
		}
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			t.Errorf("route %q has no method: give it one, or list it in notInOpenAPI with the reason", pattern)
			continue
		}
		path = strings.TrimSuffix(path, "{$}")
		served[method+" "+path] = true
		if !documented[method+" "+path] {
			t.Errorf("%s is served but not in openapi.json", pattern)
		}
	}
	for route := range documented {
		if !served[route] {
			t.Errorf("%s is in openapi.json but not served", route)
		}
	}

	// Each documented path reaches its own route, not a wider pattern.
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	for route := range documented {
		method, path, _ := strings.Cut(route, " ")
		probe := httptest.NewRequest(method, param.ReplaceAllString(path, "x_1"), nil)
		_, pattern := a.mux.Handler(probe)
		got := strings.TrimSuffix(strings.TrimPrefix(pattern, method+" "), "{$}")
		if got != path {
			t.Errorf("%s %s reaches the route %q", method, probe.URL.Path, pattern)
		}
	}
	if len(served) < 25 || !slices.Contains(a.Routes(), "GET /v1/events") {
		t.Errorf("only %d routes walked: %v", len(served), a.Routes())
	}
}

// TestOpenAPIServed: GET /openapi.json answers the document, without a
// token.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	New(Config{}).ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || rec.Body.String() != string(OpenAPI) {
		t.Errorf("GET /openapi.json: %d, %q, %d bytes", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
	}
}

// TestOpenAPIValid: the document is valid OpenAPI 3.1, its examples
// included, for the validator the end-to-end tests check traffic with.
func TestOpenAPIValid(t *testing.T) {
	t.Parallel()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not valid: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi.json is %s, want 3.1", doc.OpenAPI)
	}
}
