package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// testEventList: events come newest first, filtered by account, type and
// acceptance time (since inclusive, until exclusive), paged by id.
func testEventList(t *testing.T, b *bundle) {
	acme, globex := b.account(t), b.account(t)
	var acmeIDs []string // oldest first
	for i, typ := range []string{"call.received", "sms.received", "call.received", "sms.received", "call.received"} {
		res := b.event(t, acme, typ, t0.Add(time.Duration(i)*time.Minute))
		acmeIDs = append(acmeIDs, res.Event.ID)
	}
	other := b.event(t, globex, "call.received", t0.Add(2*time.Minute)).Event.ID
	// A connection test's event is an event of the account too.
	testEv := newEvent(acme, "webhook.test", t0.Add(5*time.Minute))
	e := b.endpoint(t, acme)
	d := &hook.Delivery{ID: hook.NewIDAt(hook.PrefixDelivery, t0), EventID: testEv.ID, EndpointID: e.ID, AccountID: acme.ID,
		Trigger: hook.TriggerTest, Status: hook.StatusSucceeded, Attempts: 1, LastStatusCode: 204, CreatedAt: t0, UpdatedAt: t0}
	at := &hook.Attempt{ID: hook.NewIDAt(hook.PrefixAttempt, t0), DeliveryID: d.ID, Number: 1, Trigger: hook.TriggerTest,
		StartedAt: t0, StatusCode: 204}
	if err := b.s.TestRecord(b.ctx, &store.TestRecordParams{Event: testEv, Delivery: d, Attempt: at}); err != nil {
		t.Fatal(err)
	}

	list := func(p store.EventListParams) []string {
		t.Helper()
		if p.Limit == 0 {
			p.Limit = 100
		}
		evs, err := b.s.EventList(b.ctx, &p)
		if err != nil {
			t.Fatalf("EventList(%+v): %v", p, err)
		}
		return ids(evs, func(ev *hook.Event) string { return ev.ID })
	}
	rev := func(xs ...string) []string {
		out := slices.Clone(xs)
		slices.Reverse(out)
		return out
	}

	all := append(slices.Clone(acmeIDs), testEv.ID)
	if got, want := list(store.EventListParams{AccountID: acme.ID}), rev(all...); !slices.Equal(got, want) {
		t.Errorf("account's events = %v, want newest first %v", got, want)
	}
	if got := list(store.EventListParams{}); len(got) != 7 || !slices.Contains(got, other) {
		t.Errorf("every account's events = %v, want 7 including %s", got, other)
	}
	if got, want := list(store.EventListParams{AccountID: acme.ID, Type: "sms.received"}),
		rev(acmeIDs[1], acmeIDs[3]); !slices.Equal(got, want) {
		t.Errorf("sms.received = %v, want %v", got, want)
	}
	if got, want := list(store.EventListParams{AccountID: acme.ID, Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}),
		rev(acmeIDs[1], acmeIDs[2]); !slices.Equal(got, want) {
		t.Errorf("since 12:01 until 12:03 = %v, want %v (since inclusive, until exclusive)", got, want)
	}
	if got := list(store.EventListParams{AccountID: globex.ID, Type: "sms.received"}); len(got) != 0 {
		t.Errorf("globex sms.received = %v, want none", got)
	}

	// Pages of two, each after the last id of the one before.
	var paged []string
	after := ""
	for range 10 {
		page := list(store.EventListParams{AccountID: acme.ID, Page: store.Page{After: after, Limit: 2}})
		paged = append(paged, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1]
	}
	if want := rev(all...); !slices.Equal(paged, want) {
		t.Errorf("paged = %v, want %v", paged, want)
	}

	// The listed event is the stored one.
	evs, err := b.s.EventList(b.ctx, &store.EventListParams{AccountID: globex.ID, Page: store.Page{Limit: 1}})
	if err != nil || len(evs) != 1 {
		t.Fatalf("EventList(globex) = %v, %v", evs, err)
	}
	if ev := evs[0]; ev.ID != other || ev.AccountID != globex.ID || ev.Type != "call.received" ||
		!ev.CreatedAt.Equal(t0.Add(2*time.Minute)) || len(ev.Body) == 0 {
		t.Errorf("listed event = %+v", ev)
	}
}
