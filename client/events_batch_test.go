package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/hookd/hookd/client"
)

func TestSubmitEvents(t *testing.T) {
	t.Parallel()
	f := newFake(t, answer(200, `{"results":[
		{"id":"evt_1","deliveries":[{"id":"dlv_1","endpoint_id":"ep_1"}]},
		{"error":{"code":"invalid_event","message":"data.from.number is required.","field":"data.from.number"}},
		{"id":"evt_1","deliveries":[{"id":"dlv_1","endpoint_id":"ep_1"}],"replayed":true},
		{"id":"evt_2","deliveries":[]}]}`))
	res, err := f.client(t).SubmitEvents(context.Background(), []client.SubmitEventParams{
		{AccountID: "acc_1", Event: "sms.received", Data: json.RawMessage(`{"n": 1}`), IdempotencyKey: "k"},
		{AccountID: "acc_1", Event: "sms.received", Data: map[string]any{}},
		{AccountID: "acc_1", Event: "sms.received", Data: json.RawMessage(`{"n":1}`), IdempotencyKey: "k"},
		{AccountID: "acc_2", Event: "call.received", Data: json.RawMessage(`{}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != "/v1/events/batch" || reqs[0].Header.Get("Idempotency-Key") != "" {
		t.Fatalf("requests = %+v; want one POST /v1/events/batch without an Idempotency-Key header", reqs)
	}
	const want = `{"events":[{"account_id":"acc_1","event":"sms.received","data":{"n":1},"idempotency_key":"k"},` +
		`{"account_id":"acc_1","event":"sms.received","data":{}},` +
		`{"account_id":"acc_1","event":"sms.received","data":{"n":1},"idempotency_key":"k"},` +
		`{"account_id":"acc_2","event":"call.received","data":{}}]}`
	if reqs[0].Body != want {
		t.Errorf("body = %s\nwant   %s", reqs[0].Body, want)
	}
	if len(res) != 4 {
		t.Fatalf("%d results, want 4", len(res))
	}
	if r := res[0]; r.Err != nil || r.Result.ID != "evt_1" || r.Result.Replayed || len(r.Result.Deliveries) != 1 || r.Result.Deliveries[0].EndpointID != "ep_1" {
		t.Errorf("result 0 = %+v, %v", r.Result, r.Err)
	}
	if r := res[1]; r.Result != nil || r.Err == nil || r.Err.Code != client.CodeInvalidEvent || r.Err.Field != "data.from.number" ||
		r.Err.Error() != "hookd: invalid_event: data.from.number is required. (field data.from.number)" {
		t.Errorf("result 1 = %+v, %v", r.Result, r.Err)
	}
	if r := res[2]; r.Err != nil || !r.Result.Replayed || r.Result.ID != "evt_1" {
		t.Errorf("result 2 = %+v, %v; want a replay", r.Result, r.Err)
	}
	if r := res[3]; r.Err != nil || r.Result.Deliveries == nil || len(r.Result.Deliveries) != 0 {
		t.Errorf("result 3 = %+v, %v; want no deliveries", r.Result, r.Err)
	}
}

// A request that fails as a whole is an *Error; one without keys on every
// event is not retried after a 503.
func TestSubmitEventsRefused(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		answer(503, `{"error":{"code":"unavailable","message":"The database is unavailable for now."}}`)(w, r)
	})
	_, err := f.client(t).SubmitEvents(context.Background(), []client.SubmitEventParams{
		{AccountID: "acc_1", Event: "sms.received", Data: json.RawMessage(`{}`), IdempotencyKey: "k"},
		{AccountID: "acc_1", Event: "sms.received", Data: json.RawMessage(`{}`)},
	})
	var e *client.Error
	if !errors.As(err, &e) || e.StatusCode != 503 || e.Code != client.CodeUnavailable {
		t.Fatalf("error = %v; want the 503", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests; a batch with an event without a key must not be sent again", n)
	}
}

// With a key on every event, a 503 is sent again after Retry-After.
func TestSubmitEventsRetriesKeyed(t *testing.T) {
	t.Parallel()
	var calls int
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		calls++ // the fake server handles one request at a time here
		if calls == 1 {
			w.Header().Set("Retry-After", "1")
			answer(503, `{"error":{"code":"unavailable","message":"later"}}`)(w, r)
			return
		}
		answer(200, `{"results":[{"id":"evt_1","deliveries":[],"replayed":true}]}`)(w, r)
	})
	res, err := f.client(t).SubmitEvents(context.Background(), []client.SubmitEventParams{
		{AccountID: "acc_1", Event: "sms.received", Data: json.RawMessage(`{}`), IdempotencyKey: "k"},
	})
	if err != nil || len(res) != 1 || !res[0].Result.Replayed {
		t.Fatalf("SubmitEvents = %+v, %v", res, err)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}
