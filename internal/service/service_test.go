package service_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/service"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/sqlite"
	"github.com/hookd/hookd/webhook"
)

const adminToken = "service-test-admin-token-0123"

// testBundle is a Service on a fresh SQLite database, with two accounts
// and a loopback HTTPS receiver whose answer the test sets.
type testBundle struct {
	ctx      context.Context
	svc      *service.Service
	store    *sqlite.Store
	admin    service.Actor
	acme     service.Actor // account "Acme"
	globex   service.Actor // account "Globex"
	status   atomic.Int32  // what the receiver answers
	received atomic.Int32
	last     atomic.Pointer[request] // the last request received
	url      string
}

type request struct {
	header http.Header
	body   []byte
}

type opts struct{ allowHTTP bool }

func setup(t *testing.T, o ...opts) *testBundle {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	b := &testBundle{ctx: ctx, store: st, admin: service.Actor{Admin: true}}
	b.status.Store(http.StatusNoContent)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.last.Store(&request{header: r.Header.Clone(), body: body})
		b.received.Add(1)
		w.WriteHeader(int(b.status.Load()))
	}))
	t.Cleanup(srv.Close)
	b.url = srv.URL + "/hooks"
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	guard := &netguard.Guard{AllowPrivate: true}
	sender := delivery.NewSender(delivery.SenderConfig{Timeout: 2 * time.Second, Guard: guard, RootCAs: roots, UserAgent: "hookd/test"})
	t.Cleanup(sender.CloseIdleConnections)
	cfg := service.Config{Store: st, Catalog: cat, Sender: sender, Guard: guard, AdminToken: adminToken,
		SecretOverlap: 24 * time.Hour}
	if len(o) > 0 {
		cfg.AllowHTTP = o[0].allowHTTP
	}
	if b.svc, err = service.New(cfg); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		name  string
		actor *service.Actor
	}{{"Acme", &b.acme}, {"Globex", &b.globex}} {
		acc, tok, err := b.svc.CreateAccount(ctx, b.admin, a.name)
		if err != nil {
			t.Fatal(err)
		}
		if *a.actor, err = b.svc.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if a.actor.AccountID != acc.ID {
			t.Fatalf("the token of %s authenticates as %q, want %q", a.name, a.actor.AccountID, acc.ID)
		}
	}
	return b
}

func (b *testBundle) endpoint(t *testing.T, actor service.Actor, types ...string) *hook.Endpoint {
	t.Helper()
	if len(types) == 0 {
		types = []string{"call.received"}
	}
	e, secret, err := b.svc.CreateEndpoint(b.ctx, actor, service.CreateEndpointInput{URL: b.url, EventTypes: types})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("CreateEndpoint returned secret %q, want a whsec_ secret", secret)
	}
	return e
}

func (b *testBundle) submit(t *testing.T, accountID, event, key string) *store.EventCreateResult {
	t.Helper()
	res, err := b.svc.SubmitEvent(b.ctx, b.admin, service.SubmitEventInput{
		AccountID: accountID, Event: event, Data: example(t, event), IdempotencyKey: key})
	if err != nil {
		t.Fatalf("SubmitEvent(%s): %v", event, err)
	}
	return res
}

func example(t *testing.T, event string) json.RawMessage {
	t.Helper()
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, et := range cat.Types() {
		if et.Event == event {
			return et.Example
		}
	}
	t.Fatalf("no example for %s", event)
	return nil
}

// code is the hook.Error code of err, or "" if it is not one.
func code(err error) string {
	var he *hook.Error
	if errors.As(err, &he) {
		return he.Code
	}
	return ""
}

func wantCode(t *testing.T, what string, err error, want string) {
	t.Helper()
	if got := code(err); got != want {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, want)
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, err := b.svc.Authenticate(b.ctx, adminToken)
	if err != nil || !a.Admin {
		t.Errorf("Authenticate(admin token) = %+v, %v; want the admin", a, err)
	}
	for _, tok := range []string{"", "hkt_wrong", adminToken + "x", strings.ToUpper(adminToken)} {
		_, err := b.svc.Authenticate(b.ctx, tok)
		wantCode(t, "Authenticate("+tok+")", err, hook.EUnauthorized)
	}
}

