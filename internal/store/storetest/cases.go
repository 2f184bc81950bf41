package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

func testAccounts(t *testing.T, b *bundle) {
	a := b.account(t)
	got, err := b.s.AccountGet(b.ctx, a.ID)
	if err != nil || got.Name != "Acme" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("AccountGet = %+v, %v; want Acme created %v", got, err, t0)
	}
	if got, err := b.s.AccountByTokenHash(b.ctx, tokenHash(a.ID)); err != nil || got.ID != a.ID {
		t.Fatalf("AccountByTokenHash = %v, %v; want %s", got, err, a.ID)
	}
	if err := b.s.AccountSetToken(b.ctx, a.ID, tokenHash("new")); err != nil {
		t.Fatalf("AccountSetToken: %v", err)
	}
	if _, err := b.s.AccountByTokenHash(b.ctx, tokenHash(a.ID)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old token: AccountByTokenHash err = %v, want ErrNotFound", err)
	}
	if got, err := b.s.AccountByTokenHash(b.ctx, tokenHash("new")); err != nil || got.ID != a.ID {
		t.Errorf("new token: AccountByTokenHash = %v, %v", got, err)
	}
	if _, err := b.s.AccountGet(b.ctx, "acc_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AccountGet(unknown) err = %v, want ErrNotFound", err)
	}
	if err := b.s.AccountSetToken(b.ctx, "acc_nope", tokenHash("x")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AccountSetToken(unknown) err = %v, want ErrNotFound", err)
	}
}

func testEndpointCRUD(t *testing.T, b *bundle) {
	a, other := b.account(t), b.account(t)
	var made []string
	for range 5 {
		made = append(made, b.endpoint(t, a).ID)
	}
	b.endpoint(t, other)
	slices.Reverse(made) // newest first

	page1, err := b.s.EndpointList(b.ctx, &store.EndpointListParams{AccountID: a.ID, Page: store.Page{Limit: 3}})
	if err != nil {
		t.Fatal(err)
	}
	page2, err := b.s.EndpointList(b.ctx, &store.EndpointListParams{AccountID: a.ID, Page: store.Page{After: page1[2].ID, Limit: 3}})
	if err != nil {
		t.Fatal(err)
	}
	got := append(ids(page1, func(e *hook.Endpoint) string { return e.ID }), ids(page2, func(e *hook.Endpoint) string { return e.ID })...)
	if !sameStrings(got, made) {
		t.Errorf("EndpointList pages = %v, want %v", got, made)
	}
	all, _ := b.s.EndpointList(b.ctx, &store.EndpointListParams{Page: store.Page{Limit: 100}})
	if len(all) != 6 {
		t.Errorf("EndpointList(all) = %d endpoints, want 6", len(all))
	}

	e := b.getEndpoint(t, made[0])
	if e.Keys[0].Value == "" || e.Signing != hook.SigningHMAC || !e.Enabled || e.DisabledReason != "" {
		t.Errorf("EndpointGet = %+v", e)
	}
	url, desc := "https://example.org/new", "billing"
	up, err := b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, URL: &url, Description: &desc,
		EventTypes: []string{"sms.received"}, Now: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	again := b.getEndpoint(t, e.ID)
	for _, g := range []*hook.Endpoint{up, again} {
		if g.URL != url || g.Description != desc || !sameStrings(g.EventTypes, []string{"sms.received"}) ||
			!g.UpdatedAt.Equal(t0.Add(time.Minute)) || !g.Enabled {
			t.Errorf("after update: %+v", g)
		}
	}
	if _, err := b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: "ep_nope", Now: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EndpointUpdate(unknown) err = %v, want ErrNotFound", err)
	}
}

func testEndpointDisableCancelsPending(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a)
	ev := b.event(t, a, "call.received", t0)
	inflight := b.claim(t, t0, 10)
	ev2 := b.event(t, a, "call.received", t0)
	if len(inflight) != 1 {
		t.Fatalf("claimed %d, want 1", len(inflight))
	}
	off := false
	up, err := b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, Enabled: &off, Now: t0.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if up.Enabled || up.DisabledReason != hook.ReasonManual || !up.DisabledAt.Equal(t0.Add(time.Second)) {
		t.Errorf("after disable: enabled=%v reason=%q at=%v", up.Enabled, up.DisabledReason, up.DisabledAt)
	}
	for _, r := range []*store.EventCreateResult{ev, ev2} {
		d := wantStatus(t, b, r.Deliveries[0].ID, hook.StatusCanceled)
		if d.LastError != hook.CanceledDisabled || !d.NextAttemptAt.IsZero() {
			t.Errorf("canceled delivery: last_error=%q next=%v", d.LastError, d.NextAttemptAt)
		}
	}
	if cl := b.claim(t, t0.Add(time.Hour), 10); len(cl) != 0 {
		t.Errorf("claimed %d deliveries of a disabled endpoint", len(cl))
	}
	// New events are kept but get no delivery while it is off.
	if r := b.event(t, a, "call.received", t0.Add(2*time.Second)); len(r.Deliveries) != 0 {
		t.Errorf("event for disabled endpoint got %d deliveries", len(r.Deliveries))
	}
	// Disabling again changes nothing.
	again, err := b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, Enabled: &off, Now: t0.Add(time.Hour)})
	if err != nil || !again.DisabledAt.Equal(up.DisabledAt) || again.DisabledReason != hook.ReasonManual {
		t.Errorf("second disable: %+v, %v", again, err)
	}
}

