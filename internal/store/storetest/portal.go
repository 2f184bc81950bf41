package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

func testAccountList(t *testing.T, b *bundle) {
	var ids []string
	for i := range 3 {
		a := &hook.Account{ID: hook.NewIDAt(hook.PrefixAccount, t0.Add(time.Duration(i)*time.Second)), Name: "A", CreatedAt: t0}
		if err := b.s.AccountCreate(b.ctx, a, tokenHash(a.ID)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	got, err := b.s.AccountList(b.ctx, store.Page{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != ids[2] || got[1].ID != ids[1] || got[0].Name != "A" {
		t.Fatalf("AccountList first page = %v, want %s, %s", accountIDs(got), ids[2], ids[1])
	}
	got, err = b.s.AccountList(b.ctx, store.Page{After: ids[1], Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("AccountList after %s = %v, want %s", ids[1], accountIDs(got), ids[0])
	}
}

func accountIDs(as []*hook.Account) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func testEndpointStats(t *testing.T, b *bundle) {
	a := b.account(t)
	e := b.endpoint(t, a, withTypes("call.received"))
	other := b.endpoint(t, a, withTypes("sms.received"))
	// Three deliveries to e: one succeeds in the first hour, one fails
	// for good in the third, one stays pending; one to other succeeds.
	b.event(t, a, "call.received", t0)
	b.event(t, a, "call.received", t0)
	b.event(t, a, "call.received", t0)
	b.event(t, a, "sms.received", t0)
	cl := b.claim(t, t0, 10)
	var mine []*store.Claim
	for _, c := range cl {
		if c.Delivery.EndpointID == e.ID {
			mine = append(mine, c)
		} else {
			b.complete(t, t0.Add(time.Minute), 3, ok(c, t0))
		}
	}
	if len(mine) != 3 {
		t.Fatalf("claimed %d deliveries to the endpoint, want 3", len(mine))
	}
	b.complete(t, t0.Add(10*time.Minute), 3, ok(mine[0], t0))
	b.complete(t, t0.Add(2*time.Hour+time.Minute), 3, fail(mine[1], t0.Add(2*time.Hour), time.Time{}))
	b.complete(t, t0.Add(time.Minute), 3, fail(mine[2], t0, t0.Add(time.Hour)))

	p := &store.EndpointStatsParams{EndpointID: e.ID, Start: t0, Step: time.Hour, Buckets: 4}
	got, err := b.s.EndpointStats(b.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.StatsBucket{{Start: t0, Succeeded: 1}, {Start: t0.Add(time.Hour)},
		{Start: t0.Add(2 * time.Hour), Failed: 1}, {Start: t0.Add(3 * time.Hour)}}
	if len(got) != len(want) {
		t.Fatalf("EndpointStats = %d buckets, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || got[i].Succeeded != want[i].Succeeded || got[i].Failed != want[i].Failed {
			t.Errorf("bucket %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// A window that starts after the deliveries counts nothing.
	late, err := b.s.EndpointStats(b.ctx, &store.EndpointStatsParams{EndpointID: other.ID, Start: t0.Add(time.Hour), Step: time.Hour, Buckets: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, bk := range late {
		if bk.Succeeded != 0 || bk.Failed != 0 {
			t.Errorf("late bucket %d = %+v, want empty", i, bk)
		}
	}
}

func testSessions(t *testing.T, b *bundle) {
	a := b.account(t)
	se := &store.Session{IDHash: tokenHash("session-1"), AccountID: a.ID,
		Branding:  store.Branding{ReadOnly: true, ReturnURL: "https://app.example.com/back", AccentColor: "#0a7d5a", Theme: "dark"},
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := b.s.SessionCreate(b.ctx, se); err != nil {
		t.Fatal(err)
	}
	admin := &store.Session{IDHash: tokenHash("session-2"), Admin: true, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := b.s.SessionCreate(b.ctx, admin); err != nil {
		t.Fatal(err)
	}
	got, err := b.s.SessionGet(b.ctx, se.IDHash, t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("SessionGet: %v", err)
	}
	if got.AccountID != a.ID || got.Admin || !got.ReadOnly || got.ReturnURL != se.ReturnURL || got.AccentColor != "#0a7d5a" ||
		got.Theme != "dark" || !got.ExpiresAt.Equal(se.ExpiresAt) {
		t.Errorf("SessionGet = %+v, want %+v", got, se)
	}
	if got, err := b.s.SessionGet(b.ctx, admin.IDHash, t0); err != nil || !got.Admin || got.AccountID != "" {
		t.Errorf("admin SessionGet = %+v, %v", got, err)
	}
	if _, err := b.s.SessionGet(b.ctx, se.IDHash, t0.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SessionGet at expiry: err = %v, want ErrNotFound", err)
	}
	if _, err := b.s.SessionGet(b.ctx, tokenHash("nope"), t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SessionGet unknown: err = %v, want ErrNotFound", err)
	}
	if err := b.s.SessionDelete(b.ctx, admin.IDHash); err != nil {
		t.Fatal(err)
	}
	if _, err := b.s.SessionGet(b.ctx, admin.IDHash, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SessionGet after delete: err = %v, want ErrNotFound", err)
	}
	if err := b.s.SessionDelete(b.ctx, admin.IDHash); err != nil {
		t.Errorf("second SessionDelete: %v", err)
	}
}

func testPortalLinks(t *testing.T, b *bundle) {
	a := b.account(t)
	l := &store.PortalLink{TokenHash: tokenHash("link-1"), AccountID: a.ID,
		Branding:   store.Branding{ReadOnly: true, LogoURL: "https://cdn.example.com/logo.png", Theme: "light"},
		SessionTTL: 2 * time.Hour, CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	if err := b.s.PortalLinkCreate(b.ctx, l); err != nil {
		t.Fatal(err)
	}
	expired := &store.PortalLink{TokenHash: tokenHash("link-2"), AccountID: a.ID, SessionTTL: time.Hour,
		CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	if err := b.s.PortalLinkCreate(b.ctx, expired); err != nil {
		t.Fatal(err)
	}
	got, err := b.s.PortalLinkUse(b.ctx, l.TokenHash, t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("PortalLinkUse: %v", err)
	}
	if got.AccountID != a.ID || !got.ReadOnly || got.LogoURL != l.LogoURL || got.Theme != "light" || got.SessionTTL != 2*time.Hour {
		t.Errorf("PortalLinkUse = %+v, want %+v", got, l)
	}
	if _, err := b.s.PortalLinkUse(b.ctx, l.TokenHash, t0.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second PortalLinkUse: err = %v, want ErrNotFound", err)
	}
	if _, err := b.s.PortalLinkUse(b.ctx, expired.TokenHash, t0.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PortalLinkUse at expiry: err = %v, want ErrNotFound", err)
	}
}