func TestRotatedAccountTokenStopsWorking(t *testing.T) {
	t.Parallel()
	b := setup(t)
	acc, old, err := b.svc.CreateAccount(b.ctx, b.admin, "Initech")
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.RotateAccountToken(b.ctx, b.acme, acc.ID)
	wantCode(t, "RotateAccountToken by an account", err, hook.EForbidden)
	tok, err := b.svc.RotateAccountToken(b.ctx, b.admin, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.Authenticate(b.ctx, old)
	wantCode(t, "Authenticate(old token)", err, hook.EUnauthorized)
	if a, err := b.svc.Authenticate(b.ctx, tok); err != nil || a.AccountID != acc.ID {
		t.Errorf("Authenticate(new token) = %+v, %v; want account %s", a, err, acc.ID)
	}
	_, err = b.svc.RotateAccountToken(b.ctx, b.admin, "acc_missing")
	wantCode(t, "RotateAccountToken(unknown id)", err, hook.ENotFound)
}

func TestCreateAccountValidatesName(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, name := range []string{"", "   ", "a\x00b", string([]byte{0xff, 0xfe}), strings.Repeat("x", 201)} {
		_, _, err := b.svc.CreateAccount(b.ctx, b.admin, name)
		wantCode(t, "CreateAccount("+name+")", err, hook.EInvalidParameter)
	}
	_, _, err := b.svc.CreateAccount(b.ctx, b.acme, "Mine")
	wantCode(t, "CreateAccount by an account", err, hook.EForbidden)
	a, _, err := b.svc.CreateAccount(b.ctx, b.admin, "  Hooli  ")
	if err != nil || a.Name != "Hooli" {
		t.Errorf("CreateAccount(\"  Hooli  \") = %+v, %v; want the name trimmed", a, err)
	}
}

// TestTenantIsolation: an account's token reaches nothing of another
// account's, and every refusal reads as "not found".
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	e := b.endpoint(t, b.acme)
	res := b.submit(t, b.acme.AccountID, "call.received", "")
	if len(res.Deliveries) != 1 {
		t.Fatalf("the event got %d deliveries, want 1", len(res.Deliveries))
	}
	dlv := res.Deliveries[0].ID
	g := b.globex
	enabled := false
	checks := map[string]error{}
	_, checks["GetEndpoint"] = b.svc.GetEndpoint(b.ctx, g, e.ID)
	_, checks["UpdateEndpoint"] = b.svc.UpdateEndpoint(b.ctx, g, e.ID, service.UpdateEndpointInput{Enabled: &enabled})
	checks["DeleteEndpoint"] = b.svc.DeleteEndpoint(b.ctx, g, e.ID)
	_, checks["GetSecret"] = b.svc.GetSecret(b.ctx, g, e.ID)
	_, checks["RotateSecret"] = b.svc.RotateSecret(b.ctx, g, e.ID)
	_, checks["Recover"] = b.svc.Recover(b.ctx, g, e.ID, time.Now().Add(-time.Hour))
	_, checks["TestEndpoint"] = b.svc.TestEndpoint(b.ctx, g, e.ID)
	_, checks["GetEvent"] = b.svc.GetEvent(b.ctx, g, res.Event.ID)
	_, checks["GetDelivery"] = b.svc.GetDelivery(b.ctx, g, dlv)
	_, _, checks["ListAttempts"] = b.svc.ListAttempts(b.ctx, g, dlv, 0, 50)
	_, checks["Redeliver"] = b.svc.Redeliver(b.ctx, g, dlv)
	_, _, checks["ListEndpoints(account_id=acme)"] = b.svc.ListEndpoints(b.ctx, g, b.acme.AccountID, service.Page{Limit: 50})
	_, _, checks["ListDeliveries(endpoint_id)"] = b.svc.ListDeliveries(b.ctx, g, service.DeliveryFilter{EndpointID: e.ID}, service.Page{Limit: 50})
	_, _, checks["CreateEndpoint(account_id=acme)"] = b.svc.CreateEndpoint(b.ctx, g,
		service.CreateEndpointInput{AccountID: b.acme.AccountID, URL: b.url, EventTypes: []string{"*"}})
	for name, err := range checks {
		wantCode(t, name+" by another account", err, hook.ENotFound)
	}
	_, err := b.svc.GetAccount(b.ctx, g, b.acme.AccountID)
	wantCode(t, "GetAccount by an account", err, hook.EForbidden)

	// Globex's own lists do not show Acme's objects.
	es, _, err := b.svc.ListEndpoints(b.ctx, g, "", service.Page{Limit: 50})
	if err != nil || len(es) != 0 {
		t.Errorf("Globex lists %d endpoints (err %v), want 0", len(es), err)
	}
	ds, _, err := b.svc.ListDeliveries(b.ctx, g, service.DeliveryFilter{}, service.Page{Limit: 50})
	if err != nil || len(ds) != 0 {
		t.Errorf("Globex lists %d deliveries (err %v), want 0", len(ds), err)
	}
	// And the endpoint is untouched.
	got, err := b.svc.GetEndpoint(b.ctx, b.acme, e.ID)
	if err != nil || !got.Enabled {
		t.Errorf("after the refused calls Acme's endpoint is %+v (err %v), want it enabled", got, err)
	}
}

func TestSubmitEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	calls := b.endpoint(t, b.acme, "call.received")
	all := b.endpoint(t, b.acme, "*")
	b.endpoint(t, b.acme, "sms.received")
	b.endpoint(t, b.globex, "*") // another account's endpoint gets nothing
	off := b.endpoint(t, b.acme, "*")
	disabled := false
	if _, err := b.svc.UpdateEndpoint(b.ctx, b.acme, off.ID, service.UpdateEndpointInput{Enabled: &disabled}); err != nil {
		t.Fatal(err)
	}

	res := b.submit(t, b.acme.AccountID, "call.received", "")
	got := map[string]bool{}
	for _, d := range res.Deliveries {
		got[d.EndpointID] = true
	}
	if len(got) != 2 || !got[calls.ID] || !got[all.ID] {
		t.Errorf("call.received went to %v, want exactly the call.received and the * endpoints (%s, %s)", got, calls.ID, all.ID)
	}

	in := service.SubmitEventInput{AccountID: b.acme.AccountID, Event: "call.received", Data: example(t, "call.received")}
	_, err := b.svc.SubmitEvent(b.ctx, b.acme, in)
	wantCode(t, "SubmitEvent by an account", err, hook.EForbidden)
	for _, tc := range []struct {
		name string
		edit func(*service.SubmitEventInput)
		want string
	}{
		{"no account", func(in *service.SubmitEventInput) { in.AccountID = "" }, hook.EInvalidParameter},
		{"unknown account", func(in *service.SubmitEventInput) { in.AccountID = "acc_missing" }, hook.EInvalidReference},
		{"no event", func(in *service.SubmitEventInput) { in.Event = "" }, hook.EUnknownEventType},
		{"unknown event", func(in *service.SubmitEventInput) { in.Event = "call.recieved" }, hook.EUnknownEventType},
		{"hookd's own event", func(in *service.SubmitEventInput) { in.Event = "webhook.test" }, hook.EUnknownEventType},
		{"bad data", func(in *service.SubmitEventInput) { in.Data = json.RawMessage(`{"call_id":1}`) }, hook.EInvalidEvent},
		{"long key", func(in *service.SubmitEventInput) { in.IdempotencyKey = strings.Repeat("k", 256) }, hook.EInvalidParameter},
	} {
		in := in
		tc.edit(&in)
		_, err := b.svc.SubmitEvent(b.ctx, b.admin, in)
		wantCode(t, "SubmitEvent with "+tc.name, err, tc.want)
	}
}