func testEndpointReenable(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a)
	// Disable it automatically: one failed delivery with disable-after 1.
	b.event(t, a, "call.received", t0)
	cl := b.claim(t, t0, 1)
	res := b.complete(t, t0, 1, fail(cl[0], t0, time.Time{}))
	if len(res.Disabled) != 1 || res.Disabled[0].Reason != hook.ReasonConsecutiveFailures {
		t.Fatalf("Disabled = %+v, want one consecutive_failures", res.Disabled)
	}
	msgs := operatorClaim(t, b, t0)
	if len(msgs) != 1 || !containsAll(string(msgs[0].Body), `"event":"endpoint.disabled"`, `"reason":"consecutive_failures"`, e.ID) {
		t.Fatalf("operator messages after auto-disable = %v", bodies(msgs))
	}
	on := true
	up, err := b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, Enabled: &on, Now: t0.Add(time.Minute), OperatorEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	if !up.Enabled || up.DisabledReason != "" || !up.DisabledAt.IsZero() || up.ConsecutiveFailures != 0 {
		t.Errorf("after re-enable: %+v", up)
	}
	msgs = operatorClaim(t, b, t0.Add(time.Minute))
	if len(msgs) != 1 || !containsAll(string(msgs[0].Body), `"event":"endpoint.enabled"`, e.ID, a.ID) {
		t.Errorf("operator messages after re-enable = %v", bodies(msgs))
	}
	// A manual disable and re-enable emit nothing.
	off := false
	b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, Enabled: &off, Now: t0.Add(2 * time.Minute), OperatorEvents: true})
	b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, Enabled: &on, Now: t0.Add(3 * time.Minute), OperatorEvents: true})
	if msgs := operatorClaim(t, b, t0.Add(time.Hour)); len(msgs) != 0 {
		t.Errorf("manual disable/enable emitted %v", bodies(msgs))
	}
}

func operatorClaim(t *testing.T, b *bundle, now time.Time) []*store.OperatorMessage {
	t.Helper()
	msgs, err := b.s.OperatorClaim(b.ctx, &store.OperatorClaimParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10})
	if err != nil {
		t.Fatalf("OperatorClaim: %v", err)
	}
	var rs []*store.OperatorResult
	for _, m := range msgs {
		rs = append(rs, &store.OperatorResult{ID: m.ID, Lease: m.Lease, OK: true})
	}
	if err := b.s.OperatorComplete(b.ctx, &store.OperatorCompleteParams{Results: rs, Now: now}); err != nil {
		t.Fatalf("OperatorComplete: %v", err)
	}
	return msgs
}

func bodies(msgs []*store.OperatorMessage) []string {
	return ids(msgs, func(m *store.OperatorMessage) string { return string(m.Body) })
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func testEndpointDelete(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a)
	r := b.event(t, a, "sms.received", t0)
	if err := b.s.EndpointDelete(b.ctx, e.ID, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.s.EndpointGet(b.ctx, e.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EndpointGet(deleted) err = %v, want ErrNotFound", err)
	}
	if l, _ := b.s.EndpointList(b.ctx, &store.EndpointListParams{AccountID: a.ID, Page: store.Page{Limit: 10}}); len(l) != 0 {
		t.Errorf("deleted endpoint listed: %d", len(l))
	}
	d := wantStatus(t, b, r.Deliveries[0].ID, hook.StatusCanceled)
	if d.LastError != hook.CanceledDeleted {
		t.Errorf("last_error = %q, want %q", d.LastError, hook.CanceledDeleted)
	}
	if err := b.s.EndpointDelete(b.ctx, e.ID, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete err = %v, want ErrNotFound", err)
	}
	if r := b.event(t, a, "sms.received", t0); len(r.Deliveries) != 0 {
		t.Errorf("deleted endpoint got a delivery")
	}
}

func testEndpointRotateKey(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a)
	old := e.Keys[0].Value
	now := t0.Add(time.Hour)
	up, err := b.s.EndpointRotateKey(b.ctx, &store.EndpointRotateKeyParams{ID: e.ID,
		Key: hook.Key{Value: "whsec_new", CreatedAt: now}, Overlap: 24 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Keys) != 2 || up.Keys[0].Value != "whsec_new" || up.Keys[1].Value != old || !up.Keys[1].ExpiresAt.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("keys after rotate = %+v", up.Keys)
	}
	b.event(t, a, "call.received", now)
	cl := b.claim(t, now, 1)
	if got := ids(cl[0].Keys, func(k hook.Key) string { return k.Value }); !sameStrings(got, []string{"whsec_new", old}) {
		t.Errorf("claim keys during overlap = %v", got)
	}
	b.complete(t, now, 3, ok(cl[0], now))
	later := now.Add(25 * time.Hour)
	b.event(t, a, "call.received", later)
	cl = b.claim(t, later, 1)
	if got := ids(cl[0].Keys, func(k hook.Key) string { return k.Value }); !sameStrings(got, []string{"whsec_new"}) {
		t.Errorf("claim keys after overlap = %v", got)
	}
	// A second rotation drops expired keys.
	up, _ = b.s.EndpointRotateKey(b.ctx, &store.EndpointRotateKeyParams{ID: e.ID,
		Key: hook.Key{Value: "whsec_third", CreatedAt: later}, Overlap: time.Hour, Now: later})
	if got := ids(up.Keys, func(k hook.Key) string { return k.Value }); !sameStrings(got, []string{"whsec_third", "whsec_new"}) {
		t.Errorf("keys after second rotate = %v", got)
	}
}

func testEventFanOut(t *testing.T, b *bundle) {
	a, other := b.account(t), b.account(t)
	all := b.endpoint(t, a)
	calls := b.endpoint(t, a, withTypes("call.received"))
	sms := b.endpoint(t, a, withTypes("sms.received"))
	b.endpoint(t, a, disabled)
	b.endpoint(t, other)

	r := b.event(t, a, "call.received", t0)
	got := ids(r.Deliveries, func(d *hook.Delivery) string { return d.EndpointID })
	slices.Sort(got)
	want := []string{all.ID, calls.ID}
	slices.Sort(want)
	if !sameStrings(got, want) {
		t.Errorf("call.received went to %v, want %v", got, want)
	}
	for _, d := range r.Deliveries {
		if d.Status != hook.StatusPending || d.Trigger != hook.TriggerScheduled || d.EventID != r.Event.ID ||
			d.AccountID != a.ID || !d.NextAttemptAt.Equal(t0) || d.Attempts != 0 {
			t.Errorf("new delivery = %+v", d)
		}
		if g := b.delivery(t, d.ID); g.Status != hook.StatusPending {
			t.Errorf("stored delivery = %+v", g)
		}
	}
	r = b.event(t, a, "sms.received", t0)
	if len(r.Deliveries) != 2 || !slices.ContainsFunc(r.Deliveries, func(d *hook.Delivery) bool { return d.EndpointID == sms.ID }) {
		t.Errorf("sms.received deliveries = %v", ids(r.Deliveries, func(d *hook.Delivery) string { return d.EndpointID }))
	}
	ev, err := b.s.EventGet(b.ctx, r.Event.ID)
	if err != nil || string(ev.Body) != string(r.Event.Body) || ev.Type != "sms.received" || !ev.CreatedAt.Equal(t0) {
		t.Errorf("EventGet = %+v, %v", ev, err)
	}
	if _, err := b.s.EventGet(b.ctx, "evt_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EventGet(unknown) err = %v", err)
	}
}

