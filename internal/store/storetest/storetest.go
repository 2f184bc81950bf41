// Package storetest is the conformance suite of the storage contract:
// every backend runs Exercise against a fresh store and must pass all of it.
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// OpenFunc opens a new, empty store for one test; the backend cleans it up
// with t.Cleanup.
type OpenFunc func(t *testing.T) store.Store

// t0 is the suite's clock origin; tests pass times derived from it.
var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// Exercise runs the conformance suite.
func Exercise(t *testing.T, open OpenFunc) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b *bundle)
	}{
		{"Accounts", testAccounts},
		{"EndpointCRUD", testEndpointCRUD},
		{"EndpointDisableCancelsPending", testEndpointDisableCancelsPending},
		{"EndpointReenable", testEndpointReenable},
		{"EndpointDelete", testEndpointDelete},
		{"EndpointRotateKey", testEndpointRotateKey},
		{"EndpointKeysReseal", testEndpointKeysReseal},
		{"EventFanOut", testEventFanOut},
		{"EventIdempotency", testEventIdempotency},
		{"EventCreateConcurrent", testEventCreateConcurrent},
		{"EventCreateConflictsInBatch", testEventCreateConflictsInBatch},
		{"CommitFailure", testCommitFailure},
		{"ClaimLeases", testClaimLeases},
		{"EventHandoff", testEventHandoff},
		{"ClaimCapacity", testClaimCapacity},
		{"ClaimAccountCapacity", testClaimAccountCapacity},
		{"CompleteSuccessAndRetry", testCompleteSuccessAndRetry},
		{"CompleteAutoDisable", testCompleteAutoDisable},
		{"CompleteGone", testCompleteGone},
		{"CompleteAfterCancel", testCompleteAfterCancel},
		{"CompleteLostLease", testCompleteLostLease},
		{"Release", testRelease},
		{"Redeliver", testRedeliver},
		{"Recover", testRecover},
		{"TestRecord", testTestRecord},
		{"DeliveryListFilters", testDeliveryListFilters},
		{"EventList", testEventList},
		{"NextDue", testNextDue},
		{"OperatorMessages", testOperatorMessages},
		{"Prune", testPrune},
		{"WorkAvailable", testWorkAvailable},
		{"AccountList", testAccountList},
		{"EndpointStats", testEndpointStats},
		{"Sessions", testSessions},
		{"PortalLinks", testPortalLinks},
		{"Backlog", testBacklog}, {"EndpointCounts", testEndpointCounts}, // backlog.go
		{"EndpointControls", testEndpointControls},
		{"EventFilterAndHeaders", testEventFilterAndHeaders},
		{"RecoverFilter", testRecoverFilter},
		{"ClaimRateLimit", testClaimRateLimit},
		{"EventCreateBatch", testEventCreateBatch},
		{"EventCreateBatchHandoff", testEventCreateBatchHandoff},
		{"EventCreateBatchConcurrent", testEventCreateBatchConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, &bundle{s: open(t), ctx: context.Background()})
		})
	}
}

type bundle struct {
	s   store.Store
	ctx context.Context
}

func tokenHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func (b *bundle) account(t *testing.T) *hook.Account {
	t.Helper()
	a := &hook.Account{ID: hook.NewIDAt(hook.PrefixAccount, t0), Name: "Acme", CreatedAt: t0}
	if err := b.s.AccountCreate(b.ctx, a, tokenHash(a.ID)); err != nil {
		t.Fatalf("AccountCreate: %v", err)
	}
	return a
}

type endpointOpt func(*hook.Endpoint)

func withTypes(types ...string) endpointOpt { return func(e *hook.Endpoint) { e.EventTypes = types } }
func disabled(e *hook.Endpoint) {
	e.Enabled, e.DisabledReason, e.DisabledAt = false, hook.ReasonManual, t0
}

func (b *bundle) endpoint(t *testing.T, a *hook.Account, opts ...endpointOpt) *hook.Endpoint {
	t.Helper()
	e := &hook.Endpoint{
		ID:         hook.NewIDAt(hook.PrefixEndpoint, t0),
		AccountID:  a.ID,
		URL:        "https://example.com/hook",
		EventTypes: []string{"*"},
		Signing:    hook.SigningHMAC,
		Keys:       []hook.Key{{Value: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: t0}},
		Enabled:    true,
		CreatedAt:  t0,
		UpdatedAt:  t0,
	}
	for _, o := range opts {
		o(e)
	}
	if err := b.s.EndpointCreate(b.ctx, e); err != nil {
		t.Fatalf("EndpointCreate: %v", err)
	}
	return e
}

