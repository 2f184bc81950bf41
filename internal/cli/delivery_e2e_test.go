package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/version"
	"github.com/hookd/hookd/webhook"
)

// A delivery is a signed POST of the envelope with the Standard Webhooks
// headers, and the attempt log says what was sent and received.
func TestDeliverySignedEnvelope(t *testing.T) {
	t.Parallel()
	b := start(t)
	rcv := newReceiver(t, always(reply{Body: `{"received":true}`}))
	acc, c := b.account()
	ep := b.endpoint(c, rcv, client.CreateEndpointParams{EventTypes: []string{"call.received"}})
	if !strings.HasPrefix(ep.Secret, "whsec_") || ep.Signing != "hmac-sha256" || ep.PublicKey != nil {
		t.Fatalf("new endpoint: secret %.6q signing %q public_key %v", ep.Secret, ep.Signing, ep.PublicKey)
	}
	res := b.send(acc.ID, "call.received")
	if len(res.Deliveries) != 1 || res.Deliveries[0].EndpointID != ep.ID {
		t.Fatalf("SubmitEvent deliveries = %+v", res.Deliveries)
	}

	got := rcv.next()
	if got.Verified != nil {
		t.Errorf("signature did not verify with the endpoint secret: %v", got.Verified)
	}
	h := got.Header
	for name, want := range map[string]string{
		"Content-Type":   "application/json",
		"User-Agent":     "hookd/" + version.Version,
		webhook.HeaderID: res.ID,
	} {
		if h.Get(name) != want {
			t.Errorf("header %s = %q, want %q", name, h.Get(name), want)
		}
	}
	if ts, err := strconv.ParseInt(h.Get(webhook.HeaderTimestamp), 10, 64); err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
		t.Errorf("webhook-timestamp = %q", h.Get(webhook.HeaderTimestamp))
	}
	if !regexp.MustCompile(`^v1,[A-Za-z0-9+/]{43}=$`).MatchString(h.Get(webhook.HeaderSignature)) {
		t.Errorf("webhook-signature = %q", h.Get(webhook.HeaderSignature))
	}

	var envelope map[string]json.RawMessage
	if err := json.Unmarshal(got.Body, &envelope); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	wantKeys := []string{"account_id", "data", "event", "id", "timestamp"}
	if len(envelope) != len(wantKeys) {
		t.Errorf("envelope keys = %v, want %v", keys(envelope), wantKeys)
	}
	str := func(k string) string {
		var s string
		json.Unmarshal(envelope[k], &s)
		return s
	}
	if str("id") != res.ID || str("event") != "call.received" || str("account_id") != acc.ID {
		t.Errorf("envelope = %s", got.Body)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(str("timestamp")) {
		t.Errorf("envelope timestamp = %q, want RFC 3339 UTC with milliseconds", str("timestamp"))
	}
	var sent, example map[string]any
	json.Unmarshal(envelope["data"], &sent)
	json.Unmarshal(examples["call.received"], &example)
	if fmt.Sprint(sent) != fmt.Sprint(example) {
		t.Errorf("data = %s, want the submitted data", envelope["data"])
	}
	// The stored envelope is byte for byte what was sent.
	raw, err := c.GetEventRaw(b.ctx, res.ID)
	if err != nil || !bytes.Equal(raw, got.Body) {
		t.Errorf("GET /v1/events/%s = %s, %v; want the delivered body", res.ID, raw, err)
	}

	d := b.waitStatus(c, res.Deliveries[0].ID, "succeeded")
	if d.Attempts != 1 || d.Trigger != "scheduled" || d.LastStatusCode == nil || *d.LastStatusCode != 200 ||
		d.LastError != nil || d.NextAttemptAt != nil || d.EventID != res.ID {
		t.Errorf("delivery = %+v", d)
	}
	atts := b.attempts(c, d.ID)
	if len(atts) != 1 {
		t.Fatalf("attempts = %d, want 1", len(atts))
	}
	a := atts[0]
	if a.Number != 1 || a.Trigger != "scheduled" || a.StatusCode == nil || *a.StatusCode != 200 || a.Error != nil ||
		a.ResponseBody != `{"received":true}` || a.DeliveryID != d.ID {
		t.Errorf("attempt = %+v", a)
	}
	if a.RequestHeaders["webhook-id"] != res.ID || a.RequestHeaders["webhook-signature"] != "v1,[redacted]" ||
		a.RequestHeaders["user-agent"] != "hookd/"+version.Version {
		t.Errorf("attempt request headers = %v", a.RequestHeaders)
	}
	// Not subscribed: no delivery.
	if res := b.send(acc.ID, "sms.received"); len(res.Deliveries) != 0 {
		t.Errorf("sms.received went to a call.received endpoint")
	}
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Failed attempts are retried with the same webhook-id, with growing waits.
func TestRetriesKeepWebhookID(t *testing.T) {
	t.Parallel()
	b := start(t, func(c *config.Config) { c.RetryBase = 100 * time.Millisecond; c.RetryFactor = 3 })
	rcv := newReceiver(t, func(n int) reply {
		if n < 3 {
			return reply{Status: 500, Body: "try later"}
		}
		return reply{Status: 204}
	})
	acc, c := b.account()
	b.endpoint(c, rcv, client.CreateEndpointParams{})
	res := b.send(acc.ID, "sms.received")
	r1, r2, r3 := rcv.next(), rcv.next(), rcv.next()
	for _, r := range []*received{r1, r2, r3} {
		if r.Header.Get(webhook.HeaderID) != res.ID || r.Verified != nil {
			t.Errorf("attempt %d: webhook-id %q verified %v", r.N, r.Header.Get(webhook.HeaderID), r.Verified)
		}
		if !bytes.Equal(r.Body, r1.Body) {
			t.Errorf("attempt %d body differs from the first", r.N)
		}
	}
	// Backoff: ~100 ms then ~300 ms (± 10 %).
	if gap := r2.At.Sub(r1.At); gap < 85*time.Millisecond {
		t.Errorf("first retry after %v, want ≥ 90ms", gap)
	}
	if gap := r3.At.Sub(r2.At); gap < 260*time.Millisecond {
		t.Errorf("second retry after %v, want ≥ 270ms", gap)
	}
	d := b.waitStatus(c, res.Deliveries[0].ID, "succeeded")
	atts := b.attempts(c, d.ID)
	if d.Attempts != 3 || len(atts) != 3 {
		t.Fatalf("attempts = %d/%d, want 3", d.Attempts, len(atts))
	}
	for i, a := range atts {
		if a.Number != i+1 {
			t.Errorf("attempt %d has number %d", i, a.Number)
		}
	}
	if *atts[0].StatusCode != 500 || *atts[0].Error != "http_status: 500 Internal Server Error" || atts[0].ResponseBody != "try later" {
		t.Errorf("first attempt = %+v", atts[0])
	}
}

// Each way an attempt can fail is recorded with its stable code, retried,
// and finally fails the delivery.
func TestFailureKinds(t *testing.T) {
	t.Parallel()
	b := start(t, func(c *config.Config) {
		c.MaxRetries = 1
		c.DisableAfter = 0
	})
	acc, c := b.account()
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	closedPort := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "https://" + addr + "/hooks"
	}()
	plain := newPlainHTTPServer(t)
	tests := []struct {
		name   string
		rcv    *receiver
		url    string
		prefix string
		code   int
	}{
		{"5xx", newReceiver(t, always(reply{Status: 503})), "", "http_status: 503 Service Unavailable", 503},
		{"4xx", newReceiver(t, always(reply{Status: 400})), "", "http_status: 400 Bad Request", 400},
		{"redirect", newReceiver(t, always(reply{Status: 302, Header: map[string]string{"Location": "/elsewhere"}})), "", "redirect: 302 Found to /elsewhere", 302},
		{"timeout", newReceiver(t, always(reply{Status: 500, Wait: hang})), "", "timeout: ", 0},
		{"refused", nil, closedPort, "connect: ", 0},
		{"not TLS", nil, strings.Replace(plain, "http://", "https://", 1), "tls: ", 0},
		{"dns", nil, "https://hookd-test.invalid/hooks", "dns: ", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := b.with(t)
			ep := b.endpoint(c, tt.rcv, client.CreateEndpointParams{URL: tt.url})
			res, err := b.admin.SubmitEvent(b.ctx, client.SubmitEventParams{AccountID: acc.ID, Event: "call.received", Data: example("call.received")})
			if err != nil {
				t.Fatal(err)
			}
			var id string
			for _, d := range res.Deliveries {
				if d.EndpointID == ep.ID {
					id = d.ID
				}
			}
			d := b.waitStatus(c, id, "failed")
			atts := b.attempts(c, id)
			if d.Attempts != 2 || len(atts) != 2 {
				t.Fatalf("attempts = %d, want 2 (first + 1 retry)", d.Attempts)
			}
			for _, a := range atts {
				if a.Error == nil || !strings.HasPrefix(*a.Error, tt.prefix) {
					t.Errorf("attempt error = %v, want prefix %q", deref(a.Error), tt.prefix)
				}
				if got := derefInt(a.StatusCode); got != tt.code {
					t.Errorf("attempt status_code = %d, want %d", got, tt.code)
				}
			}
			if d.LastError == nil || !strings.HasPrefix(*d.LastError, tt.prefix) {
				t.Errorf("delivery last_error = %v", deref(d.LastError))
			}
			if tt.name == "redirect" {
				// The subtests share an account, so this receiver also gets
				// the other subtests' events: count this event's requests.
				if got := tt.rcv.countFor(res.ID); got != 2 {
					t.Errorf("receiver saw %d requests for the event, want 2 (no redirect followed)", got)
				}
				if p := tt.rcv.paths(); slices.Contains(p, "/elsewhere") {
					t.Errorf("redirect target requested: paths %v", p)
				}
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// Only the first 64 KiB of a response are read and 4 KiB kept.
func TestResponseBodyBounded(t *testing.T) {
	t.Parallel()
	b := start(t)
	big := strings.Repeat("é", 60<<10) // 120 KiB of two-byte runes
	rcv := newReceiver(t, always(reply{Status: 200, Body: big}))
	acc, c := b.account()
	b.endpoint(c, rcv, client.CreateEndpointParams{})
	res := b.send(acc.ID, "call.received")
	d := b.waitStatus(c, res.Deliveries[0].ID, "succeeded")
	a := b.attempts(c, d.ID)[0]
	if len(a.ResponseBody) > 4096 || len(a.ResponseBody) < 4000 || !strings.HasPrefix(big, a.ResponseBody) {
		t.Errorf("response_body is %d bytes, want the first ≤ 4 KiB of the body, whole runes", len(a.ResponseBody))
	}
}

// A 429/503 Retry-After lengthens the wait, within bounds.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	b := start(t, func(c *config.Config) { c.RetryBase = 10 * time.Millisecond })
	rcv := newReceiver(t, func(n int) reply {
		if n == 1 {
			return reply{Status: 429, Header: map[string]string{"Retry-After": "1"}}
		}
		return reply{}
	})
	acc, c := b.account()
	b.endpoint(c, rcv, client.CreateEndpointParams{})
	res := b.send(acc.ID, "sms.received")
	first := rcv.next()
	second := rcv.next()
	if gap := second.At.Sub(first.At); gap < 950*time.Millisecond {
		t.Errorf("retry after %v, want ≥ 1s (Retry-After: 1)", gap)
	}
	b.waitStatus(c, res.Deliveries[0].ID, "succeeded")
}

// A slow endpoint holds at most --endpoint-concurrency attempts and does
// not hold up deliveries to others.
func TestSlowEndpointIsolated(t *testing.T) {
	t.Parallel()
	b := start(t, func(c *config.Config) {
		c.EndpointConcurrency = 3
		c.AttemptTimeout = 10 * time.Second
		c.Lease = 30 * time.Second
	})
	hang := make(chan struct{})
	slow := newReceiver(t, always(reply{Wait: hang}))
	fast := newReceiver(t, always(reply{}))
	acc, c := b.account()
	b.endpoint(c, slow, client.CreateEndpointParams{EventTypes: []string{"call.received"}})
	b.endpoint(c, fast, client.CreateEndpointParams{EventTypes: []string{"sms.received"}})
	for range 20 {
		b.send(acc.ID, "call.received")
	}
	// The slow endpoint fills its 3 slots...
	for range 3 {
		slow.next()
	}
	// ...and the fast one still gets every event at once.
	for range 10 {
		b.send(acc.ID, "sms.received")
	}
	for range 10 {
		fast.next()
	}
	if p := slow.peak(); p != 3 {
		t.Errorf("slow endpoint had %d attempts in flight, want 3 (--endpoint-concurrency)", p)
	}
	close(hang)
	// Released, the slow endpoint's backlog drains, still 3 at a time.
	for range 17 {
		slow.next()
	}
	if p := slow.peak(); p > 3 {
		t.Errorf("slow endpoint peak in flight = %d, want ≤ 3", p)
	}
}

// newPlainHTTPServer is a plain-HTTP server on loopback: TLS to it fails.
func newPlainHTTPServer(t *testing.T) string {
	srv := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/hooks"
}
