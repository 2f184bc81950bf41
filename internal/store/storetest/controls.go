package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// Endpoint controls (docs/delivery.md): custom headers, payload filters
// and the delivery rate limit.

func withControls(headers []hook.Header, filter string, rate int) endpointOpt {
	return func(e *hook.Endpoint) {
		e.Headers, e.RateLimit = headers, rate
		if filter != "" {
			e.Filter = []byte(filter)
		}
	}
}

var testHeaders = []hook.Header{
	{Name: "Authorization", Value: "enc:v1:k:sealed", Masked: "••••5f2c"},
	{Name: "X-Team", Value: "on-call", Masked: "••••"},
}

func testEndpointControls(t *testing.T, b *bundle) {
	a := b.account(t)
	plain := b.endpoint(t, a)
	if got := b.getEndpoint(t, plain.ID); got.Headers != nil || got.Filter != nil || got.RateLimit != 0 {
		t.Errorf("endpoint without controls reads back %v %q %d", got.Headers, got.Filter, got.RateLimit)
	}
	const flt = `{"data.direction":"inbound","data.duration_seconds":{"$gte":30}}`
	e := b.endpoint(t, a, withControls(testHeaders, flt, 5))
	got := b.getEndpoint(t, e.ID)
	if !slices.Equal(got.Headers, testHeaders) || string(got.Filter) != flt || got.RateLimit != 5 {
		t.Errorf("EndpointGet = %v %s %d, want what was created", got.Headers, got.Filter, got.RateLimit)
	}

	// Unchanged values change nothing, not even updated_at.
	same, rate := slices.Clone(testHeaders), 5
	sameFilter := []byte(flt)
	up, err := b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, Headers: &same, Filter: &sameFilter,
		RateLimit: &rate, Now: t0.Add(time.Minute)})
	if err != nil || !up.UpdatedAt.Equal(t0) {
		t.Errorf("EndpointUpdate with the same controls = updated_at %v, %v; want unchanged", up.UpdatedAt, err)
	}
	// Each one replaced, then removed.
	other := []hook.Header{{Name: "X-Api-Key", Value: "k2", Masked: "••••"}}
	otherFilter, otherRate := []byte(`{"event":"sms.received"}`), 100
	up, err = b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, Headers: &other, Filter: &otherFilter,
		RateLimit: &otherRate, Now: t0.Add(time.Minute)})
	if err != nil || !slices.Equal(up.Headers, other) || string(up.Filter) != string(otherFilter) || up.RateLimit != 100 ||
		!up.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("EndpointUpdate = %+v, %v", up, err)
	}
	var (
		noHeaders []hook.Header
		noFilter  []byte
		noRate    int
	)
	if _, err := b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, Headers: &noHeaders, Filter: &noFilter,
		RateLimit: &noRate, Now: t0.Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got := b.getEndpoint(t, e.ID); got.Headers != nil || got.Filter != nil || got.RateLimit != 0 {
		t.Errorf("after removing the controls: %v %q %d", got.Headers, got.Filter, got.RateLimit)
	}
	// Fields not given stay.
	desc := "x"
	b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: plain.ID, Description: &desc, Now: t0})
	e2 := b.endpoint(t, a, withControls(testHeaders, flt, 5))
	if up, err := b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e2.ID, Description: &desc, Now: t0.Add(time.Minute)}); err != nil ||
		!slices.Equal(up.Headers, testHeaders) || string(up.Filter) != flt || up.RateLimit != 5 {
		t.Errorf("EndpointUpdate of the description only = %+v, %v", up, err)
	}
}

// filterByText is a Match for tests: the filter's text says which event
// types it takes ("sms" takes sms.received only).
func filterByText(body []byte) func([]byte) bool {
	return func(filter []byte) bool {
		return !strings.Contains(string(filter), "sms") || strings.Contains(string(body), `"sms.received"`)
	}
}

