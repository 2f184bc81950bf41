package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// testEndpointKeysReseal: every endpoint's keys, deleted endpoints'
// included, pass through Reseal once per pass, in batches; what it
// changes is stored and used from then on; a failing batch stores
// nothing; Scrub runs in both modes.
func testEndpointKeysReseal(t *testing.T, b *bundle) {
	a := b.account(t)
	var eps []*hook.Endpoint
	for range 5 {
		eps = append(eps, b.endpoint(t, a))
	}
	now := t0.Add(time.Hour)
	// Two keys on the first endpoint (a rotation in its overlap), one
	// endpoint deleted.
	if _, err := b.s.EndpointRotateKey(b.ctx, &store.EndpointRotateKeyParams{ID: eps[0].ID,
		Key: hook.Key{Value: "whsec_second", CreatedAt: now}, Overlap: 24 * time.Hour, Now: now}); err != nil {
		t.Fatal(err)
	}
	if err := b.s.EndpointDelete(b.ctx, eps[4].ID, now); err != nil {
		t.Fatal(err)
	}
	seal := func(id string, in []hook.Key) ([]hook.Key, bool, error) {
		out := slices.Clone(in)
		changed := false
		for i := range out {
			if !strings.HasPrefix(out[i].Value, "sealed:") {
				out[i].Value, changed = "sealed:"+out[i].Value, true
			}
		}
		return out, changed, nil
	}
	pass := func(fn func(string, []hook.Key) ([]hook.Key, bool, error)) (seen []string, changed int) {
		t.Helper()
		p := &store.EndpointKeysResealParams{Limit: 2, Reseal: fn}
		for {
			res, err := b.s.EndpointKeysReseal(b.ctx, p)
			if err != nil {
				t.Fatalf("EndpointKeysReseal(after %q): %v", p.After, err)
			}
			if res.Seen == 0 {
				if res.Last != "" {
					t.Errorf("EndpointKeysReseal found nothing but Last = %q", res.Last)
				}
				return seen, changed
			}
			if res.Seen > p.Limit {
				t.Fatalf("EndpointKeysReseal saw %d endpoints, limit %d", res.Seen, p.Limit)
			}
			changed += res.Changed
			p.After = res.Last
			seen = append(seen, res.Last)
		}
	}
	var passed []string
	record := func(id string, in []hook.Key) ([]hook.Key, bool, error) {
		passed = append(passed, id)
		return seal(id, in)
	}
	if _, changed := pass(record); changed != 5 {
		t.Errorf("first pass changed %d endpoints, want 5 (the deleted one included)", changed)
	}
	want := ids(eps, func(e *hook.Endpoint) string { return e.ID })
	slices.Sort(want)
	if !slices.Equal(passed, want) {
		t.Errorf("first pass passed %v, want every endpoint once in id order %v", passed, want)
	}
	if _, changed := pass(seal); changed != 0 {
		t.Errorf("second pass changed %d endpoints, want 0", changed)
	}
	e := b.getEndpoint(t, eps[0].ID)
	if got := ids(e.Keys, func(k hook.Key) string { return k.Value }); !sameStrings(got,
		[]string{"sealed:whsec_second", "sealed:whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}) || !e.Keys[1].ExpiresAt.Equal(now.Add(24*time.Hour)) {
		t.Errorf("keys after reseal = %+v, want both sealed, expiry kept", e.Keys)
	}
	// Deliveries use the stored keys.
	b.event(t, a, "call.received", now)
	for _, c := range b.claim(t, now, 10) {
		for _, k := range c.Keys {
			if !strings.HasPrefix(k.Value, "sealed:") {
				t.Errorf("claim of %s has key %q, want the resealed keys", c.Delivery.EndpointID, k.Value)
			}
		}
	}

	// A failing batch stores nothing.
	boom := errors.New("boom")
	_, err := b.s.EndpointKeysReseal(b.ctx, &store.EndpointKeysResealParams{Limit: 10,
		Reseal: func(id string, in []hook.Key) ([]hook.Key, bool, error) {
			if id == want[3] {
				return nil, false, boom
			}
			return []hook.Key{{Value: "whsec_overwritten", CreatedAt: now}}, true, nil
		}})
	if !errors.Is(err, boom) {
		t.Fatalf("EndpointKeysReseal with a failing Reseal: err = %v, want it", err)
	}
	for _, id := range want[:3] {
		if e, err := b.s.EndpointGet(b.ctx, id); err == nil && !strings.HasPrefix(e.Keys[0].Value, "sealed:") {
			t.Errorf("endpoint %s has keys %+v after a failed batch, want them unchanged", id, e.Keys)
		}
	}

	for _, rewrite := range []bool{false, true} {
		if err := b.s.Scrub(b.ctx, &store.ScrubParams{Rewrite: rewrite}); err != nil {
			t.Errorf("Scrub(Rewrite %v): %v", rewrite, err)
		}
	}
	if got := b.getEndpoint(t, eps[1].ID); !strings.HasPrefix(got.Keys[0].Value, "sealed:") {
		t.Errorf("keys after Scrub = %+v", got.Keys)
	}
}