func testEventIdempotency(t *testing.T, b *bundle) {
	a := b.account(t)
	b.endpoint(t, a)
	create := func(at time.Time, hash string) (*store.EventCreateResult, error) {
		return b.s.EventCreate(b.ctx, &store.EventCreateParams{Event: newEvent(a, "call.received", at),
			IdempotencyKey: "k1", RequestHash: []byte(hash), IdempotencyTTL: 24 * time.Hour})
	}
	first, err := create(t0, "h1")
	if err != nil || first.Replayed {
		t.Fatalf("first = %+v, %v", first, err)
	}
	again, err := create(t0.Add(time.Hour), "h1")
	if err != nil || !again.Replayed || again.Event.ID != first.Event.ID ||
		!sameStrings(ids(again.Deliveries, deliveryID), ids(first.Deliveries, deliveryID)) {
		t.Fatalf("replay = %+v, %v; want first answer", again, err)
	}
	if _, err := create(t0.Add(2*time.Hour), "h2"); err == nil {
		t.Fatal("different request with the same key: no error")
	} else {
		wantCode(t, err, hook.EIdempotencyConflict)
	}
	if n := len(b.list(t, store.DeliveryListParams{AccountID: a.ID})); n != 1 {
		t.Errorf("deliveries after replay and conflict = %d, want 1", n)
	}
	// After 24 h the key starts afresh.
	fresh, err := create(t0.Add(25*time.Hour), "h2")
	if err != nil || fresh.Replayed || fresh.Event.ID == first.Event.ID {
		t.Errorf("after TTL = %+v, %v; want a new event", fresh, err)
	}
	// Keys are per account.
	other := b.account(t)
	r, err := b.s.EventCreate(b.ctx, &store.EventCreateParams{Event: newEvent(other, "call.received", t0),
		IdempotencyKey: "k1", RequestHash: []byte("zz"), IdempotencyTTL: 24 * time.Hour})
	if err != nil || r.Replayed {
		t.Errorf("same key, other account = %+v, %v", r, err)
	}
}

func testEventCreateConcurrent(t *testing.T, b *bundle) {
	a := b.account(t)
	b.endpoint(t, a)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	seen := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := ""
			if i%2 == 0 {
				key = fmt.Sprintf("k%d", i)
			}
			r, err := b.s.EventCreate(b.ctx, &store.EventCreateParams{Event: newEvent(a, "call.received", t0),
				IdempotencyKey: key, RequestHash: []byte("h"), IdempotencyTTL: time.Hour})
			if err != nil {
				errs <- err
				return
			}
			seen <- r.Deliveries[0].ID
		}()
	}
	wg.Wait()
	close(errs)
	close(seen)
	for err := range errs {
		t.Errorf("concurrent EventCreate: %v", err)
	}
	unique := map[string]bool{}
	for id := range seen {
		unique[id] = true
	}
	if len(unique) != n {
		t.Errorf("%d distinct deliveries, want %d", len(unique), n)
	}
	if got := len(b.list(t, store.DeliveryListParams{AccountID: a.ID, Page: store.Page{Limit: 1000}})); got != n {
		t.Errorf("stored deliveries = %d, want %d", got, n)
	}
}

func testClaimLeases(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a)
	r := b.event(t, a, "call.received", t0)
	if cl := b.claim(t, t0.Add(-time.Second), 10); len(cl) != 0 {
		t.Errorf("claimed %d deliveries not yet due", len(cl))
	}
	cl := b.claim(t, t0, 10)
	if len(cl) != 1 {
		t.Fatalf("claimed %d, want 1", len(cl))
	}
	c := cl[0]
	if c.Delivery.ID != r.Deliveries[0].ID || c.URL != e.URL || string(c.Body) != string(r.Event.Body) ||
		len(c.Keys) != 1 || c.Keys[0].Value != e.Keys[0].Value || c.Lease == 0 {
		t.Errorf("claim = %+v", c)
	}
	if again := b.claim(t, t0.Add(time.Second), 10); len(again) != 0 {
		t.Errorf("leased delivery claimed again before the lease ended")
	}
	// The claimer died: after the lease, the work is due again.
	again := b.claim(t, t0.Add(31*time.Second), 10)
	if len(again) != 1 || again[0].Delivery.ID != c.Delivery.ID || again[0].Lease == c.Lease {
		t.Fatalf("after lease: claimed %+v", again)
	}
}

func testClaimCapacity(t *testing.T, b *bundle) {
	a := b.account(t)
	busy := b.endpoint(t, a, withTypes("call.received"))
	quiet := b.endpoint(t, a, withTypes("sms.received"))
	for i := range 20 {
		b.event(t, a, "call.received", t0.Add(time.Duration(i)*time.Millisecond))
	}
	late := b.event(t, a, "sms.received", t0.Add(time.Second))
	now := t0.Add(time.Minute)
	reserved := map[string]int{}
	reserve := func(id, _ string) bool {
		if id == busy.ID && reserved[id] >= 3 {
			return false
		}
		reserved[id]++
		return true
	}
	cl, err := b.s.DeliveryClaim(b.ctx, &store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10, Reserve: reserve})
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, c := range cl {
		per[c.Delivery.EndpointID]++
	}
	if per[busy.ID] != 3 || reserved[busy.ID] != 3 {
		t.Errorf("busy endpoint got %d deliveries (%d reserved), want its capacity 3", per[busy.ID], reserved[busy.ID])
	}
	if len(cl) != reserved[busy.ID]+reserved[quiet.ID] {
		t.Errorf("claimed %d deliveries with %d reservations: every claim is reserved once", len(cl), reserved[busy.ID]+reserved[quiet.ID])
	}
	// With the busy endpoint full, the quiet one's late delivery is reached
	// past the busy one's backlog.
	cl, err = b.s.DeliveryClaim(b.ctx, &store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 1,
		Full: []string{busy.ID}, Reserve: func(id, _ string) bool { return id != busy.ID }})
	if err != nil {
		t.Fatal(err)
	}
	if per[quiet.ID] == 0 && (len(cl) != 1 || cl[0].Delivery.ID != late.Deliveries[0].ID) {
		t.Errorf("with the busy endpoint full, claimed %v; want the quiet endpoint's delivery", ids(cl, func(c *store.Claim) string { return c.Delivery.EndpointID }))
	}
}

