package cli_test

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/webhook"
)

const operatorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// operatorEvent is what the operator webhook receives.
type operatorEvent struct {
	ID        string `json:"id"`
	Event     string `json:"event"`
	AccountID string `json:"account_id"`
	Data      struct {
		EndpointID string `json:"endpoint_id"`
		AccountID  string `json:"account_id"`
		URL        string `json:"url"`
		Reason     string `json:"reason"`
		DisabledAt string `json:"disabled_at"`
	} `json:"data"`
}

func withOperator(op *receiver) nodeOpt {
	op.setSecret(operatorSecret)
	return func(c *config.Config) {
		c.OperatorWebhook = op.URL()
		c.OperatorWebhookSecret = operatorSecret
	}
}

func (r *receiver) nextOperatorEvent() operatorEvent {
	r.t.Helper()
	got := r.next()
	if got.Verified != nil {
		r.t.Errorf("operator event signature: %v", got.Verified)
	}
	var ev operatorEvent
	if err := json.Unmarshal(got.Body, &ev); err != nil {
		r.t.Fatalf("operator event: %v", err)
	}
	if got.Header.Get(webhook.HeaderID) != ev.ID {
		r.t.Errorf("operator event webhook-id %q, id %q", got.Header.Get(webhook.HeaderID), ev.ID)
	}
	return ev
}

// Three consecutive failed deliveries disable the endpoint; the operator
// hears of it; nothing is lost: events that arrive meanwhile are kept and
// recover sends them after a re-enable.
func TestAutoDisableAndRecover(t *testing.T) {
	t.Parallel()
	op := newReceiver(t, always(reply{}))
	b := start(t, withOperator(op), func(c *config.Config) { c.MaxRetries = 1 })
	var failing atomic.Bool
	failing.Store(true)
	rcv := newReceiver(t, func(int) reply {
		if failing.Load() {
			return reply{Status: 500}
		}
		return reply{}
	})
	acc, c := b.account()
	ep := b.endpoint(c, rcv, client.CreateEndpointParams{})

	var failed []string
	for i := range 3 {
		res := b.send(acc.ID, "call.received")
		b.waitStatus(c, res.Deliveries[0].ID, "failed")
		failed = append(failed, res.ID)
		if i < 2 {
			e, _ := c.GetEndpoint(b.ctx, ep.ID)
			if !e.Enabled || e.ConsecutiveFailures != i+1 {
				t.Fatalf("after %d failed deliveries: enabled=%v count=%d", i+1, e.Enabled, e.ConsecutiveFailures)
			}
		}
	}
	e := b.waitEndpoint(c, ep.ID, "disabled", func(e *client.Endpoint) bool { return !e.Enabled })
	if deref(e.DisabledReason) != "consecutive_failures" || e.DisabledAt == nil || e.ConsecutiveFailures != 3 {
		t.Errorf("disabled endpoint = reason %v at %v count %d", deref(e.DisabledReason), e.DisabledAt, e.ConsecutiveFailures)
	}
	ev := op.nextOperatorEvent()
	if ev.Event != "endpoint.disabled" || ev.AccountID != acc.ID || ev.Data.EndpointID != ep.ID || ev.Data.AccountID != acc.ID ||
		ev.Data.URL != ep.URL || ev.Data.Reason != "consecutive_failures" || ev.Data.DisabledAt == "" {
		t.Errorf("operator event = %+v", ev)
	}

	// While disabled: events are accepted and kept, with no delivery.
	seen := rcv.count()
	res := b.send(acc.ID, "call.received")
	if len(res.Deliveries) != 0 {
		t.Errorf("event for a disabled endpoint got deliveries: %+v", res.Deliveries)
	}
	missed := res.ID
	_, err := c.Recover(b.ctx, ep.ID, time.Now().Add(-time.Hour))
	wantCode(t, err, 409, client.CodeEndpointDisabled)
	redeliverable, _ := c.ListDeliveries(b.ctx, client.DeliveryListParams{EndpointID: ep.ID, Status: "failed"})
	_, err = c.Redeliver(b.ctx, redeliverable.Data[0].ID)
	wantCode(t, err, 409, client.CodeEndpointDisabled)

	// Re-enable: the count and reason clear, the operator hears of it.
	failing.Store(false)
	on := true
	e, err = c.UpdateEndpoint(b.ctx, ep.ID, client.UpdateEndpointParams{Enabled: &on})
	if err != nil {
		t.Fatal(err)
	}
	if !e.Enabled || e.DisabledReason != nil || e.DisabledAt != nil || e.ConsecutiveFailures != 0 {
		t.Errorf("re-enabled endpoint = %+v", e)
	}
	ev = op.nextOperatorEvent()
	if ev.Event != "endpoint.enabled" || ev.Data.EndpointID != ep.ID || ev.Data.AccountID != acc.ID || ev.Data.URL != ep.URL {
		t.Errorf("operator event = %+v", ev)
	}
	if rcv.count() != seen {
		t.Errorf("re-enable sent something by itself")
	}

	// Recover sends the 3 failed events and the one that came while off.
	n, err := c.Recover(b.ctx, ep.ID, time.Now().Add(-time.Hour))
	if err != nil || n != 4 {
		t.Fatalf("Recover = %d, %v; want 4", n, err)
	}
	want := map[string]bool{missed: true}
	for _, id := range failed {
		want[id] = true
	}
	for range 4 {
		got := rcv.next()
		for !want[got.Header.Get(webhook.HeaderID)] {
			got = rcv.next() // a retry of an earlier failure
		}
		delete(want, got.Header.Get(webhook.HeaderID))
	}
	if len(want) != 0 {
		t.Errorf("not recovered: %v", want)
	}
	recovered, _ := c.ListDeliveries(b.ctx, client.DeliveryListParams{EndpointID: ep.ID, EventID: missed})
	if len(recovered.Data) != 1 || recovered.Data[0].Trigger != "recover" {
		t.Fatalf("deliveries of the missed event = %+v", recovered.Data)
	}
	d := b.waitStatus(c, recovered.Data[0].ID, "succeeded")
	if a := b.attempts(c, d.ID); a[0].Trigger != "recover" {
		t.Errorf("recover attempt trigger = %s", a[0].Trigger)
	}
	// Nothing left to recover.
	if n, _ := c.Recover(b.ctx, ep.ID, time.Now().Add(-time.Hour)); n != 0 {
		t.Errorf("second Recover = %d, want 0", n)
	}
}

