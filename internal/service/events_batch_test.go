package service_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/service"
)

func TestSubmitEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.endpoint(t, b.acme, "call.received")
	b.endpoint(t, b.acme, "*")
	b.endpoint(t, b.globex, "*")
	call := func(account, key string) service.SubmitEventInput {
		return service.SubmitEventInput{AccountID: account, Event: "call.received", Data: example(t, "call.received"), IdempotencyKey: key}
	}
	stored := b.submit(t, b.acme.AccountID, "call.received", "before")
	bad := call(b.acme.AccountID, "")
	bad.Data = json.RawMessage(`{"call_id":1}`)
	sms := call(b.acme.AccountID, "k1")
	sms.Event, sms.Data = "sms.received", example(t, "sms.received")
	ins := []service.SubmitEventInput{
		call(b.acme.AccountID, ""),       // 0: two deliveries
		bad,                              // 1: invalid data
		call("acc_missing", ""),          // 2: no such account
		call(b.acme.AccountID, "k1"),     // 3: new key
		call(b.acme.AccountID, "k1"),     // 4: replays 3
		sms,                              // 5: conflicts with 3
		call(b.acme.AccountID, "before"), // 6: replays the event stored before
		call(b.globex.AccountID, "k1"),   // 7: keys are per account
		{Event: "call.received"},         // 8: no account
	}
	res, err := b.svc.SubmitEvents(b.ctx, b.admin, ins)
	if err != nil {
		t.Fatalf("SubmitEvents: %v", err)
	}
	if len(res) != len(ins) {
		t.Fatalf("%d answers for %d events", len(res), len(ins))
	}
	for i, want := range map[int]string{1: hook.EInvalidEvent, 2: hook.EInvalidReference, 5: hook.EIdempotencyConflict, 8: hook.EInvalidParameter} {
		if res[i].Result != nil {
			t.Errorf("item %d: stored %s, want an error", i, res[i].Result.Event.ID)
		}
		wantCode(t, fmt.Sprintf("item %d", i), res[i].Err, want)
	}
	for _, i := range []int{0, 3, 7} {
		r := res[i]
		if r.Err != nil || r.Result.Replayed {
			t.Fatalf("item %d = %+v, %v; want a new event", i, r.Result, r.Err)
		}
		ev, err := b.svc.GetEvent(b.ctx, b.admin, r.Result.Event.ID)
		if err != nil || ev.AccountID != ins[i].AccountID {
			t.Errorf("item %d: event %s not readable (%v)", i, r.Result.Event.ID, err)
		}
	}
	if n := len(res[0].Result.Deliveries); n != 2 {
		t.Errorf("item 0 has %d deliveries, want 2", n)
	}
	if r := res[4]; r.Err != nil || !r.Result.Replayed || r.Result.Event.ID != res[3].Result.Event.ID {
		t.Errorf("item 4 = %+v, %v; want a replay of item 3", r.Result, r.Err)
	}
	if r := res[6]; r.Err != nil || !r.Result.Replayed || r.Result.Event.ID != stored.Event.ID {
		t.Errorf("item 6 = %+v, %v; want a replay of %s", r.Result, r.Err, stored.Event.ID)
	}
	// Ids follow the batch's order.
	if !(res[0].Result.Event.ID < res[3].Result.Event.ID && res[3].Result.Event.ID < res[7].Result.Event.ID) {
		t.Errorf("event ids out of the batch's order: %s, %s, %s", res[0].Result.Event.ID, res[3].Result.Event.ID, res[7].Result.Event.ID)
	}

	_, err = b.svc.SubmitEvents(b.ctx, b.acme, ins[:1])
	wantCode(t, "SubmitEvents by an account", err, hook.EForbidden)
	many := make([]service.SubmitEventInput, service.MaxBatchEvents+1)
	for i := range many {
		many[i] = call(b.acme.AccountID, "")
	}
	_, err = b.svc.SubmitEvents(b.ctx, b.admin, many)
	wantCode(t, "SubmitEvents with too many events", err, hook.EInvalidParameter)
	if err != nil && !strings.Contains(err.Error(), "501") {
		t.Errorf("the error %q does not say how many events the batch had", err)
	}
	ds, _, err := b.svc.ListDeliveries(b.ctx, b.admin, service.DeliveryFilter{AccountID: b.acme.AccountID}, service.Page{Limit: 50})
	// before (2) + item 0 (2) + item 3 (2): nothing of the refused batches.
	if err != nil || len(ds) != 6 {
		t.Errorf("Acme has %d deliveries (err %v), want 6", len(ds), err)
	}
}