// One account's deep backlog over several endpoints: Reserve is told each
// delivery's account, so the caller can cap the account; once the account
// is full (FullAccounts) its rows are skipped in the query, never offered
// again, and another account's later delivery is reached past them.
func testClaimAccountCapacity(t *testing.T, b *bundle) {
	hostile, calm := b.account(t), b.account(t)
	accountOf := map[string]string{}
	for range 3 {
		e := b.endpoint(t, hostile)
		accountOf[e.ID] = hostile.ID
	}
	quiet := b.endpoint(t, calm)
	accountOf[quiet.ID] = calm.ID
	for i := range 20 { // 60 due deliveries, all older than calm's one
		b.event(t, hostile, "call.received", t0.Add(time.Duration(i)*time.Millisecond))
	}
	late := b.event(t, calm, "call.received", t0.Add(time.Second))
	now := t0.Add(time.Minute)

	const capacity = 4
	perAccount := map[string]int{}
	asked := map[string]int{}
	reserve := func(endpointID, accountID string) bool {
		if want := accountOf[endpointID]; accountID != want {
			t.Errorf("Reserve(%s, %s): the endpoint belongs to account %s", endpointID, accountID, want)
		}
		asked[accountID]++
		if perAccount[accountID] >= capacity {
			return false
		}
		perAccount[accountID]++
		return true
	}
	cl, err := b.s.DeliveryClaim(b.ctx, &store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10, Reserve: reserve})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range cl {
		got[c.Delivery.AccountID]++
	}
	if got[hostile.ID] != capacity || len(cl) != perAccount[hostile.ID]+perAccount[calm.ID] {
		t.Errorf("claimed %d of the full account (%d in all, %d reserved); want its capacity %d, each claim reserved once",
			got[hostile.ID], len(cl), perAccount[hostile.ID]+perAccount[calm.ID], capacity)
	}

	// The account is full: its 56 remaining due rows are left out of the
	// query (Reserve is never asked about them), and calm's late delivery
	// is claimed although 2×Limit of hostile's rows lie before it.
	clear(asked)
	cl, err = b.s.DeliveryClaim(b.ctx, &store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 1,
		FullAccounts: []string{hostile.ID}, Reserve: reserve})
	if err != nil {
		t.Fatal(err)
	}
	if asked[hostile.ID] != 0 {
		t.Errorf("Reserve was asked %d times about deliveries of a full account; want them skipped in the query", asked[hostile.ID])
	}
	if got[calm.ID] == 0 && (len(cl) != 1 || cl[0].Delivery.ID != late.Deliveries[0].ID) {
		t.Errorf("with the hostile account full, claimed %v; want the other account's delivery %s",
			ids(cl, func(c *store.Claim) string { return c.Delivery.ID }), late.Deliveries[0].ID)
	}
	if cl := b.claim(t, now, 100); len(cl) != 20*3-capacity {
		t.Errorf("after the account limit, %d still claimable; want the %d left of the full account", len(cl), 20*3-capacity)
	}

	// Full endpoints and full accounts together: nothing else is due.
	if cl, err := b.s.DeliveryClaim(b.ctx, &store.DeliveryClaimParams{Now: now.Add(2 * time.Minute), LeaseUntil: now.Add(3 * time.Minute),
		Limit: 10, Full: []string{quiet.ID}, FullAccounts: []string{hostile.ID}}); err != nil || len(cl) != 0 {
		t.Errorf("with every account full, claimed %d (err %v); want none", len(cl), err)
	}
}

