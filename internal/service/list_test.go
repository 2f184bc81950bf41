package service_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/service"
)

// TestListEvents: an account lists its own events newest first, a
// connection test's event among them; the admin lists any account's;
// filters and their mistakes read as a user expects.
func TestListEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	e := b.endpoint(t, b.acme)
	call := b.submit(t, b.acme.AccountID, "call.received", "").Event
	sms := b.submit(t, b.acme.AccountID, "sms.received", "").Event
	other := b.submit(t, b.globex.AccountID, "sms.received", "").Event
	res, err := b.svc.TestEndpoint(b.ctx, b.acme, e.ID)
	if err != nil || !res.OK {
		t.Fatalf("TestEndpoint = %+v, %v", res, err)
	}
	d, err := b.svc.GetDelivery(b.ctx, b.acme, res.DeliveryID)
	if err != nil {
		t.Fatal(err)
	}

	ids := func(evs []*hook.Event) []string {
		var out []string
		for _, ev := range evs {
			out = append(out, ev.ID)
		}
		return out
	}
	list := func(actor service.Actor, f service.EventFilter, p service.Page) ([]string, bool) {
		t.Helper()
		if p.Limit == 0 {
			p.Limit = 50
		}
		evs, more, err := b.svc.ListEvents(b.ctx, actor, f, p)
		if err != nil {
			t.Fatalf("ListEvents(%+v, %+v): %v", actor, f, err)
		}
		return ids(evs), more
	}

	if got, _ := list(b.acme, service.EventFilter{}, service.Page{}); !slices.Equal(got, []string{d.EventID, sms.ID, call.ID}) {
		t.Errorf("Acme's events = %v, want the test event, the SMS, the call (newest first)", got)
	}
	if got, _ := list(b.globex, service.EventFilter{}, service.Page{}); !slices.Equal(got, []string{other.ID}) {
		t.Errorf("Globex's events = %v, want only its own %s", got, other.ID)
	}
	if got, _ := list(b.admin, service.EventFilter{}, service.Page{}); len(got) != 4 {
		t.Errorf("the admin lists %v, want every account's 4 events", got)
	}
	if got, _ := list(b.admin, service.EventFilter{AccountID: b.globex.AccountID}, service.Page{}); !slices.Equal(got, []string{other.ID}) {
		t.Errorf("the admin's account_id=globex lists %v", got)
	}
	if got, _ := list(b.acme, service.EventFilter{Event: "webhook.test"}, service.Page{}); !slices.Equal(got, []string{d.EventID}) {
		t.Errorf("event=webhook.test lists %v, want the test event", got)
	}
	if got, _ := list(b.acme, service.EventFilter{Event: "call.received", Since: call.CreatedAt, Until: call.CreatedAt.Add(time.Millisecond)},
		service.Page{}); !slices.Equal(got, []string{call.ID}) {
		t.Errorf("the call's millisecond lists %v", got)
	}
	first, more := list(b.acme, service.EventFilter{}, service.Page{Limit: 2})
	rest, moreAfter := list(b.acme, service.EventFilter{}, service.Page{Limit: 2, After: first[len(first)-1]})
	if len(first) != 2 || !more || !slices.Equal(rest, []string{call.ID}) || moreAfter {
		t.Errorf("pages of 2: %v (more %v), then %v (more %v)", first, more, rest, moreAfter)
	}

	_, _, err = b.svc.ListEvents(b.ctx, b.acme, service.EventFilter{AccountID: b.globex.AccountID}, service.Page{Limit: 50})
	wantCode(t, "Acme lists with account_id=globex", err, hook.ENotFound)
	_, _, err = b.svc.ListEvents(b.ctx, b.admin, service.EventFilter{AccountID: "acc_01M8EV3Q3ZN3T3KD4HTPKPBYP9"}, service.Page{Limit: 50})
	wantCode(t, "the admin lists an unknown account", err, hook.ENotFound)
	_, _, err = b.svc.ListEvents(b.ctx, b.acme, service.EventFilter{Event: "call.recieved"}, service.Page{Limit: 50})
	wantCode(t, "a misspelt event type", err, hook.EInvalidParameter)
	if err == nil || !strings.Contains(err.Error(), "call.received, sms.received, webhook.test") {
		t.Errorf("the error for a misspelt type is %v; want the known types listed", err)
	}
	now := time.Now()
	_, _, err = b.svc.ListEvents(b.ctx, b.acme, service.EventFilter{Since: now, Until: now}, service.Page{Limit: 50})
	wantCode(t, "until equal to since", err, hook.EInvalidParameter)
}

