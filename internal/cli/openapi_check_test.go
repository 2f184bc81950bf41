package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/httpapi"
)

// The end-to-end tests send their API calls through openAPICheck, which
// holds every request and every answer to the OpenAPI document that hookd
// serves (internal/httpapi/openapi.json), so the document cannot drift
// from the handlers:
//
//   - every answer must be one the document lists for its operation
//     (status, headers it requires, body schema);
//   - a request the document calls invalid must get a 4xx: tests send
//     bad requests on purpose, and the server must refuse what the
//     document refuses;
//   - a request to a path or method the document does not have must get
//     404 or 405 with the error body.
//
// A mismatch fails the test that made the call.

var (
	oasOnce   sync.Once
	oasDoc    *openapi3.T
	oasRouter routers.Router
	oasErr    error
)

func openAPIRouter() (*openapi3.T, routers.Router, error) {
	oasOnce.Do(func() {
		loader := openapi3.NewLoader()
		oasDoc, oasErr = loader.LoadFromData(httpapi.OpenAPI)
		if oasErr == nil {
			oasErr = oasDoc.Validate(loader.Context)
		}
		if oasErr == nil {
			oasRouter, oasErr = gorillamux.NewRouter(oasDoc)
		}
	})
	return oasDoc, oasRouter, oasErr
}

// openAPICheck is an http.RoundTripper that checks API traffic against
// the OpenAPI document.
type openAPICheck struct {
	t    testing.TB
	next http.RoundTripper
}

// checkedHTTPClient returns an HTTP client whose API calls are checked
// against the OpenAPI document, failing t on a mismatch.
func checkedHTTPClient(t testing.TB) *http.Client {
	t.Helper()
	if _, _, err := openAPIRouter(); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return &http.Client{Transport: &openAPICheck{t: t, next: http.DefaultTransport}}
}

func (c *openAPICheck) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.URL.Path, "/ui/") { // HTML for browsers, not the API
		return c.next.RoundTrip(req)
	}
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return resp, nil // the caller sees the short body; nothing to check
	}
	if msg := checkExchange(req, reqBody, resp, respBody); msg != "" {
		c.t.Errorf("OpenAPI: %s %s → %d: %s\nrequest body: %.300s\nanswer: %.500s",
			req.Method, req.URL.RequestURI(), resp.StatusCode, msg, reqBody, respBody)
	}
	return resp, nil
}

// checkExchange returns what is wrong with one request and its answer,
// or "".
func checkExchange(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) string {
	doc, router, _ := openAPIRouter()
	ctx := context.Background()
	probe := req.Clone(ctx)
	probe.Body = io.NopCloser(bytes.NewReader(reqBody))
	if len(reqBody) > 0 && probe.Header.Get("Content-Type") == "" {
		// hookd reads every body as JSON whatever its Content-Type says
		// (docs/api.md, Conventions); the document speaks of JSON only.
		probe.Header.Set("Content-Type", "application/json")
	}
	route, params, err := router.FindRoute(probe)
	if err != nil {
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			return fmt.Sprintf("not in the document (%v), yet answered", err)
		}
		return checkErrorBody(doc, respBody)
	}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: bearerPresent, MultiError: true}}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && (resp.StatusCode < 400 || resp.StatusCode > 499) {
		return fmt.Sprintf("the document calls the request invalid (%v), yet it was answered %d", err, resp.StatusCode)
	}
	in.Request = req.Clone(ctx)
	in.Request.Body = http.NoBody
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Sprintf("the answer does not match the document: %v", err)
	}
	return ""
}

// checkErrorBody checks an answer against the document's Error schema.
func checkErrorBody(doc *openapi3.T, body []byte) string {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Sprintf("the error answer is not JSON: %v", err)
	}
	if err := doc.Components.Schemas["Error"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		return fmt.Sprintf("the error answer does not match the Error schema: %v", err)
	}
	return ""
}

var errNoBearer = errors.New("no bearer token")

// bearerPresent is the document's security check: hookd, not the
// document, tells the admin token from an account token.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme, tok, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return errNoBearer
	}
	return nil
}

// checkedClient is client.New with the checked HTTP client, for tests that
// run hookd as a process or a second node.
func checkedClient(t testing.TB, baseURL, token string) (*client.Client, error) {
	hc := checkedHTTPClient(t)
	hc.Timeout = 60 * time.Second
	return client.New(baseURL, token, client.WithHTTPClient(hc))
}