func testCompleteSuccessAndRetry(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a)
	r := b.event(t, a, "call.received", t0)
	id := r.Deliveries[0].ID

	c := b.claim(t, t0, 1)[0]
	retryAt := t0.Add(30 * time.Second)
	b.complete(t, t0.Add(time.Second), 3, fail(c, t0, retryAt))
	d := wantStatus(t, b, id, hook.StatusPending)
	if d.Attempts != 1 || !d.NextAttemptAt.Equal(retryAt) || d.LastStatusCode != 500 || d.LastError != "http_status: 500 Internal Server Error" {
		t.Errorf("after failed attempt: %+v", d)
	}
	if cl := b.claim(t, retryAt.Add(-time.Millisecond), 1); len(cl) != 0 {
		t.Errorf("claimed before the retry was due")
	}
	c = b.claim(t, retryAt, 1)[0]
	if c.Delivery.Attempts != 1 {
		t.Errorf("claim attempts = %d, want 1", c.Delivery.Attempts)
	}
	success := ok(c, retryAt)
	b.complete(t, retryAt, 3, success)
	d = wantStatus(t, b, id, hook.StatusSucceeded)
	if d.Attempts != 2 || !d.NextAttemptAt.IsZero() || d.LastStatusCode != 200 || d.LastError != "" {
		t.Errorf("after success: %+v", d)
	}
	// The same batch sent again (its first commit answer was lost) counts once.
	b.complete(t, retryAt, 3, success)
	if d := b.delivery(t, id); d.Attempts != 2 {
		t.Errorf("after a re-sent result: attempts = %d, want 2", d.Attempts)
	}
	atts, err := b.s.AttemptList(b.ctx, &store.AttemptListParams{DeliveryID: id, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 2 || atts[0].Number != 1 || atts[1].Number != 2 || atts[0].StatusCode != 500 || atts[1].Error != "" ||
		atts[0].Duration != 12*time.Millisecond || atts[0].RequestHeaders["webhook-id"] != r.Event.ID || atts[0].DeliveryID != id {
		t.Errorf("attempts = %+v %+v", atts[0], atts[1])
	}
	page, _ := b.s.AttemptList(b.ctx, &store.AttemptListParams{DeliveryID: id, After: 1, Limit: 10})
	if len(page) != 1 || page[0].Number != 2 {
		t.Errorf("attempts after 1 = %d", len(page))
	}
	if got := b.getEndpoint(t, e.ID).ConsecutiveFailures; got != 0 {
		t.Errorf("consecutive failures = %d, want 0", got)
	}
}

func testCompleteAutoDisable(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a)
	now := t0
	failDelivery := func() {
		b.event(t, a, "call.received", now)
		c := b.claim(t, now, 1)[0]
		b.complete(t, now, 3, fail(c, now, time.Time{}))
		now = now.Add(time.Second)
	}
	failDelivery()
	failDelivery()
	if got := b.getEndpoint(t, e.ID); got.ConsecutiveFailures != 2 || !got.Enabled {
		t.Fatalf("after 2 failed deliveries: failures=%d enabled=%v", got.ConsecutiveFailures, got.Enabled)
	}
	// A success resets the count.
	b.event(t, a, "call.received", now)
	b.complete(t, now, 3, ok(b.claim(t, now, 1)[0], now))
	if got := b.getEndpoint(t, e.ID).ConsecutiveFailures; got != 0 {
		t.Fatalf("after a success: failures=%d, want 0", got)
	}
	failDelivery()
	failDelivery()
	pending := b.event(t, a, "sms.received", now) // will be canceled by the disable
	b.event(t, a, "call.received", now)
	cl := b.claim(t, now, 10)
	var target *store.Claim
	for _, c := range cl {
		if c.Delivery.ID != pending.Deliveries[0].ID {
			target = c
		}
	}
	res := b.complete(t, now, 3, fail(target, now, time.Time{}))
	if len(res.Disabled) != 1 || res.Disabled[0].EndpointID != e.ID || res.Disabled[0].Reason != hook.ReasonConsecutiveFailures {
		t.Fatalf("Disabled = %+v", res.Disabled)
	}
	got := b.getEndpoint(t, e.ID)
	if got.Enabled || got.DisabledReason != hook.ReasonConsecutiveFailures || !got.DisabledAt.Equal(now) || got.ConsecutiveFailures != 3 {
		t.Errorf("after 3rd failed delivery: %+v", got)
	}
	d := wantStatus(t, b, pending.Deliveries[0].ID, hook.StatusCanceled)
	if d.LastError != hook.CanceledDisabled {
		t.Errorf("canceled last_error = %q", d.LastError)
	}
}

func testCompleteGone(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a)
	r := b.event(t, a, "call.received", t0)
	c := b.claim(t, t0, 1)[0]
	// Even with a retry offered, 410 ends the delivery.
	res := b.complete(t, t0, 3, result(c, t0, 410, "http_status: 410 Gone", time.Time{}))
	if len(res.Disabled) != 1 || res.Disabled[0].Reason != hook.ReasonGone {
		t.Fatalf("Disabled = %+v, want gone", res.Disabled)
	}
	wantStatus(t, b, r.Deliveries[0].ID, hook.StatusFailed)
	if got := b.getEndpoint(t, e.ID); got.Enabled || got.DisabledReason != hook.ReasonGone {
		t.Errorf("endpoint after 410: enabled=%v reason=%q", got.Enabled, got.DisabledReason)
	}
	if msgs := operatorClaim(t, b, t0); len(msgs) != 1 || !strings.Contains(string(msgs[0].Body), `"reason":"gone"`) {
		t.Errorf("operator messages = %v", bodies(msgs))
	}
}

func testCompleteAfterCancel(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a)
	b.event(t, a, "call.received", t0)
	b.event(t, a, "call.received", t0)
	cl := b.claim(t, t0, 10)
	off := false
	if _, err := b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, Enabled: &off, Now: t0}); err != nil {
		t.Fatal(err)
	}
	// Both attempts were under way: they are recorded but change nothing,
	// except that the one that got through counts as delivered.
	b.complete(t, t0, 1, ok(cl[0], t0), fail(cl[1], t0, time.Time{}))
	d0 := wantStatus(t, b, cl[0].Delivery.ID, hook.StatusSucceeded)
	d1 := wantStatus(t, b, cl[1].Delivery.ID, hook.StatusCanceled)
	if d0.Attempts != 1 || d1.Attempts != 1 || d1.LastError != hook.CanceledDisabled {
		t.Errorf("attempts %d/%d, last_error %q", d0.Attempts, d1.Attempts, d1.LastError)
	}
	got := b.getEndpoint(t, e.ID)
	if got.DisabledReason != hook.ReasonManual || got.ConsecutiveFailures != 0 {
		t.Errorf("endpoint changed by attempts after disable: %+v", got)
	}
}

func testCompleteLostLease(t *testing.T, b *bundle) {
	a := b.account(t)
	b.endpoint(t, a)
	b.event(t, a, "call.received", t0)
	first := b.claim(t, t0, 1)[0]
	later := t0.Add(time.Minute)
	second := b.claim(t, later, 1)[0] // the first lease ran out
	b.complete(t, later, 3, fail(first, later, later.Add(time.Hour)))
	d := wantStatus(t, b, first.Delivery.ID, hook.StatusPending)
	if d.Attempts != 1 {
		t.Errorf("attempts = %d, want 1 (recorded)", d.Attempts)
	}
	b.complete(t, later, 3, ok(second, later))
	wantStatus(t, b, first.Delivery.ID, hook.StatusSucceeded)
}

func testRelease(t *testing.T, b *bundle) {
	a := b.account(t)
	b.endpoint(t, a)
	b.event(t, a, "call.received", t0)
	c := b.claim(t, t0, 1)[0]
	now := t0.Add(time.Second)
	if err := b.s.DeliveryRelease(b.ctx, &store.ReleaseParams{DeliveryIDs: []string{c.Delivery.ID}, Leases: []int64{c.Lease}, Now: now}); err != nil {
		t.Fatal(err)
	}
	if cl := b.claim(t, now, 1); len(cl) != 1 || cl[0].Delivery.Attempts != 0 {
		t.Errorf("released delivery not claimable at once: %d", len(cl))
	}
}

