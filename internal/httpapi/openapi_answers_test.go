package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// TestOpenAPIAnswers sends the endpoint controls and batch ingestion
// requests through the real handlers and holds each request and answer
// to the OpenAPI document: a request the document calls valid must be
// one hookd takes, and every answer must be one the document lists for
// its operation (status and body schema). The end-to-end tests in
// internal/cli do the same for whole runs; these cases pin the shapes
// that only show up at the edges (an event without deliveries in a
// batch, a refused item, controls removed with null).
func TestOpenAPIAnswers(t *testing.T) {
	t.Parallel()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	h, acc, tok := batchAPI(t, 1<<20)

	// exchange sends one request and checks it and its answer against
	// the document; wantValid says whether the document must accept the
	// request.
	exchange := func(method, path, token, body string, wantValid bool, wantStatus int) []byte {
		t.Helper()
		rec := send(h, method, path, token, body)
		if rec.Code != wantStatus {
			t.Fatalf("%s %s = %d %s; want %d", method, path, rec.Code, rec.Body, wantStatus)
		}
		req := httptest.NewRequest(method, "http://hookd.test"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("%s %s: not in the document: %v", method, path, err)
		}
		ctx := context.Background()
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil }}}
		switch err := openapi3filter.ValidateRequest(ctx, in); {
		case wantValid && err != nil:
			t.Errorf("%s %s %s: the document refuses the request: %v", method, path, body, err)
		case !wantValid && err == nil:
			t.Errorf("%s %s %s: the document accepts the request; hookd answers %d", method, path, body, rec.Code)
		}
		in.Request = httptest.NewRequest(method, "http://hookd.test"+path, nil)
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		out.SetBodyBytes(rec.Body.Bytes())
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			t.Errorf("%s %s → %d %s: the answer does not match the document: %v", method, path, rec.Code, rec.Body, err)
		}
		return rec.Body.Bytes()
	}

	// A batch: an event with a delivery, one without (the account's
	// endpoint takes call.received only), a refused item and a replay.
	call := fmt.Sprintf(`{"account_id":%q,"event":"call.received","data":%s`, acc, callExample(t))
	sms := fmt.Sprintf(`{"account_id":%q,"event":"sms.received","data":{"message_id":"m1","from":{"number":"+14155550123"},`+
		`"to":{"number":"+14155550100"},"received_at":"2026-11-27T13:30:00+01:00","body":"Hi","media":[]}}`, acc)
	body := exchange("POST", "/v1/events/batch", fuzzAdmin, `{"events":[`+
		call+`,"idempotency_key":"k1"}`+`,`+sms+`,{"colour":"red"},`+call+`,"idempotency_key":"k1"}]}`, true, 200)
	var ans batchAnswer
	if err := json.Unmarshal(body, &ans); err != nil || len(ans.Results) != 4 {
		t.Fatalf("batch answer %s: %v", body, err)
	}
	if r := ans.Results[1]; r.ID == "" || r.Deliveries == nil || len(r.Deliveries) != 0 {
		t.Errorf("event without deliveries: %+v; want an id and \"deliveries\": []", r)
	}
	if !bytes.Contains(body, []byte(`"deliveries":[]`)) {
		t.Errorf("batch answer %s: the event without deliveries has no \"deliveries\": []", body)
	}
	exchange("POST", "/v1/events/batch", fuzzAdmin, `{"events":[],"colour":"red"}`, false, 400)

	// An endpoint with every control, read back, its headers in full,
	// and the controls removed with null.
	var ep struct {
		ID string `json:"id"`
	}
	body = exchange("POST", "/v1/endpoints", tok, `{"url":"https://example.com/oncall","event_types":["call.received"],`+
		`"headers":{"X-Api-Key":"ok_live_8d0f3c2a9b7e5f2c"},"filter":{"data.status":"missed"},"rate_limit":5}`, true, 201)
	if err := json.Unmarshal(body, &ep); err != nil || ep.ID == "" {
		t.Fatalf("create answer %s: %v", body, err)
	}
	if !bytes.Contains(body, []byte(`"X-Api-Key":"••••5f2c"`)) {
		t.Errorf("create answer %s: the header value is not masked", body)
	}
	exchange("GET", "/v1/endpoints/"+ep.ID, tok, "", true, 200)
	exchange("GET", "/v1/endpoints", tok, "", true, 200)
	body = exchange("GET", "/v1/endpoints/"+ep.ID+"/headers", tok, "", true, 200)
	if !bytes.Contains(body, []byte(`"X-Api-Key":"ok_live_8d0f3c2a9b7e5f2c"`)) {
		t.Errorf("headers answer %s: want the value in full", body)
	}
	body = exchange("PATCH", "/v1/endpoints/"+ep.ID, tok, `{"headers":null,"filter":null,"rate_limit":null}`, true, 200)
	if !bytes.Contains(body, []byte(`"headers":{}`)) || !bytes.Contains(body, []byte(`"filter":null`)) || !bytes.Contains(body, []byte(`"rate_limit":null`)) {
		t.Errorf("PATCH answer %s: want the controls removed", body)
	}
	exchange("PATCH", "/v1/endpoints/"+ep.ID, tok, `{"rate_limit":0}`, false, 400)
	exchange("PATCH", "/v1/endpoints/"+ep.ID, tok, `{"headers":{"Bad Name":"x"}}`, false, 400)
	exchange("PATCH", "/v1/endpoints/"+ep.ID, tok, `{"filter":{}}`, false, 400)

	// Filter tests: the catalogue example, a data object, and a bad
	// filter.
	exchange("POST", "/v1/endpoints/"+ep.ID+"/filter-test", tok, `{}`, true, 200)
	body = exchange("POST", "/v1/endpoints/"+ep.ID+"/filter-test", tok,
		`{"filter":{"data.direction":"inbound"},"event_type":"call.received","data":`+string(callExample(t))+`}`, true, 200)
	if !bytes.Contains(body, []byte(`"matches":true`)) || !bytes.Contains(body, []byte(`"event_id":null`)) {
		t.Errorf("filter-test answer %s: want a match on data", body)
	}
	body = exchange("POST", "/v1/endpoints/"+ep.ID+"/filter-test", tok, `{"filter":{"data.duration_seconds":{"$gte":true}}}`, true, 400)
	if !bytes.Contains(body, []byte(`"code":"invalid_filter"`)) {
		t.Errorf("bad filter answer %s: want invalid_filter", body)
	}
	exchange("POST", "/v1/endpoints/"+ep.ID+"/filter-test", tok, `{"filter":"inbound"}`, false, 400)
}
