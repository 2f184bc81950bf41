package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// keyed is an event to create with an idempotency key.
func keyed(a *hook.Account, typ string, at time.Time, key, hash string) *store.EventCreateParams {
	return &store.EventCreateParams{Event: newEvent(a, typ, at), IdempotencyKey: key,
		RequestHash: []byte(hash), IdempotencyTTL: 24 * time.Hour}
}

// A batch answers each item on its own and in order: new events with
// their fan-out, replays of keys stored before or earlier in the same
// batch, conflicts that leave nothing behind; every item answered with an
// id is stored.
func testEventCreateBatch(t *testing.T, b *bundle) {
	a, other := b.account(t), b.account(t)
	all := b.endpoint(t, a)
	b.endpoint(t, a, withTypes("sms.received"))
	b.endpoint(t, other)
	stored, err := b.s.EventCreate(b.ctx, keyed(a, "call.received", t0, "k0", "h0"))
	if err != nil {
		t.Fatal(err)
	}
	expired, err := b.s.EventCreate(b.ctx, keyed(a, "call.received", t0.Add(-25*time.Hour), "old", "hold"))
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Minute)
	items := []*store.EventCreateParams{
		{Event: newEvent(a, "call.received", at)},     // 0: new, to one endpoint
		keyed(a, "sms.received", at, "k1", "h1"),      // 1: new key, to two endpoints
		keyed(a, "sms.received", at, "k1", "h1"),      // 2: replays 1
		keyed(a, "call.received", at, "k1", "h2"),     // 3: conflicts with 1
		keyed(a, "call.received", at, "k0", "h0"),     // 4: replays the stored event
		keyed(a, "call.received", at, "k0", "hX"),     // 5: conflicts with the stored key
		keyed(other, "call.received", at, "k1", "h9"), // 6: same key, other account: new
		keyed(a, "call.received", at, "old", "hnew"),  // 7: expired key: new
	}
	res, err := b.s.EventCreateBatch(b.ctx, items)
	if err != nil {
		t.Fatalf("EventCreateBatch: %v", err)
	}
	if len(res) != len(items) {
		t.Fatalf("%d answers for %d items", len(res), len(items))
	}
	created := func(i, deliveries int) *store.EventCreateResult {
		t.Helper()
		r := res[i]
		if r.Err != nil || r.Result == nil || r.Result.Replayed || r.Result.Event.ID != items[i].Event.ID {
			t.Fatalf("item %d = %+v, %v; want the new event %s", i, r.Result, r.Err, items[i].Event.ID)
		}
		if len(r.Result.Deliveries) != deliveries {
			t.Errorf("item %d: %d deliveries, want %d", i, len(r.Result.Deliveries), deliveries)
		}
		if _, err := b.s.EventGet(b.ctx, r.Result.Event.ID); err != nil {
			t.Errorf("item %d answered with an id but not stored: %v", i, err)
		}
		return r.Result
	}
	replayed := func(i int, of *store.EventCreateResult) {
		t.Helper()
		r := res[i]
		if r.Err != nil || r.Result == nil || !r.Result.Replayed || r.Result.Event.ID != of.Event.ID ||
			!sameStrings(ids(r.Result.Deliveries, deliveryID), ids(of.Deliveries, deliveryID)) {
			t.Errorf("item %d = %+v, %v; want a replay of %s", i, r.Result, r.Err, of.Event.ID)
		}
	}
	conflicting := func(i int) {
		t.Helper()
		if res[i].Result != nil {
			t.Errorf("item %d: answered %+v, want a conflict", i, res[i].Result)
		}
		wantCode(t, res[i].Err, hook.EIdempotencyConflict)
		if _, err := b.s.EventGet(b.ctx, items[i].Event.ID); err == nil {
			t.Errorf("item %d: conflicting event stored", i)
		}
	}
	r0 := created(0, 1)
	if r0.Deliveries[0].EndpointID != all.ID {
		t.Errorf("item 0 delivered to %s, want %s", r0.Deliveries[0].EndpointID, all.ID)
	}
	r1 := created(1, 2)
	replayed(2, r1)
	conflicting(3)
	replayed(4, stored)
	conflicting(5)
	created(6, 1)
	if r7 := created(7, 1); r7.Event.ID == expired.Event.ID {
		t.Errorf("expired key replayed")
	}
	// a: stored (1) + expired (1) + item 0 (1) + item 1 (2) + item 7 (1).
	if n := len(b.list(t, store.DeliveryListParams{AccountID: a.ID})); n != 6 {
		t.Errorf("account a has %d deliveries, want 6", n)
	}
	// Every new delivery is due for the claim loop.
	if cl := b.claim(t, at, 100); len(cl) != 7 { // 6 of a (all pending) + 1 of other
		t.Errorf("claimed %d deliveries, want 7", len(cl))
	}

	// The same batch again: the keys replay what the first one stored.
	again := make([]*store.EventCreateParams, len(items))
	for i, p := range items {
		q := *p
		q.Event = newEvent(a, p.Event.Type, at.Add(time.Minute))
		q.Event.AccountID = p.Event.AccountID
		again[i] = &q
	}
	res2, err := b.s.EventCreateBatch(b.ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 2, 6, 7} {
		if r := res2[i]; r.Err != nil || !r.Result.Replayed || r.Result.Event.ID != res[i].Result.Event.ID {
			t.Errorf("second batch, item %d = %+v, %v; want a replay of %s", i, r.Result, r.Err, res[i].Result.Event.ID)
		}
	}
	if r := res2[0]; r.Err != nil || r.Result.Replayed || r.Result.Event.ID != again[0].Event.ID {
		t.Errorf("second batch, item 0 without a key = %+v, %v; want a new event", r.Result, r.Err)
	}

	// An empty batch stores nothing and answers nothing.
	if r, err := b.s.EventCreateBatch(b.ctx, nil); err != nil || len(r) != 0 {
		t.Errorf("empty batch = %v, %v", r, err)
	}
}