func testRedeliver(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a)
	r := b.event(t, a, "call.received", t0)
	id := r.Deliveries[0].ID
	_, err := b.s.DeliveryRedeliver(b.ctx, &store.DeliveryRedeliverParams{DeliveryID: id, Now: t0})
	wantCode(t, err, hook.EAlreadyPending)

	b.complete(t, t0, 3, ok(b.claim(t, t0, 1)[0], t0))
	now := t0.Add(time.Hour)
	nd, err := b.s.DeliveryRedeliver(b.ctx, &store.DeliveryRedeliverParams{DeliveryID: id, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if nd.ID == id || nd.EventID != r.Event.ID || nd.EndpointID != e.ID || nd.Trigger != hook.TriggerRedeliver ||
		nd.Status != hook.StatusPending || !nd.NextAttemptAt.Equal(now) {
		t.Errorf("redelivery = %+v", nd)
	}
	cl := b.claim(t, now, 1)
	if len(cl) != 1 || cl[0].Delivery.Trigger != hook.TriggerRedeliver {
		t.Fatalf("redelivery not claimable")
	}
	if _, err := b.s.DeliveryRedeliver(b.ctx, &store.DeliveryRedeliverParams{DeliveryID: "dlv_nope", Now: now}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown delivery err = %v", err)
	}
	off := false
	b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, Enabled: &off, Now: now})
	_, err = b.s.DeliveryRedeliver(b.ctx, &store.DeliveryRedeliverParams{DeliveryID: id, Now: now})
	wantCode(t, err, hook.EEndpointDisabled)
}

func testRecover(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a, withTypes("call.received"))
	old := b.event(t, a, "call.received", t0.Add(-time.Hour))     // before since
	delivered := b.event(t, a, "call.received", t0)               // will succeed
	failed := b.event(t, a, "call.received", t0.Add(time.Second)) // will fail
	b.event(t, a, "sms.received", t0.Add(2*time.Second))          // not subscribed
	cl := b.claim(t, t0.Add(time.Hour), 10)
	for _, c := range cl {
		switch c.Delivery.EventID {
		case delivered.Event.ID:
			b.complete(t, t0, 0, ok(c, t0))
		case failed.Event.ID:
			b.complete(t, t0, 0, fail(c, t0, time.Time{}))
		}
	}
	off, on := false, true
	b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, Enabled: &off, Now: t0})
	whileOff := b.event(t, a, "call.received", t0.Add(3*time.Second)) // no delivery while off
	_, err := b.s.DeliveryRecover(b.ctx, &store.DeliveryRecoverParams{EndpointID: e.ID, Since: t0, Now: t0})
	wantCode(t, err, hook.EEndpointDisabled)
	b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, Enabled: &on, Now: t0})

	now := t0.Add(time.Hour)
	n, err := b.s.DeliveryRecover(b.ctx, &store.DeliveryRecoverParams{EndpointID: e.ID, Since: t0, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// failed (no succeeded delivery) and whileOff; not old, not delivered, not the sms.
	if n != 2 {
		t.Fatalf("recovered %d, want 2", n)
	}
	got := map[string]bool{}
	for _, d := range b.list(t, store.DeliveryListParams{EndpointID: e.ID, Status: hook.StatusPending}) {
		if d.Trigger != hook.TriggerRecover {
			t.Errorf("pending delivery trigger = %s", d.Trigger)
		}
		got[d.EventID] = true
	}
	if !got[failed.Event.ID] || !got[whileOff.Event.ID] || got[old.Event.ID] || got[delivered.Event.ID] {
		t.Errorf("recovered events = %v", got)
	}
	// Pending ones are not recovered twice.
	if n, _ := b.s.DeliveryRecover(b.ctx, &store.DeliveryRecoverParams{EndpointID: e.ID, Since: t0, Now: now}); n != 0 {
		t.Errorf("second recover queued %d, want 0", n)
	}
}

func testTestRecord(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a, disabled)
	ev := newEvent(a, "webhook.test", t0)
	d := &hook.Delivery{ID: hook.NewIDAt(hook.PrefixDelivery, t0), EventID: ev.ID, EndpointID: e.ID, AccountID: a.ID,
		Trigger: hook.TriggerTest, Status: hook.StatusFailed, Attempts: 1, LastStatusCode: 503,
		LastError: "http_status: 503 Service Unavailable", CreatedAt: t0, UpdatedAt: t0}
	at := &hook.Attempt{ID: hook.NewIDAt(hook.PrefixAttempt, t0), DeliveryID: d.ID, Number: 1, Trigger: hook.TriggerTest,
		StartedAt: t0, StatusCode: 503, Error: d.LastError, ResponseBody: "down"}
	if err := b.s.TestRecord(b.ctx, &store.TestRecordParams{Event: ev, Delivery: d, Attempt: at}); err != nil {
		t.Fatal(err)
	}
	ds := b.list(t, store.DeliveryListParams{EndpointID: e.ID})
	if len(ds) != 1 || ds[0].Trigger != hook.TriggerTest || ds[0].Status != hook.StatusFailed || ds[0].Attempts != 1 {
		t.Fatalf("test deliveries = %+v", ds)
	}
	if got := b.list(t, store.DeliveryListParams{EventID: ev.ID}); len(got) != 1 {
		t.Errorf("by event id: %d", len(got))
	}
	if _, err := b.s.EventGet(b.ctx, ev.ID); err != nil {
		t.Errorf("test event not stored: %v", err)
	}
	_, err := b.s.DeliveryRedeliver(b.ctx, &store.DeliveryRedeliverParams{DeliveryID: d.ID, Now: t0})
	wantCode(t, err, hook.ENotRedeliverable)
	// The test event is not recovered: endpoints never subscribe to it.
	on := true
	b.s.EndpointUpdate(b.ctx, &store.EndpointUpdateParams{ID: e.ID, Enabled: &on, Now: t0})
	if n, _ := b.s.DeliveryRecover(b.ctx, &store.DeliveryRecoverParams{EndpointID: e.ID, Since: t0.Add(-time.Hour), Now: t0}); n != 0 {
		t.Errorf("recover queued %d test events", n)
	}
	if got := b.getEndpoint(t, e.ID).ConsecutiveFailures; got != 0 {
		t.Errorf("test changed the failure count: %d", got)
	}
}