// TestPortalLinks: a link opens one read-only session once; its branding
// is checked field by field.
func TestPortalLinks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok, expires, err := b.svc.CreatePortalLink(b.ctx, b.admin, b.acme.AccountID, service.PortalLinkInput{
		TTL: "5m", ReadOnly: true, ReturnURL: "myapp://settings", AccentColor: "#0A7D5A",
		LogoURL: "https://cdn.example.com/logo.png", Theme: "dark"})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(expires); d <= 4*time.Minute || d > 5*time.Minute {
		t.Errorf("a 5m link expires in %v", d)
	}
	id, se, err := b.svc.RedeemPortalLink(b.ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if se.Actor.AccountID != b.acme.AccountID || se.Actor.Admin || !se.ReadOnly || se.AccentColor != "#0a7d5a" ||
		se.Theme != "dark" || se.ReturnURL != "myapp://settings" {
		t.Errorf("the link's session = %+v", se)
	}
	if got, err := b.svc.SessionByID(b.ctx, id); err != nil || got.Actor != se.Actor || !got.ReadOnly {
		t.Errorf("SessionByID = %+v, %v", got, err)
	}
	if _, _, err := b.svc.RedeemPortalLink(b.ctx, tok); err != service.ErrLinkUnusable {
		t.Errorf("a second use: %v, want ErrLinkUnusable", err)
	}
	if _, _, err := b.svc.RedeemPortalLink(b.ctx, ""); err != service.ErrLinkUnusable {
		t.Errorf("no token: %v, want ErrLinkUnusable", err)
	}
	if err := b.svc.SignOut(b.ctx, id); err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.SessionByID(b.ctx, id)
	wantCode(t, "SessionByID after sign-out", err, hook.EUnauthorized)
	_, err = b.svc.SessionByID(b.ctx, "")
	wantCode(t, "SessionByID without a cookie", err, hook.EUnauthorized)

	for _, tc := range []struct {
		in    service.PortalLinkInput
		field string
	}{
		{service.PortalLinkInput{TTL: "25h"}, "ttl"},
		{service.PortalLinkInput{TTL: "soon"}, "ttl"},
		{service.PortalLinkInput{ReturnURL: "javascript:alert(1)"}, "return_url"},
		{service.PortalLinkInput{ReturnURL: "http://app.example.com/"}, "return_url"},
		{service.PortalLinkInput{ReturnURL: "https:///settings"}, "return_url"},
		{service.PortalLinkInput{ReturnURL: "https://user:pw@app.example.com/"}, "return_url"},
		{service.PortalLinkInput{ReturnURL: "settings"}, "return_url"},
		{service.PortalLinkInput{ReturnURL: "https://" + strings.Repeat("a", 3000) + ".com/"}, "return_url"},
		{service.PortalLinkInput{AccentColor: "green"}, "accent_color"},
		{service.PortalLinkInput{LogoURL: "http://cdn.example.com/logo.png"}, "logo_url"},
		{service.PortalLinkInput{Theme: "neon"}, "theme"},
	} {
		_, _, err := b.svc.CreatePortalLink(b.ctx, b.admin, b.acme.AccountID, tc.in)
		wantCode(t, "CreatePortalLink("+tc.field+")", err, hook.EInvalidParameter)
		if he, ok := err.(*hook.Error); ok && he.Field != tc.field {
			t.Errorf("CreatePortalLink(%+v) blames %q, want %q", tc.in, he.Field, tc.field)
		}
	}
	_, _, err = b.svc.CreatePortalLink(b.ctx, b.acme, b.acme.AccountID, service.PortalLinkInput{})
	wantCode(t, "CreatePortalLink by an account", err, hook.EForbidden)
	_, _, err = b.svc.CreatePortalLink(b.ctx, b.admin, "acc_01M8EV3Q3ZN3T3KD4HTPKPBYP9", service.PortalLinkInput{})
	wantCode(t, "CreatePortalLink for an unknown account", err, hook.ENotFound)
}

