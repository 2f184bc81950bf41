package cli_test

import (
	"testing"
	"time"

	"github.com/hookd/hookd/client"
)

// TestListEvents: through the API (every call checked against the
// OpenAPI document), an account pages through its own events newest
// first, filters them by type and time, and sees no other account's; the
// admin lists any account's.
func TestListEvents(t *testing.T) {
	t.Parallel()
	b := start(t)
	acme, ac := b.account()
	globex, gc := b.account()
	before := time.Now().Add(-time.Second)
	sms := b.send(acme.ID, "sms.received")
	call := b.send(acme.ID, "call.received")
	other := b.send(globex.ID, "call.received")

	var got []string
	for ev, err := range ac.AllEvents(b.ctx, client.EventListParams{ListParams: client.ListParams{Limit: 1}}) {
		if err != nil {
			t.Fatalf("AllEvents: %v", err)
		}
		got = append(got, ev.ID)
	}
	if len(got) != 2 || got[0] != call.ID || got[1] != sms.ID {
		t.Errorf("Acme's events one per page: %v; want %s, %s", got, call.ID, sms.ID)
	}
	p, err := ac.ListEvents(b.ctx, client.EventListParams{Event: "sms.received", Since: before, Until: time.Now().Add(time.Minute)})
	if err != nil || len(p.Data) != 1 || p.Data[0].ID != sms.ID || p.Data[0].AccountID != acme.ID || len(p.Data[0].Data) == 0 {
		t.Errorf("Acme's SMS events: %+v, %v", p, err)
	}
	if p, err := gc.ListEvents(b.ctx, client.EventListParams{}); err != nil || len(p.Data) != 1 || p.Data[0].ID != other.ID {
		t.Errorf("Globex's events: %+v, %v; want only its own", p, err)
	}
	_, err = gc.ListEvents(b.ctx, client.EventListParams{AccountID: acme.ID})
	wantCode(t, err, 404, "not_found")
	_, err = ac.ListEvents(b.ctx, client.EventListParams{Event: "call.recieved"})
	wantCode(t, err, 400, "invalid_parameter")
	if p, err := b.admin.ListEvents(b.ctx, client.EventListParams{AccountID: globex.ID}); err != nil || len(p.Data) != 1 {
		t.Errorf("the admin lists Globex's events: %+v, %v", p, err)
	}
	if status, _ := b.rawCall("GET", "/v1/events?since=yesterday", acme.Token, "", nil); status != 400 {
		t.Errorf("since=yesterday: %d, want 400", status)
	}
	if status, out := b.rawCall("GET", "/", "", "", nil); status != 200 && status != 302 {
		t.Errorf("GET /: %d %v", status, out)
	}
	if status, out := b.rawCall("GET", "/openapi.json", "", "", nil); status != 200 || out["openapi"] != "3.1.0" {
		t.Errorf("GET /openapi.json: %d, openapi %v", status, out["openapi"])
	}
}
