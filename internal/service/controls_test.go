package service_test

import (
	"encoding/json"
	"testing"

	"github.com/hookd/hookd/internal/service"
)

// An endpoint's custom headers are shown in full by EndpointHeaders, only
// to the endpoint's account (or the admin), and sent with the connection
// test as with every delivery; names hookd owns are refused. (Masking in
// answers is the API's, sealing at rest the store's: tested there.)
func TestEndpointHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	e, _, err := b.svc.CreateEndpoint(b.ctx, b.acme, service.CreateEndpointInput{URL: b.url, EventTypes: []string{"call.received"},
		Headers: json.RawMessage(`{"Authorization":"Bearer k-0123456789abcdef","X-Team":"on-call"}`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, actor := range []service.Actor{b.acme, b.admin} {
		hs, err := b.svc.EndpointHeaders(b.ctx, actor, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, h := range hs {
			got[h.Name] = h.Value
		}
		if got["Authorization"] != "Bearer k-0123456789abcdef" || got["X-Team"] != "on-call" {
			t.Errorf("EndpointHeaders = %v, want both values in full", got)
		}
	}
	_, err = b.svc.EndpointHeaders(b.ctx, b.globex, e.ID)
	wantCode(t, "another account's EndpointHeaders", err, "not_found")

	if _, err := b.svc.TestEndpoint(b.ctx, b.acme, e.ID); err != nil {
		t.Fatal(err)
	}
	if r := b.last.Load(); r == nil || r.header.Get("Authorization") != "Bearer k-0123456789abcdef" || r.header.Get("X-Team") != "on-call" {
		t.Errorf("the test request's headers = %v, want the custom headers", r)
	}

	for _, bad := range []string{`{"Content-Type":"text/plain"}`, `{"webhook-id":"x"}`, `{"X-A":"a\nb"}`, `["X-A"]`} {
		_, _, err := b.svc.CreateEndpoint(b.ctx, b.acme, service.CreateEndpointInput{URL: b.url, EventTypes: []string{"call.received"},
			Headers: json.RawMessage(bad)})
		wantCode(t, "headers "+bad, err, "invalid_parameter")
	}
}

// A payload filter decides which events reach the endpoint; FilterTest
// answers the same question without storing anything.
func TestPayloadFilter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inbound, _, err := b.svc.CreateEndpoint(b.ctx, b.acme, service.CreateEndpointInput{URL: b.url, EventTypes: []string{"call.received"},
		Filter: json.RawMessage(`{"data.direction":"inbound"}`)})
	if err != nil {
		t.Fatal(err)
	}
	outbound, _, err := b.svc.CreateEndpoint(b.ctx, b.acme, service.CreateEndpointInput{URL: b.url, EventTypes: []string{"call.received"},
		Filter: json.RawMessage(`{"data.direction":"outbound"}`)})
	if err != nil {
		t.Fatal(err)
	}
	// The catalogue's call.received example is an inbound call.
	res := b.submit(t, b.acme.AccountID, "call.received", "")
	if len(res.Deliveries) != 1 || res.Deliveries[0].EndpointID != inbound.ID {
		t.Errorf("deliveries of an inbound call = %v, want one, to the inbound endpoint", res.Deliveries)
	}
	got, err := b.svc.FilterTest(b.ctx, b.acme, outbound.ID, service.FilterTestInput{Event: res.Event.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got.Matches || got.EventID != res.Event.ID || len(got.Explanation) == 0 {
		t.Errorf("FilterTest of the outbound filter on the stored event = %+v, want no match, explained", got)
	}
	got, err = b.svc.FilterTest(b.ctx, b.acme, outbound.ID, service.FilterTestInput{Filter: json.RawMessage(`{"data.direction":{"$in":["inbound","outbound"]}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Matches || got.EventType != "call.received" {
		t.Errorf("FilterTest of a filter that takes both directions on the example = %+v, want a match on call.received", got)
	}
	got, err = b.svc.FilterTest(b.ctx, b.acme, inbound.ID, service.FilterTestInput{Filter: json.RawMessage(`null`)})
	if err != nil || !got.Matches {
		t.Errorf("FilterTest with no filter = %+v, %v; want a match", got, err)
	}

	_, err = b.svc.FilterTest(b.ctx, b.acme, inbound.ID, service.FilterTestInput{Filter: json.RawMessage(`{"data.direction":{"$in":"inbound"}}`)})
	wantCode(t, "$in with a string where it needs a list", err, "invalid_filter")
	_, err = b.svc.FilterTest(b.ctx, b.acme, inbound.ID, service.FilterTestInput{Event: res.Event.ID, Data: json.RawMessage(`{}`)})
	wantCode(t, "event and data together", err, "invalid_parameter")
	_, err = b.svc.FilterTest(b.ctx, b.globex, inbound.ID, service.FilterTestInput{})
	wantCode(t, "another account's FilterTest", err, "not_found")
	_, _, err = b.svc.CreateEndpoint(b.ctx, b.acme, service.CreateEndpointInput{URL: b.url, EventTypes: []string{"call.received"},
		Filter: json.RawMessage(`{"$nope":1}`)})
	wantCode(t, "an unknown operator", err, "invalid_filter")
}

// A rate limit is a whole number from 1 to 10,000, or null for none.
func TestRateLimitField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	e, _, err := b.svc.CreateEndpoint(b.ctx, b.acme, service.CreateEndpointInput{URL: b.url, EventTypes: []string{"call.received"},
		RateLimit: json.RawMessage(`5`)})
	if err != nil {
		t.Fatal(err)
	}
	if e.RateLimit != 5 {
		t.Errorf("rate limit = %d, want 5", e.RateLimit)
	}
	for _, bad := range []string{`0`, `10001`, `1.5`, `"5"`, `-1`} {
		_, _, err := b.svc.CreateEndpoint(b.ctx, b.acme, service.CreateEndpointInput{URL: b.url, EventTypes: []string{"call.received"},
			RateLimit: json.RawMessage(bad)})
		wantCode(t, "rate_limit "+bad, err, "invalid_parameter")
	}
}