func (b *bundle) event(t *testing.T, a *hook.Account, typ string, at time.Time) *store.EventCreateResult {
	t.Helper()
	res, err := b.s.EventCreate(b.ctx, &store.EventCreateParams{Event: newEvent(a, typ, at)})
	if err != nil {
		t.Fatalf("EventCreate: %v", err)
	}
	return res
}

func newEvent(a *hook.Account, typ string, at time.Time) *hook.Event {
	id := hook.NewIDAt(hook.PrefixEvent, at)
	return &hook.Event{ID: id, AccountID: a.ID, Type: typ, CreatedAt: at,
		Body: hook.EncodeEnvelope(id, typ, at, a.ID, []byte(`{"n":1}`))}
}

func (b *bundle) claim(t *testing.T, now time.Time, limit int) []*store.Claim {
	t.Helper()
	cl, err := b.s.DeliveryClaim(b.ctx, &store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(30 * time.Second), Limit: limit})
	if err != nil {
		t.Fatalf("DeliveryClaim: %v", err)
	}
	return cl
}

func (b *bundle) complete(t *testing.T, now time.Time, disableAfter int, rs ...*hook.Result) *store.DeliveryCompleteResult {
	t.Helper()
	res, err := b.s.DeliveryComplete(b.ctx, &store.DeliveryCompleteParams{Results: rs, Now: now, DisableAfter: disableAfter, OperatorEvents: true})
	if err != nil {
		t.Fatalf("DeliveryComplete: %v", err)
	}
	return res
}

func (b *bundle) delivery(t *testing.T, id string) *hook.Delivery {
	t.Helper()
	d, err := b.s.DeliveryGet(b.ctx, id)
	if err != nil {
		t.Fatalf("DeliveryGet(%s): %v", id, err)
	}
	return d
}

func (b *bundle) getEndpoint(t *testing.T, id string) *hook.Endpoint {
	t.Helper()
	e, err := b.s.EndpointGet(b.ctx, id)
	if err != nil {
		t.Fatalf("EndpointGet(%s): %v", id, err)
	}
	return e
}

// result builds an attempt result for a claim.
func result(c *store.Claim, at time.Time, code int, errText string, retryAt time.Time) *hook.Result {
	return &hook.Result{
		DeliveryID: c.Delivery.ID,
		EndpointID: c.Delivery.EndpointID,
		Lease:      c.Lease,
		OK:         code >= 200 && code < 300 && errText == "",
		Gone:       code == 410,
		RetryAt:    retryAt,
		Attempt: hook.Attempt{
			ID: hook.NewIDAt(hook.PrefixAttempt, at), Trigger: c.Delivery.Trigger, StartedAt: at,
			Duration: 12 * time.Millisecond, StatusCode: code, Error: errText,
			RequestHeaders: map[string]string{"webhook-id": c.Delivery.EventID},
		},
	}
}

func fail(c *store.Claim, at time.Time, retryAt time.Time) *hook.Result {
	return result(c, at, 500, "http_status: 500 Internal Server Error", retryAt)
}

func ok(c *store.Claim, at time.Time) *hook.Result { return result(c, at, 200, "", time.Time{}) }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var he *hook.Error
	if !errors.As(err, &he) || he.Code != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

func wantStatus(t *testing.T, b *bundle, id, status string) *hook.Delivery {
	t.Helper()
	d := b.delivery(t, id)
	if d.Status != status {
		t.Fatalf("delivery %s status = %s, want %s (last_error %q)", id, d.Status, status, d.LastError)
	}
	return d
}

func (b *bundle) list(t *testing.T, p store.DeliveryListParams) []*hook.Delivery {
	t.Helper()
	if p.Limit == 0 {
		p.Limit = 500
	}
	ds, err := b.s.DeliveryList(b.ctx, &p)
	if err != nil {
		t.Fatalf("DeliveryList: %v", err)
	}
	return ds
}

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func deliveryID(d *hook.Delivery) string { return d.ID }

func sameStrings(a, b []string) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}