func testDeliveryListFilters(t *testing.T, b *bundle) {
	a, other := b.account(t), b.account(t)
	e1 := b.endpoint(t, a)
	e2 := b.endpoint(t, a)
	b.endpoint(t, other)
	var evs []*store.EventCreateResult
	for i := range 3 {
		evs = append(evs, b.event(t, a, "call.received", t0.Add(time.Duration(i)*time.Second)))
	}
	b.event(t, other, "call.received", t0)
	if got := len(b.list(t, store.DeliveryListParams{AccountID: a.ID})); got != 6 {
		t.Errorf("account deliveries = %d, want 6", got)
	}
	if got := len(b.list(t, store.DeliveryListParams{})); got != 7 {
		t.Errorf("all deliveries = %d, want 7", got)
	}
	byEP := b.list(t, store.DeliveryListParams{EndpointID: e1.ID})
	if len(byEP) != 3 {
		t.Errorf("endpoint deliveries = %d, want 3", len(byEP))
	}
	if !slices.IsSortedFunc(byEP, func(x, y *hook.Delivery) int { return -compare(x.ID, y.ID) }) {
		t.Errorf("not newest first: %v", ids(byEP, deliveryID))
	}
	if got := b.list(t, store.DeliveryListParams{EventID: evs[1].Event.ID, EndpointID: e2.ID}); len(got) != 1 {
		t.Errorf("event+endpoint deliveries = %d, want 1", len(got))
	}
	c := b.claim(t, t0.Add(time.Minute), 1)[0]
	b.complete(t, t0.Add(time.Minute), 3, ok(c, t0.Add(time.Minute)))
	if got := b.list(t, store.DeliveryListParams{AccountID: a.ID, Status: hook.StatusSucceeded}); len(got) != 1 || got[0].ID != c.Delivery.ID {
		t.Errorf("succeeded deliveries = %v", ids(got, deliveryID))
	}
	// Pages: newest first, no overlap, nothing missed.
	var paged []string
	after := ""
	for {
		page := b.list(t, store.DeliveryListParams{AccountID: a.ID, Page: store.Page{After: after, Limit: 4}})
		paged = append(paged, ids(page, deliveryID)...)
		if len(page) < 4 {
			break
		}
		after = page[len(page)-1].ID
	}
	if !sameStrings(paged, ids(b.list(t, store.DeliveryListParams{AccountID: a.ID}), deliveryID)) {
		t.Errorf("paged = %v", paged)
	}
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testNextDue(t *testing.T, b *bundle) {
	a := b.account(t)
	b.endpoint(t, a)
	if _, ok, err := b.s.DeliveryNextDue(b.ctx, t0); err != nil || ok {
		t.Fatalf("empty store: NextDue ok=%v err=%v", ok, err)
	}
	b.event(t, a, "call.received", t0)
	c := b.claim(t, t0, 1)[0]
	retry := t0.Add(4 * time.Minute)
	b.complete(t, t0, 3, fail(c, t0, retry))
	next, ok, err := b.s.DeliveryNextDue(b.ctx, t0)
	if err != nil || !ok || !next.Equal(retry) {
		t.Errorf("NextDue = %v, %v, %v; want %v", next, ok, err, retry)
	}
	if _, ok, _ := b.s.DeliveryNextDue(b.ctx, retry); ok {
		t.Errorf("NextDue after the only due time: ok")
	}
}

func testOperatorMessages(t *testing.T, b *bundle) {
	a := b.account(t)
	b.endpoint(t, a)
	b.event(t, a, "call.received", t0)
	b.complete(t, t0, 1, fail(b.claim(t, t0, 1)[0], t0, time.Time{}))
	msgs, err := b.s.OperatorClaim(b.ctx, &store.OperatorClaimParams{Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 10})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("OperatorClaim = %d, %v", len(msgs), err)
	}
	if again, _ := b.s.OperatorClaim(b.ctx, &store.OperatorClaimParams{Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 10}); len(again) != 0 {
		t.Errorf("leased operator message claimed twice")
	}
	retry := t0.Add(30 * time.Second)
	if err := b.s.OperatorComplete(b.ctx, &store.OperatorCompleteParams{Now: t0,
		Results: []*store.OperatorResult{{ID: msgs[0].ID, Lease: msgs[0].Lease, Error: "connect: refused", RetryAt: retry}}}); err != nil {
		t.Fatal(err)
	}
	if next, ok, _ := b.s.DeliveryNextDue(b.ctx, t0); !ok || !next.Equal(retry) {
		t.Errorf("NextDue = %v, %v; want the operator retry %v", next, ok, retry)
	}
	again, _ := b.s.OperatorClaim(b.ctx, &store.OperatorClaimParams{Now: retry, LeaseUntil: retry.Add(time.Minute), Limit: 10})
	if len(again) != 1 || again[0].Attempts != 1 || again[0].ID != msgs[0].ID {
		t.Fatalf("retry claim = %+v", again)
	}
	b.s.OperatorComplete(b.ctx, &store.OperatorCompleteParams{Now: retry,
		Results: []*store.OperatorResult{{ID: again[0].ID, Lease: again[0].Lease, OK: true}}})
	if last, _ := b.s.OperatorClaim(b.ctx, &store.OperatorClaimParams{Now: retry.Add(time.Hour), LeaseUntil: retry.Add(2 * time.Hour), Limit: 10}); len(last) != 0 {
		t.Errorf("delivered operator message claimed again")
	}
}