func TestSubmitEventIdempotency(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.endpoint(t, b.acme)
	first := b.submit(t, b.acme.AccountID, "call.received", "key-1")
	again := b.submit(t, b.acme.AccountID, "call.received", "key-1")
	if !again.Replayed || again.Event.ID != first.Event.ID {
		t.Errorf("the same key and content: replayed %v, event %s; want a replay of %s", again.Replayed, again.Event.ID, first.Event.ID)
	}
	if len(again.Deliveries) != len(first.Deliveries) || again.Deliveries[0].ID != first.Deliveries[0].ID {
		t.Errorf("the replay answers deliveries %v, want the first answer's %v", again.Deliveries, first.Deliveries)
	}
	// The same key with other content is a conflict.
	_, err := b.svc.SubmitEvent(b.ctx, b.admin, service.SubmitEventInput{
		AccountID: b.acme.AccountID, Event: "sms.received", Data: example(t, "sms.received"), IdempotencyKey: "key-1"})
	wantCode(t, "the same key with another event", err, hook.EIdempotencyConflict)
	// Keys are per account.
	other := b.submit(t, b.globex.AccountID, "call.received", "key-1")
	if other.Replayed || other.Event.ID == first.Event.ID {
		t.Errorf("another account's first use of key-1 was answered as a replay")
	}
	ds, _, err := b.svc.ListDeliveries(b.ctx, b.acme, service.DeliveryFilter{}, service.Page{Limit: 50})
	if err != nil || len(ds) != 1 {
		t.Errorf("Acme has %d deliveries (err %v) after one event and a replay, want 1", len(ds), err)
	}
}

func TestCreateEndpointValidates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name  string
		in    service.CreateEndpointInput
		code  string
		field string
	}{
		{"no URL", service.CreateEndpointInput{EventTypes: []string{"*"}}, hook.EInvalidURL, "url"},
		{"http", service.CreateEndpointInput{URL: "http://example.com/", EventTypes: []string{"*"}}, hook.EInvalidURL, "url"},
		{"userinfo", service.CreateEndpointInput{URL: "https://u:p@example.com/", EventTypes: []string{"*"}}, hook.EInvalidURL, "url"},
		{"no types", service.CreateEndpointInput{URL: "https://example.com/"}, hook.EInvalidEventTypes, "event_types"},
		{"* and more", service.CreateEndpointInput{URL: "https://example.com/", EventTypes: []string{"*", "call.received"}}, hook.EInvalidEventTypes, "event_types"},
		{"unknown type", service.CreateEndpointInput{URL: "https://example.com/", EventTypes: []string{"call.recieved"}}, hook.EInvalidEventTypes, "event_types"},
		{"own type", service.CreateEndpointInput{URL: "https://example.com/", EventTypes: []string{"webhook.test"}}, hook.EInvalidEventTypes, "event_types"},
		{"signing", service.CreateEndpointInput{URL: "https://example.com/", EventTypes: []string{"*"}, Signing: "rsa"}, hook.EInvalidParameter, "signing"},
		{"long description", service.CreateEndpointInput{URL: "https://example.com/", EventTypes: []string{"*"}, Description: strings.Repeat("d", 1025)}, hook.EInvalidParameter, "description"},
	} {
		_, _, err := b.svc.CreateEndpoint(b.ctx, b.acme, tc.in)
		var he *hook.Error
		if !errors.As(err, &he) || he.Code != tc.code || he.Field != tc.field {
			t.Errorf("CreateEndpoint with %s: %v, want code %s on field %s", tc.name, err, tc.code, tc.field)
		}
	}
	_, _, err := b.svc.CreateEndpoint(b.ctx, b.admin, service.CreateEndpointInput{URL: b.url, EventTypes: []string{"*"}})
	wantCode(t, "CreateEndpoint by the admin without account_id", err, hook.EInvalidParameter)
	_, _, err = b.svc.CreateEndpoint(b.ctx, b.admin, service.CreateEndpointInput{AccountID: "acc_missing", URL: b.url, EventTypes: []string{"*"}})
	wantCode(t, "CreateEndpoint by the admin for an unknown account", err, hook.EInvalidReference)

	// Duplicates are dropped, order kept.
	e, _, err := b.svc.CreateEndpoint(b.ctx, b.acme, service.CreateEndpointInput{URL: b.url,
		EventTypes: []string{"sms.received", "call.received", "sms.received"}})
	if err != nil || strings.Join(e.EventTypes, ",") != "sms.received,call.received" {
		t.Errorf("event types stored as %v (err %v), want [sms.received call.received]", e.EventTypes, err)
	}
}