func testEventFilterAndHeaders(t *testing.T, b *bundle) {
	a := b.account(t)
	all := b.endpoint(t, a)
	smsOnly := b.endpoint(t, a, withControls(testHeaders, `{"event":"sms.received"}`, 0))
	limited := b.endpoint(t, a, withControls(nil, "", 10))
	create := func(typ string, at time.Time, h *store.Handoff) *store.EventCreateResult {
		t.Helper()
		ev := newEvent(a, typ, at)
		res, err := b.s.EventCreate(b.ctx, &store.EventCreateParams{Event: ev, Handoff: h, Match: filterByText(ev.Body)})
		if err != nil {
			t.Fatalf("EventCreate: %v", err)
		}
		return res
	}
	endpointsOf := func(ds []*hook.Delivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.EndpointID)
		}
		slices.Sort(out)
		return out
	}
	want := func(ids ...string) []string { slices.Sort(ids); return ids }
	if got := endpointsOf(create("call.received", t0, nil).Deliveries); !slices.Equal(got, want(all.ID, limited.ID)) {
		t.Errorf("call: deliveries to %v, want %v (the filter refuses it)", got, want(all.ID, limited.ID))
	}
	// A handoff takes what it may, never the rate-limited endpoint's.
	var asked []string
	h := &store.Handoff{Until: t0.Add(time.Minute), Reserve: func(endpointID, _ string) bool {
		asked = append(asked, endpointID)
		return true
	}}
	res := create("sms.received", t0.Add(time.Second), h)
	if got := endpointsOf(res.Deliveries); !slices.Equal(got, want(all.ID, smsOnly.ID, limited.ID)) {
		t.Errorf("sms: deliveries to %v, want all three", got)
	}
	if slices.Contains(asked, limited.ID) || len(res.Claims) != 2 {
		t.Errorf("handoff asked for %v and took %d; want the two endpoints without a rate limit", asked, len(res.Claims))
	}
	for _, c := range res.Claims {
		if c.Delivery.EndpointID == smsOnly.ID && !slices.Equal(c.Headers, testHeaders) {
			t.Errorf("handed-off claim headers = %v, want the endpoint's", c.Headers)
		}
	}
	// Claims carry the headers too.
	r := create("sms.received", t0.Add(2*time.Second), nil)
	var smsDelivery string
	for _, d := range r.Deliveries {
		if d.EndpointID == smsOnly.ID {
			smsDelivery = d.ID
		}
	}
	found := false
	for _, c := range b.claim(t, t0.Add(10*time.Second), 100) {
		if c.Delivery.ID == smsDelivery {
			found = slices.Equal(c.Headers, testHeaders)
		}
	}
	if !found {
		t.Errorf("the claim of delivery %s does not carry the endpoint's headers", smsDelivery)
	}
}

func testRecoverFilter(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a, disabled, withControls(nil, `{"event":"sms.received"}`, 0))
	b.event(t, a, "call.received", t0)
	b.event(t, a, "sms.received", t0.Add(time.Second))
	b.event(t, a, "sms.received", t0.Add(2*time.Second))
	enable := true
	if _, err := b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, Enabled: &enable, Now: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	match := func(filter, body []byte) bool { return filterByText(body)(filter) }
	n, err := b.s.DeliveryRecover(b.ctx, &store.DeliveryRecoverParams{EndpointID: e.ID, Since: t0, Now: t0.Add(time.Minute), Match: match})
	if err != nil || n != 2 {
		t.Errorf("DeliveryRecover with an sms filter = %d, %v; want the 2 sms events", n, err)
	}
}