// TestSignIn: a token opens a session for its actor; a wrong one does not.
func TestSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, se, err := b.svc.SignIn(b.ctx, " "+adminToken+"\n")
	if err != nil || !se.Actor.Admin || id == "" {
		t.Fatalf("SignIn(admin token) = %q, %+v, %v", id, se, err)
	}
	if d := time.Until(se.ExpiresAt); d <= 11*time.Hour {
		t.Errorf("a token session lasts %v, want 12h", d)
	}
	_, _, err = b.svc.SignIn(b.ctx, "hkt_wrong")
	wantCode(t, "SignIn(wrong token)", err, hook.EUnauthorized)
}

// TestListAccountsAndStats: the admin pages through accounts; an account
// sees its endpoint's finished deliveries by hour, and a bad window is
// refused.
func TestListAccountsAndStats(t *testing.T) {
	t.Parallel()
	b := setup(t)
	as, more, err := b.svc.ListAccounts(b.ctx, b.admin, service.Page{Limit: 1})
	if err != nil || len(as) != 1 || !more || as[0].ID != b.globex.AccountID {
		t.Errorf("ListAccounts(limit 1) = %v, more %v, %v; want Globex (the newest) and more", as, more, err)
	}
	as, more, err = b.svc.ListAccounts(b.ctx, b.admin, service.Page{Limit: 1, After: b.globex.AccountID})
	if err != nil || len(as) != 1 || more || as[0].ID != b.acme.AccountID {
		t.Errorf("ListAccounts(after Globex) = %v, more %v, %v; want Acme and no more", as, more, err)
	}
	_, _, err = b.svc.ListAccounts(b.ctx, b.acme, service.Page{Limit: 1})
	wantCode(t, "ListAccounts by an account", err, hook.EForbidden)

	e := b.endpoint(t, b.acme)
	for _, tc := range []struct {
		window  string
		buckets int
	}{{"", 24}, {"24h", 24}, {"7d", 7}} {
		bs, err := b.svc.EndpointStats(b.ctx, b.acme, e.ID, tc.window)
		if err != nil || len(bs) != tc.buckets {
			t.Errorf("EndpointStats(%q) = %d buckets, %v; want %d", tc.window, len(bs), err, tc.buckets)
		}
	}
	_, err = b.svc.EndpointStats(b.ctx, b.acme, e.ID, "1y")
	wantCode(t, "EndpointStats(1y)", err, hook.EInvalidParameter)
	_, err = b.svc.EndpointStats(b.ctx, b.globex, e.ID, "")
	wantCode(t, "EndpointStats of another account's endpoint", err, hook.ENotFound)
}