func TestCreateEndpointHTTPInDevelopment(t *testing.T) {
	t.Parallel()
	b := setup(t, opts{allowHTTP: true})
	if _, _, err := b.svc.CreateEndpoint(b.ctx, b.acme, service.CreateEndpointInput{
		URL: "http://example.com/", EventTypes: []string{"*"}}); err != nil {
		t.Errorf("with AllowHTTP an http:// URL is refused: %v", err)
	}
}

func TestDisableAndReEnable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	e := b.endpoint(t, b.acme)
	res := b.submit(t, b.acme.AccountID, "call.received", "") // pending: no dispatcher runs here
	off, on := false, true
	got, err := b.svc.UpdateEndpoint(b.ctx, b.acme, e.ID, service.UpdateEndpointInput{Enabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	if got.Enabled || got.DisabledReason != hook.ReasonManual || got.DisabledAt.IsZero() {
		t.Errorf("after a manual disable: enabled %v, reason %q, disabled_at %v", got.Enabled, got.DisabledReason, got.DisabledAt)
	}
	d, err := b.svc.GetDelivery(b.ctx, b.acme, res.Deliveries[0].ID)
	if err != nil || d.Status != hook.StatusCanceled || d.LastError != "canceled: endpoint disabled" {
		t.Errorf("the pending delivery is %+v (err %v), want canceled: endpoint disabled", d, err)
	}
	_, err = b.svc.Redeliver(b.ctx, b.acme, d.ID)
	wantCode(t, "Redeliver to a disabled endpoint", err, hook.EEndpointDisabled)
	_, err = b.svc.Recover(b.ctx, b.acme, e.ID, time.Now().Add(-time.Hour))
	wantCode(t, "Recover on a disabled endpoint", err, hook.EEndpointDisabled)

	got, err = b.svc.UpdateEndpoint(b.ctx, b.acme, e.ID, service.UpdateEndpointInput{Enabled: &on})
	if err != nil || !got.Enabled || got.DisabledReason != "" || !got.DisabledAt.IsZero() {
		t.Errorf("after re-enable: %+v (err %v), want enabled with no reason or time", got, err)
	}
	n, err := b.svc.Recover(b.ctx, b.acme, e.ID, time.Now().Add(-time.Hour))
	if err != nil || n != 1 {
		t.Errorf("Recover after re-enable queued %d (err %v), want the 1 canceled event", n, err)
	}
	_, err = b.svc.Redeliver(b.ctx, b.acme, d.ID)
	wantCode(t, "Redeliver while the recover delivery is pending", err, hook.EAlreadyPending)
}

func TestTestEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	e := b.endpoint(t, b.acme)
	res, err := b.svc.TestEndpoint(b.ctx, b.acme, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.StatusCode != http.StatusNoContent || res.Error != "" || b.received.Load() != 1 {
		t.Errorf("a test to a receiver answering 204: %+v (received %d), want ok", res, b.received.Load())
	}
	_, err = b.svc.Redeliver(b.ctx, b.acme, res.DeliveryID)
	wantCode(t, "Redeliver a test delivery", err, hook.ENotRedeliverable)

	b.status.Store(http.StatusMethodNotAllowed)
	res, err = b.svc.TestEndpoint(b.ctx, b.acme, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || res.Error != "http_status: 405 Method Not Allowed" || !strings.Contains(res.Hint, "your endpoint must accept POST") {
		t.Errorf("a test answered 405: %+v, want the error and the POST hint", res)
	}
	d, err := b.svc.GetDelivery(b.ctx, b.acme, res.DeliveryID)
	if err != nil || d.Trigger != hook.TriggerTest || d.Status != hook.StatusFailed || d.Attempts != 1 {
		t.Errorf("the failed test is recorded as %+v (err %v), want a failed test delivery with one attempt", d, err)
	}

	// A 410 to a test changes nothing about the endpoint.
	b.status.Store(http.StatusGone)
	if _, err := b.svc.TestEndpoint(b.ctx, b.acme, e.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := b.svc.GetEndpoint(b.ctx, b.acme, e.ID); err != nil || !got.Enabled || got.ConsecutiveFailures != 0 {
		t.Errorf("after tests that failed: %+v (err %v), want it enabled with no failures counted", got, err)
	}
}

func TestRotateSecret(t *testing.T) {
	t.Parallel()
	b := setup(t)
	e := b.endpoint(t, b.acme)
	before, err := b.svc.GetSecret(b.ctx, b.acme, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := b.svc.RotateSecret(b.ctx, b.acme, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == before.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") {
		t.Errorf("RotateSecret returned %q, want a new whsec_ secret", rotated.Secret)
	}
	after, err := b.svc.GetSecret(b.ctx, b.acme, e.ID)
	if err != nil || after.Secret != rotated.Secret {
		t.Errorf("GetSecret after rotation = %q (err %v), want the new one", after.Secret, err)
	}
	// Both keys sign during the overlap: the old secret still verifies.
	got, err := b.svc.GetEndpoint(b.ctx, b.acme, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Keys) != 2 {
		t.Errorf("the endpoint has %d keys after a rotation, want 2 during the overlap", len(got.Keys))
	}
	if _, err := b.svc.TestEndpoint(b.ctx, b.acme, e.ID); err != nil {
		t.Fatal(err)
	}
	req := b.last.Load()
	for name, secret := range map[string]string{"old": before.Secret, "new": rotated.Secret} {
		v, err := webhook.NewVerifier([]string{secret}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(req.header, req.body); err != nil {
			t.Errorf("during the overlap a request does not verify with the %s secret: %v", name, err)
		}
	}

	ed, _, err := b.svc.CreateEndpoint(b.ctx, b.acme, service.CreateEndpointInput{URL: b.url, EventTypes: []string{"*"}, Signing: "ed25519"})
	if err != nil {
		t.Fatal(err)
	}
	sec, err := b.svc.GetSecret(b.ctx, b.acme, ed.ID)
	if err != nil || sec.Secret != "" || sec.PublicKey != ed.PublicKey || !strings.HasPrefix(sec.PublicKey, "whpk_") {
		t.Errorf("GetSecret of an ed25519 endpoint = %+v (err %v), want its public key alone", sec, err)
	}
}

func TestDeleteEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	e := b.endpoint(t, b.acme)
	res := b.submit(t, b.acme.AccountID, "call.received", "")
	if err := b.svc.DeleteEndpoint(b.ctx, b.acme, e.ID); err != nil {
		t.Fatal(err)
	}
	_, err := b.svc.GetEndpoint(b.ctx, b.acme, e.ID)
	wantCode(t, "GetEndpoint after delete", err, hook.ENotFound)
	d, err := b.svc.GetDelivery(b.ctx, b.acme, res.Deliveries[0].ID)
	if err != nil || d.Status != hook.StatusCanceled {
		t.Errorf("the deleted endpoint's delivery: %+v (err %v), want it canceled and still readable", d, err)
	}
	wantCode(t, "DeleteEndpoint twice", b.svc.DeleteEndpoint(b.ctx, b.acme, e.ID), hook.ENotFound)
}

func TestListsPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []string
	for range 5 {
		ids = append(ids, b.endpoint(t, b.acme).ID)
	}
	var seen []string
	page := service.Page{Limit: 2}
	for range 10 {
		es, more, err := b.svc.ListEndpoints(b.ctx, b.acme, "", page)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			seen = append(seen, e.ID)
		}
		if !more {
			break
		}
		page.After = es[len(es)-1].ID
	}
	if len(seen) != 5 {
		t.Fatalf("paging by 2 listed %d endpoints, want 5", len(seen))
	}
	for i := range seen {
		if seen[i] != ids[len(ids)-1-i] {
			t.Errorf("endpoint %d listed is %s, want %s (newest first)", i, seen[i], ids[len(ids)-1-i])
		}
	}
}