func testPrune(t *testing.T, b *bundle) {
	a := b.account(t)
	b.endpoint(t, a)
	oldDone := b.event(t, a, "call.received", t0)
	b.complete(t, t0, 3, ok(b.claim(t, t0, 1)[0], t0))
	oldPending := b.event(t, a, "call.received", t0.Add(time.Second))
	recent := b.event(t, a, "call.received", t0.Add(48*time.Hour))
	// An old event redelivered recently stays, with all its deliveries.
	oldRedelivered := b.event(t, a, "sms.received", t0)
	for _, c := range b.claim(t, t0, 10) {
		if c.Delivery.ID == oldRedelivered.Deliveries[0].ID {
			b.complete(t, t0, 3, fail(c, t0, time.Time{}))
		}
	}
	later := t0.Add(30 * time.Hour)
	nd, err := b.s.DeliveryRedeliver(b.ctx, &store.DeliveryRedeliverParams{DeliveryID: oldRedelivered.Deliveries[0].ID, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range b.claim(t, later, 10) {
		if c.Delivery.ID == nd.ID {
			b.complete(t, later, 3, ok(c, later))
		}
	}
	wantStatus(t, b, nd.ID, hook.StatusSucceeded)
	res, err := b.s.Prune(b.ctx, &store.PruneParams{Before: t0.Add(24 * time.Hour), IdempotencyBefore: t0, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 1 || res.Deliveries != 1 || res.Attempts != 1 {
		t.Errorf("Prune = %+v, want 1/1/1", res)
	}
	if _, err := b.s.EventGet(b.ctx, oldDone.Event.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old delivered event kept: %v", err)
	}
	if _, err := b.s.DeliveryGet(b.ctx, oldDone.Deliveries[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old delivery kept: %v", err)
	}
	for _, r := range []*store.EventCreateResult{oldPending, recent, oldRedelivered} {
		if _, err := b.s.EventGet(b.ctx, r.Event.ID); err != nil {
			t.Errorf("event %s pruned: %v", r.Event.ID, err)
		}
	}
}

func testWorkAvailable(t *testing.T, b *bundle) {
	a := b.account(t)
	b.endpoint(t, a)
	// Drain a signal left by setup.
	select {
	case <-b.s.WorkAvailable():
	default:
	}
	b.event(t, a, "call.received", t0)
	select {
	case <-b.s.WorkAvailable():
	case <-time.After(10 * time.Second):
		t.Fatal("no WorkAvailable signal after EventCreate")
	}
}

func testEventHandoff(t *testing.T, b *bundle) {
	a := b.account(t)
	taken := b.endpoint(t, a)
	left := b.endpoint(t, a)
	var asked []string
	until := t0.Add(30 * time.Second)
	res, err := b.s.EventCreate(b.ctx, &store.EventCreateParams{Event: newEvent(a, "call.received", t0),
		Handoff: &store.Handoff{Until: until, Reserve: func(id, account string) bool {
			if account != a.ID {
				t.Errorf("Reserve(%s, %s): want the event's account %s", id, account, a.ID)
			}
			asked = append(asked, id)
			return id == taken.ID
		}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 2 || len(res.Deliveries) != 2 || len(res.Claims) != 1 {
		t.Fatalf("asked %d, deliveries %d, claims %d; want 2, 2, 1", len(asked), len(res.Deliveries), len(res.Claims))
	}
	c := res.Claims[0]
	if c.Delivery.EndpointID != taken.ID || c.Lease == 0 || c.URL != taken.URL || string(c.Body) != string(res.Event.Body) ||
		len(c.Keys) != 1 || c.Keys[0].Value != taken.Keys[0].Value {
		t.Errorf("handed-off claim = %+v", c)
	}
	// Only the other delivery is claimable; the handed-off one is leased.
	cl := b.claim(t, t0.Add(time.Second), 10)
	if len(cl) != 1 || cl[0].Delivery.EndpointID != left.ID {
		t.Fatalf("claimable after handoff: %v", ids(cl, func(c *store.Claim) string { return c.Delivery.EndpointID }))
	}
	b.complete(t, t0.Add(time.Second), 3, ok(c, t0.Add(time.Second)))
	wantStatus(t, b, c.Delivery.ID, hook.StatusSucceeded)
	// Had the caller died, the lease would end and the delivery be due.
	r2, _ := b.s.EventCreate(b.ctx, &store.EventCreateParams{Event: newEvent(a, "sms.received", t0),
		Handoff: &store.Handoff{Until: until, Reserve: func(id, _ string) bool { return id == taken.ID }}})
	if cl := b.claim(t, until.Add(-time.Millisecond), 10); containsID(cl, r2.Claims[0].Delivery.ID) {
		t.Errorf("handed-off delivery claimed before its lease ended")
	}
	if cl := b.claim(t, until, 10); !containsID(cl, r2.Claims[0].Delivery.ID) {
		t.Errorf("handed-off delivery not claimable after its lease ended")
	}
}

func containsID(cl []*store.Claim, id string) bool {
	return slices.ContainsFunc(cl, func(c *store.Claim) bool { return c.Delivery.ID == id })
}

// Requests that fail (idempotency conflicts) among many that succeed, all
// at once: each failure is its own, the others are stored.
func testEventCreateConflictsInBatch(t *testing.T, b *bundle) {
	a := b.account(t)
	b.endpoint(t, a)
	var (
		wg                          sync.WaitGroup
		mu                          sync.Mutex
		created, replayed, conflict int
		firstID                     string
	)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &store.EventCreateParams{Event: newEvent(a, "call.received", t0)}
			if i%2 == 0 {
				p.IdempotencyKey, p.RequestHash, p.IdempotencyTTL = "shared", []byte(fmt.Sprint("h", i%4)), time.Hour
			}
			r, err := b.s.EventCreate(b.ctx, p)
			mu.Lock()
			defer mu.Unlock()
			var he *hook.Error
			switch {
			case errors.As(err, &he) && he.Code == hook.EIdempotencyConflict:
				conflict++
			case err != nil:
				t.Errorf("EventCreate: %v", err)
			case r.Replayed:
				replayed++
				if firstID != "" && r.Event.ID != firstID {
					t.Errorf("replay answered %s, want %s", r.Event.ID, firstID)
				}
			case p.IdempotencyKey != "":
				created++
				firstID = r.Event.ID
			}
		}()
	}
	wg.Wait()
	// One of the 50 keyed requests created its event; the 24 others with
	// the same hash replayed it, the 25 with the other hash conflicted.
	if created != 1 || replayed != 24 || conflict != 25 {
		t.Errorf("keyed requests: %d created, %d replayed, %d conflicts; want 1, 24, 25", created, replayed, conflict)
	}
	if got := len(b.list(t, store.DeliveryListParams{AccountID: a.ID, Page: store.Page{Limit: 1000}})); got != 51 {
		t.Errorf("stored deliveries = %d, want 51 (50 without a key, 1 with)", got)
	}
}