// testClaimRateLimit: an endpoint limited to 2 a second with 5 due
// deliveries starts one now and gives the others slots 500 ms apart, in
// queue order; nothing starts before its slot, and a slot is not an
// attempt. Another endpoint's work is not held up.
func testClaimRateLimit(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a, withControls(nil, "", 2))
	// Claimed deliveries succeed at once, so no lease runs out later.
	claim := func(at time.Time) []*store.Claim {
		t.Helper()
		cl := b.claim(t, at, 100)
		for _, c := range cl {
			b.complete(t, at, 3, ok(c, at))
		}
		return cl
	}
	free := b.endpoint(t, b.account(t))
	var order []string
	for i := range 5 {
		r := b.event(t, a, "call.received", t0.Add(time.Duration(i)*time.Millisecond))
		order = append(order, r.Deliveries[0].ID)
	}
	fa := b.getEndpoint(t, free.ID)
	fr, err := b.s.EventCreate(b.ctx, &store.EventCreateParams{Event: newEvent(&hook.Account{ID: fa.AccountID}, "call.received", t0)})
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Second)
	cl := claim(now)
	var got []string
	freeClaimed := false
	for _, c := range cl {
		if c.Delivery.EndpointID == e.ID {
			got = append(got, c.Delivery.ID)
		}
		freeClaimed = freeClaimed || c.Delivery.ID == fr.Deliveries[0].ID
	}
	if !slices.Equal(got, order[:1]) || !freeClaimed {
		t.Fatalf("first claim took %v of the limited endpoint (want %v) and the other endpoint's: %v", got, order[:1], freeClaimed)
	}
	for i, id := range order[1:] {
		d := b.delivery(t, id)
		wantAt := now.Add(time.Duration(i+1) * 500 * time.Millisecond)
		if d.Status != hook.StatusPending || d.Attempts != 0 || !d.NextAttemptAt.Equal(wantAt) {
			t.Errorf("delivery %d: %s, %d attempts, next at %v; want pending, 0, %v", i+1, d.Status, d.Attempts, d.NextAttemptAt, wantAt)
		}
	}
	if again := claim(now.Add(499 * time.Millisecond)); len(again) != 0 {
		t.Errorf("claimed %d before the next slot", len(again))
	}
	// Each slot in turn; a delivery holding a slot takes no other.
	for i := 1; i < 5; i++ {
		at := now.Add(time.Duration(i) * 500 * time.Millisecond)
		cl := claim(at)
		if len(cl) != 1 || cl[0].Delivery.ID != order[i] {
			t.Fatalf("claim at slot %d = %d claims, want delivery %s", i, len(cl), order[i])
		}
	}
	// A node that claims late (all of these turns fell due long ago)
	// starts one, not every turn missed, and the others wait, in order.
	var late []string
	for i := range 3 {
		late = append(late, b.event(t, a, "call.received", now.Add(3*time.Second+time.Duration(i)*time.Millisecond)).Deliveries[0].ID)
	}
	claim(now.Add(3 * time.Second)) // one starts; the others get turns 500 ms apart
	stalled := now.Add(30 * time.Second)
	cl = claim(stalled)
	if len(cl) != 1 || cl[0].Delivery.ID != late[1] {
		t.Fatalf("late claim took %d deliveries, want 1 (the next in turn)", len(cl))
	}
	if d := b.delivery(t, late[2]); !d.NextAttemptAt.After(stalled) {
		t.Errorf("the other late delivery is due %v, want after %v", d.NextAttemptAt, stalled)
	}
	if cl := claim(stalled.Add(time.Second)); len(cl) != 1 || cl[0].Delivery.ID != late[2] {
		t.Errorf("then the last one: claimed %d", len(cl))
	}

	// The endpoint is idle now: the next delivery starts at once, and
	// the slot after it is 500 ms later.
	later := now.Add(60 * time.Second)
	r1 := b.event(t, a, "call.received", later)
	r2 := b.event(t, a, "call.received", later)
	cl = claim(later)
	if len(cl) != 1 || cl[0].Delivery.ID != r1.Deliveries[0].ID {
		t.Fatalf("after idling: claimed %d, want the first new delivery", len(cl))
	}
	if d := b.delivery(t, r2.Deliveries[0].ID); !d.NextAttemptAt.Equal(later.Add(500 * time.Millisecond)) {
		t.Errorf("second new delivery due %v, want %v", d.NextAttemptAt, later.Add(500*time.Millisecond))
	}
}
