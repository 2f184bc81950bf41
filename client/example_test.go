package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/hookd/hookd/client"
)

// fakeHookd stands in for a hookd server in the examples: it answers each
// "METHOD /path?query" with a canned status and JSON body, and anything
// else with hookd's 404.
func fakeHookd() *httptest.Server {
	canned := map[string]struct {
		status int
		body   string
	}{
		"POST /v1/events": {202, `{"id":"evt_01","deliveries":[{"id":"dlv_01","endpoint_id":"ep_01"}]}`},
		"POST /v1/endpoints": {201, `{"id":"ep_01","account_id":"acc_01","url":"https://example.com/webhooks",
			"description":"","event_types":["sms.received"],"signing":"hmac-sha256","public_key":null,
			"enabled":true,"disabled_reason":null,"disabled_at":null,"consecutive_failures":0,
			"created_at":"2026-11-27T12:00:00.000Z","updated_at":"2026-11-27T12:00:00.000Z",
			"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`},
		"POST /v1/endpoints/ep_01/test": {200, `{"ok":false,"status_code":405,"duration_ms":12,
			"error":"http_status: 405 Method Not Allowed","hint":"your endpoint must accept POST",
			"delivery_id":"dlv_02","attempt_id":"att_01"}`},
		"GET /v1/deliveries?endpoint_id=ep_01&status=failed": {200, `{"data":[
			{"id":"dlv_03","event_id":"evt_03","endpoint_id":"ep_01","trigger":"scheduled","status":"failed","attempts":4,
			 "next_attempt_at":null,"last_status_code":500,"last_error":"http_status: 500","created_at":"2026-11-27T12:03:00.000Z","updated_at":"2026-11-27T12:40:00.000Z"},
			{"id":"dlv_02","event_id":"evt_02","endpoint_id":"ep_01","trigger":"test","status":"failed","attempts":1,
			 "next_attempt_at":null,"last_status_code":405,"last_error":"http_status: 405","created_at":"2026-11-27T12:02:00.000Z","updated_at":"2026-11-27T12:02:00.000Z"}
			],"next_cursor":"ZGx2OmRsdl8wMg"}`},
		"GET /v1/deliveries?cursor=ZGx2OmRsdl8wMg&endpoint_id=ep_01&status=failed": {200, `{"data":[
			{"id":"dlv_01","event_id":"evt_01","endpoint_id":"ep_01","trigger":"scheduled","status":"failed","attempts":4,
			 "next_attempt_at":null,"last_status_code":null,"last_error":"timeout: no answer within 5s","created_at":"2026-11-27T12:01:00.000Z","updated_at":"2026-11-27T12:38:00.000Z"}
			],"next_cursor":null}`},
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		if r.URL.RawQuery != "" {
			key += "?" + r.URL.RawQuery
		}
		w.Header().Set("Content-Type", "application/json")
		c, ok := canned[key]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"not_found","message":"No such endpoint."}}`)
			return
		}
		w.WriteHeader(c.status)
		fmt.Fprint(w, c.body)
	}))
}

// An app creates an endpoint for its account and tests it.
func Example() {
	srv := fakeHookd()
	defer srv.Close()
	ctx := context.Background()

	c, err := client.New(srv.URL, "account-token")
	if err != nil {
		log.Fatal(err)
	}
	ep, err := c.CreateEndpoint(ctx, client.CreateEndpointParams{
		URL:        "https://example.com/webhooks",
		EventTypes: []string{"sms.received"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ep.ID, ep.Enabled, ep.CreatedAt)

	res, err := c.TestEndpoint(ctx, ep.ID)
	if err != nil {
		log.Fatal(err)
	}
	if !res.OK {
		fmt.Printf("test failed: %s (%s)\n", *res.Error, res.Hint)
	}
	// Output:
	// ep_01 true 2026-11-27 12:00:00 +0000 UTC
	// test failed: http_status: 405 Method Not Allowed (your endpoint must accept POST)
}

// A producer submits an event with the admin token. The idempotency key
// makes a retry of the same call safe.
func ExampleClient_SubmitEvent() {
	srv := fakeHookd()
	defer srv.Close()

	c, err := client.New(srv.URL, "admin-token")
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.SubmitEvent(context.Background(), client.SubmitEventParams{
		AccountID:      "acc_01",
		Event:          "sms.received",
		Data:           json.RawMessage(`{"message_id":"msg_1","from":{"number":"+4915112345678"},"to":{"number":"+4930123456"},"received_at":"2026-11-27T12:00:00Z","body":"Hi","media":[]}`),
		IdempotencyKey: "sms-msg_1",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.ID, "replayed:", res.Replayed)
	for _, d := range res.Deliveries {
		fmt.Println(d.ID, "->", d.EndpointID)
	}
	// Output:
	// evt_01 replayed: false
	// dlv_01 -> ep_01
}

// AllDeliveries walks every page of a list.
func ExampleClient_AllDeliveries() {
	srv := fakeHookd()
	defer srv.Close()

	c, err := client.New(srv.URL, "account-token")
	if err != nil {
		log.Fatal(err)
	}
	for d, err := range c.AllDeliveries(context.Background(), client.DeliveryListParams{EndpointID: "ep_01", Status: "failed"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %-9s %s\n", d.ID, d.Trigger, *d.LastError)
	}
	// Output:
	// dlv_03 scheduled http_status: 500
	// dlv_02 test      http_status: 405
	// dlv_01 scheduled timeout: no answer within 5s
}

// ErrorCode tells hookd's errors apart.
func ExampleErrorCode() {
	srv := fakeHookd()
	defer srv.Close()

	c, err := client.New(srv.URL, "account-token")
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.GetEndpoint(context.Background(), "ep_gone")
	switch client.ErrorCode(err) {
	case "":
		fmt.Println("found, or no answer:", err)
	case client.CodeNotFound:
		fmt.Println("no such endpoint")
	default:
		fmt.Println("other error:", err)
	}
	fmt.Println(err)
	// Output:
	// no such endpoint
	// hookd: 404 not_found: No such endpoint.
}