// 410 Gone disables at once, without retries; the owner hears of it.
func TestGoneDisablesAtOnce(t *testing.T) {
	t.Parallel()
	op := newReceiver(t, always(reply{}))
	b := start(t, withOperator(op))
	rcv := newReceiver(t, always(reply{Status: 410}))
	acc, c := b.account()
	ep := b.endpoint(c, rcv, client.CreateEndpointParams{})
	res := b.send(acc.ID, "sms.received")
	d := b.waitStatus(c, res.Deliveries[0].ID, "failed")
	if d.Attempts != 1 {
		t.Errorf("attempts = %d, want 1 (410 is not retried)", d.Attempts)
	}
	e := b.waitEndpoint(c, ep.ID, "disabled", func(e *client.Endpoint) bool { return !e.Enabled })
	if deref(e.DisabledReason) != "gone" {
		t.Errorf("disabled_reason = %s, want gone", deref(e.DisabledReason))
	}
	if ev := op.nextOperatorEvent(); ev.Event != "endpoint.disabled" || ev.Data.Reason != "gone" {
		t.Errorf("operator event = %+v", ev)
	}
}

// Disabling cancels pending deliveries (kept, not lost); manual disables
// tell the operator nothing; disabling twice changes nothing.
func TestManualDisableCancelsPending(t *testing.T) {
	t.Parallel()
	op := newReceiver(t, always(reply{}))
	b := start(t, withOperator(op), func(c *config.Config) { c.RetryBase = time.Hour })
	rcv := newReceiver(t, always(reply{Status: 500}))
	acc, c := b.account()
	ep := b.endpoint(c, rcv, client.CreateEndpointParams{})
	res := b.send(acc.ID, "call.received")
	d := b.waitDelivery(c, res.Deliveries[0].ID, "a failed attempt", func(d *client.Delivery) bool { return d.Attempts == 1 })
	if d.Status != "pending" || d.NextAttemptAt == nil || time.Until(*d.NextAttemptAt) < 50*time.Minute {
		t.Fatalf("after one failure: %+v, want pending with a retry in about an hour", d)
	}
	off := false
	e, err := c.UpdateEndpoint(b.ctx, ep.ID, client.UpdateEndpointParams{Enabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	if e.Enabled || deref(e.DisabledReason) != "manual" || e.DisabledAt == nil {
		t.Errorf("after manual disable: %+v", e)
	}
	d, _ = c.GetDelivery(b.ctx, d.ID)
	if d.Status != "canceled" || deref(d.LastError) != "canceled: endpoint disabled" || d.NextAttemptAt != nil {
		t.Errorf("pending delivery after disable = %+v", d)
	}
	again, _ := c.UpdateEndpoint(b.ctx, ep.ID, client.UpdateEndpointParams{Enabled: &off})
	if !again.DisabledAt.Equal(*e.DisabledAt) || deref(again.DisabledReason) != "manual" {
		t.Errorf("second disable changed the endpoint: %+v", again)
	}
	// Created disabled: manual too.
	e2 := b.endpoint(c, rcv, client.CreateEndpointParams{Enabled: &off})
	if e2.Enabled || deref(e2.DisabledReason) != "manual" {
		t.Errorf("created disabled: %+v", e2)
	}
	// Manual disables emit no operator event.
	op.none(200 * time.Millisecond)
}

// Test the connection: synchronous, signed like a delivery, recorded with
// trigger test, works while disabled, never changes the endpoint.
func TestConnectionTest(t *testing.T) {
	t.Parallel()
	// The harness's 2 s attempt timeout: long enough that a loaded machine
	// running the suite with -race does not turn the other cases into
	// timeouts.
	b := start(t)
	_, c := b.account()
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	tests := []struct {
		name string
		rep  reply
		url  string
		ok   bool
		code int
		err  string
		hint string
	}{
		{name: "ok", rep: reply{Status: 200}, ok: true, code: 200, hint: "answered 200"},
		{name: "500", rep: reply{Status: 500}, code: 500, err: "http_status: 500 Internal Server Error", hint: "return a 2xx status"},
		{name: "405", rep: reply{Status: 405}, code: 405, err: "http_status: 405", hint: "your endpoint must accept POST"},
		{name: "410 does not disable", rep: reply{Status: 410}, code: 410, err: "http_status: 410", hint: "return a 2xx status"},
		{name: "redirect", rep: reply{Status: 301, Header: map[string]string{"Location": "https://example.com/"}}, code: 301, err: "redirect: ", hint: "redirects are not followed"},
		{name: "timeout", rep: reply{Wait: hang}, err: "timeout: ", hint: "respond within 2 seconds"},
		{name: "refused", url: "https://127.0.0.1:1/hooks", err: "connect: ", hint: "is your server running on this machine and listening on the URL's port?"},
		{name: "tls", url: strings.Replace(newPlainHTTPServer(t), "http:", "https:", 1), err: "tls: ", hint: "certificate problem: "},
		{name: "dns", url: "https://hookd-test.invalid/hooks", err: "dns: ", hint: "check the URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := b.with(t)
			var rcv *receiver
			if tt.url == "" {
				rcv = newReceiver(t, always(tt.rep))
			}
			off := false
			ep := b.endpoint(c, rcv, client.CreateEndpointParams{URL: tt.url, Enabled: &off}) // works while disabled
			res, err := c.TestEndpoint(b.ctx, ep.ID)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != tt.ok || derefInt(res.StatusCode) != tt.code || !strings.HasPrefix(deref(res.Error), tt.err) ||
				(tt.ok && res.Error != nil) || !strings.Contains(res.Hint, tt.hint) {
				t.Errorf("test = ok %v status %d error %q hint %q; want ok %v status %d error %q… hint …%q…",
					res.OK, derefInt(res.StatusCode), deref(res.Error), res.Hint, tt.ok, tt.code, tt.err, tt.hint)
			}
			if rcv != nil {
				got := rcv.next()
				if got.Verified != nil {
					t.Errorf("test request signature: %v", got.Verified)
				}
				var env struct {
					Event string
					Data  struct{ Test bool }
				}
				json.Unmarshal(got.Body, &env)
				if env.Event != "webhook.test" || !env.Data.Test {
					t.Errorf("test body = %s", got.Body)
				}
			}
			d, err := c.GetDelivery(b.ctx, res.DeliveryID)
			if err != nil {
				t.Fatal(err)
			}
			wantStatus := map[bool]string{true: "succeeded", false: "failed"}[tt.ok]
			if d.Trigger != "test" || d.Status != wantStatus || d.Attempts != 1 || deref(d.LastError) != deref(res.Error) {
				t.Errorf("test delivery = %+v", d)
			}
			atts := b.attempts(c, d.ID)
			if len(atts) != 1 || atts[0].ID != res.AttemptID || atts[0].Trigger != "test" || deref(atts[0].Error) != deref(res.Error) {
				t.Errorf("test attempts = %+v", atts)
			}
			listed, _ := c.ListDeliveries(b.ctx, client.DeliveryListParams{EndpointID: ep.ID})
			if len(listed.Data) != 1 || listed.Data[0].ID != d.ID {
				t.Errorf("deliveries of the endpoint = %+v", listed.Data)
			}
			if _, err := c.GetEvent(b.ctx, d.EventID); err != nil {
				t.Errorf("test event not stored: %v", err)
			}
			_, err = c.Redeliver(b.ctx, d.ID)
			wantCode(t, err, 409, client.CodeNotRedeliverable)
			after, _ := c.GetEndpoint(b.ctx, ep.ID)
			if after.Enabled || deref(after.DisabledReason) != "manual" || after.ConsecutiveFailures != 0 || !after.UpdatedAt.Equal(ep.UpdatedAt) {
				t.Errorf("test changed the endpoint: %+v", after)
			}
		})
	}
}

// A host that resolves to a blocked address fails at delivery time, and
// the test says so; literal blocked IPs are refused at create.
func TestBlockedTargets(t *testing.T) {
	t.Parallel()
	b := start(t, func(c *config.Config) { c.AllowPrivateTargets = false; c.MaxRetries = 0; c.DisableAfter = 0 })
	acc, c := b.account()
	for _, u := range []string{"https://127.0.0.1/hooks", "https://[::1]/", "https://169.254.169.254/latest", "https://10.1.2.3/", "https://2130706433/"} {
		_, err := c.CreateEndpoint(b.ctx, client.CreateEndpointParams{URL: u, EventTypes: []string{"*"}})
		wantCode(t, err, 400, client.CodeInvalidURL)
		if msg := err.(*client.Error).Message; !strings.Contains(msg, "target address not allowed") || !strings.Contains(msg, "--allow-private-targets") {
			t.Errorf("CreateEndpoint(%s) message = %q", u, err.(*client.Error).Message)
		}
	}
	rcv := newReceiver(t, always(reply{}))
	local := strings.Replace(rcv.URL(), "127.0.0.1", "localhost", 1)
	ep := b.endpoint(c, nil, client.CreateEndpointParams{URL: local})
	res, err := c.TestEndpoint(b.ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || !strings.HasPrefix(deref(res.Error), "blocked_target: ") || !strings.Contains(res.Hint, "this address is not allowed") ||
		!strings.Contains(res.Hint, "--allow-private-targets") {
		t.Errorf("test of localhost = %+v (%s, %s)", res, deref(res.Error), res.Hint)
	}
	ev := b.send(acc.ID, "sms.received")
	d := b.waitStatus(c, ev.Deliveries[0].ID, "failed")
	if !strings.HasPrefix(deref(d.LastError), "blocked_target: ") {
		t.Errorf("delivery last_error = %s", deref(d.LastError))
	}
	if rcv.count() != 0 {
		t.Errorf("the blocked receiver got %d requests", rcv.count())
	}
}

// Redeliver sends the same event again as a new delivery.
func TestRedeliver(t *testing.T) {
	t.Parallel()
	b := start(t, func(c *config.Config) { c.MaxRetries = 0 })
	var fail atomic.Bool
	fail.Store(true)
	rcv := newReceiver(t, func(int) reply {
		if fail.Load() {
			return reply{Status: 500}
		}
		return reply{}
	})
	acc, c := b.account()
	b.endpoint(c, rcv, client.CreateEndpointParams{})
	res := b.send(acc.ID, "call.received")
	first := rcv.next()
	b.waitStatus(c, res.Deliveries[0].ID, "failed")
	fail.Store(false)
	nd, err := c.Redeliver(b.ctx, res.Deliveries[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if nd.ID == res.Deliveries[0].ID || nd.EventID != res.ID || nd.Trigger != "redeliver" || nd.Status != "pending" {
		t.Errorf("redelivery = %+v", nd)
	}
	again := rcv.next()
	if again.Header.Get(webhook.HeaderID) != first.Header.Get(webhook.HeaderID) || string(again.Body) != string(first.Body) {
		t.Errorf("redelivery differs from the first delivery")
	}
	b.waitStatus(c, nd.ID, "succeeded")
	if a := b.attempts(c, nd.ID); a[0].Trigger != "redeliver" {
		t.Errorf("redelivery attempt trigger = %s", a[0].Trigger)
	}
}