// TestUpdateEndpointFields: a PATCH changes what it names and checks it
// as create does.
func TestUpdateEndpointFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	e := b.endpoint(t, b.acme)
	url := b.url + "/v2"
	types := []string{"sms.received"}
	desc := "CRM sync"
	got, err := b.svc.UpdateEndpoint(b.ctx, b.acme, e.ID, service.UpdateEndpointInput{URL: &url, EventTypes: &types, Description: &desc})
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != url || !slices.Equal(got.EventTypes, types) || got.Description != desc {
		t.Errorf("after PATCH the endpoint is %+v", got)
	}
	bad := "http://example.com/"
	_, err = b.svc.UpdateEndpoint(b.ctx, b.acme, e.ID, service.UpdateEndpointInput{URL: &bad})
	wantCode(t, "PATCH url http://", err, hook.EInvalidURL)
	none := []string{}
	_, err = b.svc.UpdateEndpoint(b.ctx, b.acme, e.ID, service.UpdateEndpointInput{EventTypes: &none})
	wantCode(t, "PATCH event_types []", err, hook.EInvalidEventTypes)
	long := strings.Repeat("d", 1025)
	_, err = b.svc.UpdateEndpoint(b.ctx, b.acme, e.ID, service.UpdateEndpointInput{Description: &long})
	wantCode(t, "PATCH a long description", err, hook.EInvalidParameter)
	if again, _ := b.svc.GetEndpoint(b.ctx, b.acme, e.ID); again.URL != url || again.Description != desc {
		t.Errorf("refused PATCHes changed the endpoint: %+v", again)
	}
}

// TestDeliveriesAndAttempts: a connection test's delivery lists one
// attempt; filters check what they name.
func TestDeliveriesAndAttempts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	e := b.endpoint(t, b.acme)
	res, err := b.svc.TestEndpoint(b.ctx, b.acme, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	as, more, err := b.svc.ListAttempts(b.ctx, b.acme, res.DeliveryID, 0, 10)
	if err != nil || len(as) != 1 || more || as[0].ID != res.AttemptID || as[0].Trigger != hook.TriggerTest {
		t.Errorf("ListAttempts = %+v, more %v, %v; want the test's one attempt", as, more, err)
	}
	if as, _, _ := b.svc.ListAttempts(b.ctx, b.acme, res.DeliveryID, 1, 10); len(as) != 0 {
		t.Errorf("attempts after number 1: %d, want 0", len(as))
	}
	_, _, err = b.svc.ListAttempts(b.ctx, b.acme, "dlv_01M8EV4Q3H5KVV7C5JED48AVZQ", 0, 10)
	wantCode(t, "ListAttempts of an unknown delivery", err, hook.ENotFound)
	ds, _, err := b.svc.ListDeliveries(b.ctx, b.acme, service.DeliveryFilter{Status: hook.StatusSucceeded, EndpointID: e.ID}, service.Page{Limit: 10})
	if err != nil || len(ds) != 1 || ds[0].ID != res.DeliveryID {
		t.Errorf("succeeded deliveries = %v, %v", ds, err)
	}
	_, _, err = b.svc.ListDeliveries(b.ctx, b.acme, service.DeliveryFilter{Status: "done"}, service.Page{Limit: 10})
	wantCode(t, "status=done", err, hook.EInvalidParameter)
	_, _, err = b.svc.ListDeliveries(b.ctx, b.acme, service.DeliveryFilter{EventID: "evt_01M8EV44EHM0GC4397T62E6P09"}, service.Page{Limit: 10})
	wantCode(t, "an unknown event_id", err, hook.ENotFound)
	_, err = b.svc.Redeliver(b.ctx, b.acme, res.DeliveryID)
	wantCode(t, "redeliver a test delivery", err, hook.ENotRedeliverable)
	if _, err := b.svc.GetAccount(b.ctx, b.admin, b.acme.AccountID); err != nil {
		t.Errorf("GetAccount by the admin: %v", err)
	}
	_, err = b.svc.GetAccount(b.ctx, b.admin, "acc_01M8EV3Q3ZN3T3KD4HTPKPBYP9")
	wantCode(t, "GetAccount(unknown)", err, hook.ENotFound)
	if types := b.svc.EventTypes(); len(types) != 2 || types[0].Event != "call.received" {
		t.Errorf("EventTypes = %v", types)
	}
}