// A batch hands its new deliveries off like single events do, and wakes
// the claim loop for those it did not hand off.
func testEventCreateBatchHandoff(t *testing.T, b *bundle) {
	a := b.account(t)
	taken := b.endpoint(t, a)
	b.endpoint(t, a)
	until := t0.Add(30 * time.Second)
	var (
		mu    sync.Mutex
		asked int
	)
	h := &store.Handoff{Until: until, Reserve: func(id, _ string) bool {
		mu.Lock()
		defer mu.Unlock()
		asked++
		return id == taken.ID
	}}
	drain(b.s.WorkAvailable())
	var items []*store.EventCreateParams
	for i := range 3 {
		p := keyed(a, "call.received", t0, fmt.Sprintf("hk%d", i%2), fmt.Sprintf("h%d", i%2))
		p.Handoff = h
		items = append(items, p)
	}
	res, err := b.s.EventCreateBatch(b.ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	// Items 0 and 1 are new (two endpoints each); item 2 replays item 0.
	if asked != 4 {
		t.Errorf("Reserve asked %d times, want 4", asked)
	}
	var handed []string
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
		for _, c := range r.Result.Claims {
			if c.Delivery.EndpointID != taken.ID || c.Lease == 0 || string(c.Body) != string(r.Result.Event.Body) {
				t.Errorf("item %d: handed-off claim = %+v", i, c)
			}
			handed = append(handed, c.Delivery.ID)
		}
	}
	if len(handed) != 2 || len(res[2].Result.Claims) != 0 {
		t.Fatalf("handed off %d deliveries (item 2: %d), want 2 (0)", len(handed), len(res[2].Result.Claims))
	}
	select {
	case <-b.s.WorkAvailable():
	case <-time.After(10 * time.Second):
		t.Fatal("no WorkAvailable for the deliveries not handed off")
	}
	// Only those not handed off are claimable until the leases end.
	cl := b.claim(t, t0.Add(time.Second), 10)
	if len(cl) != 2 {
		t.Fatalf("claimable after handoff: %d, want 2", len(cl))
	}
	for _, c := range cl {
		if c.Delivery.EndpointID == taken.ID {
			t.Errorf("handed-off delivery %s claimed while leased", c.Delivery.ID)
		}
	}
}

// drain empties a coalesced signal channel.
func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// Batches that share idempotency keys, sent at once in different orders:
// each key makes one event, every answer for it names that event, and no
// batch fails (two batches lock their keys in the same order).
func testEventCreateBatchConcurrent(t *testing.T, b *bundle) {
	a := b.account(t)
	b.endpoint(t, a)
	const batches, keys, loose = 8, 20, 5
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		byKey   = map[string]map[string]bool{} // key → event ids answered
		fresh   = map[string]int{}             // key → answers that were not replays
		errs    []error
		answers int
	)
	for n := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var items []*store.EventCreateParams
			for j := range keys {
				k := (j*(n+1) + n) % keys // a different order per batch
				items = append(items, keyed(a, "call.received", t0, fmt.Sprintf("ck%d", k), "same"))
			}
			for range loose {
				items = append(items, &store.EventCreateParams{Event: newEvent(a, "call.received", t0)})
			}
			res, err := b.s.EventCreateBatch(b.ctx, items)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			for i, r := range res {
				if r.Err != nil {
					errs = append(errs, r.Err)
					continue
				}
				answers++
				key := items[i].IdempotencyKey
				if key == "" {
					continue
				}
				if byKey[key] == nil {
					byKey[key] = map[string]bool{}
				}
				byKey[key][r.Result.Event.ID] = true
				if !r.Result.Replayed {
					fresh[key]++
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d errors, first: %v", len(errs), errs[0])
	}
	if answers != batches*(keys+loose) {
		t.Errorf("%d answers, want %d", answers, batches*(keys+loose))
	}
	for k := range keys {
		key := fmt.Sprintf("ck%d", k)
		if len(byKey[key]) != 1 || fresh[key] != 1 {
			t.Errorf("key %s: events %v, %d new answers; want one event, answered new once", key, byKey[key], fresh[key])
		}
	}
	if n := len(b.list(t, store.DeliveryListParams{AccountID: a.ID})); n != keys+batches*loose {
		t.Errorf("%d deliveries, want %d", n, keys+batches*loose)
	}
}
