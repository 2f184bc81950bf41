package hook

import (
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func TestApplyPatch(t *testing.T) {
	t.Parallel()
	enabled := func() Endpoint {
		return Endpoint{ID: "ep_1", AccountID: "acc_1", URL: "https://a.example/", Description: "d",
			EventTypes: []string{"*"}, Enabled: true, ConsecutiveFailures: 2, UpdatedAt: t0.Add(-time.Hour)}
	}
	disabled := func(reason string) Endpoint {
		e := enabled()
		e.Enabled, e.DisabledReason, e.DisabledAt, e.ConsecutiveFailures = false, reason, t0.Add(-time.Minute), 5
		return e
	}
	now := t0
	tests := []struct {
		name        string
		e           Endpoint
		p           EndpointPatch
		operator    bool
		want        func(e Endpoint) Endpoint
		changed     bool
		cancel      bool
		enabledSent bool
	}{
		{name: "nothing asked", e: enabled(), want: func(e Endpoint) Endpoint { return e }},
		{name: "same values change nothing, not even updated_at", e: enabled(),
			p:    EndpointPatch{URL: ptr("https://a.example/"), Description: ptr("d"), EventTypes: []string{"*"}, Enabled: ptr(true)},
			want: func(e Endpoint) Endpoint { return e }},
		{name: "url", e: enabled(), p: EndpointPatch{URL: ptr("https://b.example/")}, changed: true,
			want: func(e Endpoint) Endpoint { e.URL, e.UpdatedAt = "https://b.example/", now; return e }},
		{name: "description", e: enabled(), p: EndpointPatch{Description: ptr("")}, changed: true,
			want: func(e Endpoint) Endpoint { e.Description, e.UpdatedAt = "", now; return e }},
		{name: "event types", e: enabled(), p: EndpointPatch{EventTypes: []string{"sms.received"}}, changed: true,
			want: func(e Endpoint) Endpoint { e.EventTypes, e.UpdatedAt = []string{"sms.received"}, now; return e }},
		{name: "manual disable cancels pending", e: enabled(), p: EndpointPatch{Enabled: ptr(false)}, operator: true,
			changed: true, cancel: true,
			want: func(e Endpoint) Endpoint {
				e.Enabled, e.DisabledReason, e.DisabledAt, e.UpdatedAt = false, ReasonManual, now, now
				return e
			}},
		{name: "disabling a disabled endpoint changes nothing", e: disabled(ReasonGone), p: EndpointPatch{Enabled: ptr(false)},
			want: func(e Endpoint) Endpoint { return e }},
		{name: "re-enable after automatic disable tells the operator", e: disabled(ReasonConsecutiveFailures),
			p: EndpointPatch{Enabled: ptr(true)}, operator: true, changed: true, enabledSent: true,
			want: func(e Endpoint) Endpoint {
				e.Enabled, e.DisabledReason, e.DisabledAt, e.ConsecutiveFailures, e.UpdatedAt = true, "", time.Time{}, 0, now
				return e
			}},
		{name: "re-enable without operator webhook", e: disabled(ReasonGone), p: EndpointPatch{Enabled: ptr(true)}, changed: true,
			want: func(e Endpoint) Endpoint {
				e.Enabled, e.DisabledReason, e.DisabledAt, e.ConsecutiveFailures, e.UpdatedAt = true, "", time.Time{}, 0, now
				return e
			}},
		{name: "re-enable after manual disable is not an operator event", e: disabled(ReasonManual),
			p: EndpointPatch{Enabled: ptr(true)}, operator: true, changed: true,
			want: func(e Endpoint) Endpoint {
				e.Enabled, e.DisabledReason, e.DisabledAt, e.ConsecutiveFailures, e.UpdatedAt = true, "", time.Time{}, 0, now
				return e
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.e
			want := tc.want(tc.e)
			c := ApplyPatch(&e, tc.p, now, tc.operator)
			if c.Changed != tc.changed || c.CancelPending != tc.cancel || (c.Enabled != nil) != tc.enabledSent {
				t.Errorf("change = %+v, want changed %v cancel %v enabled message %v", c, tc.changed, tc.cancel, tc.enabledSent)
			}
			if e.URL != want.URL || e.Description != want.Description || !slices.Equal(e.EventTypes, want.EventTypes) ||
				e.Enabled != want.Enabled || e.DisabledReason != want.DisabledReason || !e.DisabledAt.Equal(want.DisabledAt) ||
				e.ConsecutiveFailures != want.ConsecutiveFailures || !e.UpdatedAt.Equal(want.UpdatedAt) {
				t.Errorf("endpoint = %+v\nwant       %+v", e, want)
			}
			if c.Enabled != nil && !c.Enabled.CreatedAt.Equal(now) {
				t.Errorf("endpoint.enabled message at %v, want %v", c.Enabled.CreatedAt, now)
			}
		})
	}
}

func TestAutoDisable(t *testing.T) {
	t.Parallel()
	for _, operator := range []bool{false, true} {
		e := Endpoint{ID: "ep_1", AccountID: "acc_1", URL: "https://a.example/", Enabled: true}
		m := AutoDisable(&e, ReasonGone, t0, operator)
		if e.Enabled || e.DisabledReason != ReasonGone || !e.DisabledAt.Equal(t0) || !e.UpdatedAt.Equal(t0) {
			t.Errorf("operator %v: endpoint after AutoDisable = %+v", operator, e)
		}
		if (m != nil) != operator {
			t.Errorf("operator %v: message %v", operator, m)
		}
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		trigger string
		ep      EndpointState
		want    string // error code; "" for none
	}{
		{TriggerScheduled, EndpointState{Found: true, Enabled: true}, ""},
		{TriggerRecover, EndpointState{Found: true, Enabled: true}, ""},
		{TriggerRedeliver, EndpointState{Found: true, Enabled: true}, ""},
		{TriggerTest, EndpointState{Found: true, Enabled: true}, ENotRedeliverable},
		{TriggerTest, EndpointState{}, ENotRedeliverable}, // the trigger is checked first
		{TriggerScheduled, EndpointState{}, EEndpointDisabled},
		{TriggerScheduled, EndpointState{Found: true}, EEndpointDisabled},
	}
	for _, tc := range tests {
		err := RedeliverRefusal(tc.trigger, tc.ep)
		if got := ErrorCode(errOrNil(err)); got != tc.want {
			t.Errorf("RedeliverRefusal(%s, %+v) = %v, want code %q", tc.trigger, tc.ep, err, tc.want)
		}
	}
	if err := RecoverRefusal(true); err != nil {
		t.Errorf("RecoverRefusal(enabled) = %v", err)
	}
	if err := RecoverRefusal(false); err == nil || err.Code != EEndpointDisabled {
		t.Errorf("RecoverRefusal(disabled) = %v", err)
	}
	if err := AlreadyPending(); err.Code != EAlreadyPending {
		t.Errorf("AlreadyPending = %v", err)
	}
}

func errOrNil(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}

func TestIdempotencyWindow(t *testing.T) {
	t.Parallel()
	ttl := 24 * time.Hour
	for _, tc := range []struct {
		at   time.Time
		live bool
	}{
		{t0, true},
		{t0.Add(ttl - time.Millisecond), true},
		{t0.Add(ttl), false}, // the window is half-open
		{t0.Add(ttl + time.Hour), false},
	} {
		if got := IdempotencyLive(t0, tc.at, ttl); got != tc.live {
			t.Errorf("IdempotencyLive(first %v, now %v) = %v", t0, tc.at, got)
		}
	}
	for ttl, want := range map[time.Duration]string{
		24 * time.Hour:   "This idempotency key was used within the last 24 hours for a different event or data.",
		time.Hour:        "This idempotency key was used within the last hour for a different event or data.",
		90 * time.Minute: "This idempotency key was used within the last 90 minutes for a different event or data.",
		90 * time.Second: "This idempotency key was used within the last 1m30s for a different event or data.",
	} {
		err := IdempotencyConflict(ttl)
		if err.Code != EIdempotencyConflict || err.Field != "idempotency_key" || err.Message != want {
			t.Errorf("IdempotencyConflict(%v) = %+v, want message %q", ttl, err, want)
		}
	}
}

func TestNewDelivery(t *testing.T) {
	t.Parallel()
	d := NewDelivery("evt_1", "acc_1", "ep_1", TriggerRecover, t0)
	if !ValidID(PrefixDelivery, d.ID) || d.EventID != "evt_1" || d.AccountID != "acc_1" || d.EndpointID != "ep_1" ||
		d.Trigger != TriggerRecover || d.Status != StatusPending || d.Attempts != 0 ||
		!d.NextAttemptAt.Equal(t0) || !d.CreatedAt.Equal(t0) || !d.UpdatedAt.Equal(t0) {
		t.Errorf("NewDelivery = %+v", d)
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	const lease = 7
	owned := DeliveryState{Status: StatusPending, Lease: lease}
	on := EndpointState{Found: true, Enabled: true, ConsecutiveFailures: 2}
	retry := t0.Add(time.Minute)
	ok := Result{Lease: lease, OK: true, Attempt: Attempt{StatusCode: 200}}
	fail := Result{Lease: lease, Attempt: Attempt{StatusCode: 500, Error: "http_status: 500"}}
	failRetry := fail
	failRetry.RetryAt = retry
	gone := Result{Lease: lease, Gone: true, Attempt: Attempt{StatusCode: 410, Error: "http_status: 410"}}
	tests := []struct {
		name         string
		d            DeliveryState
		ep           EndpointState
		r            Result
		disableAfter int
		want         Transition
	}{
		{"success resets failures", owned, on, ok, 3,
			Transition{Status: StatusSucceeded, SetFailures: true, LastStatusCode: 200}},
		{"success with no failures writes none", owned, EndpointState{Found: true, Enabled: true}, ok, 3,
			Transition{Status: StatusSucceeded, LastStatusCode: 200}},
		{"failure with a retry left stays pending", owned, on, failRetry, 3,
			Transition{Status: StatusPending, NextAttemptAt: retry, LastStatusCode: 500, LastError: "http_status: 500"}},
		{"last failure counts", owned, EndpointState{Found: true, Enabled: true}, fail, 3,
			Transition{Status: StatusFailed, Failures: 1, SetFailures: true, LastStatusCode: 500, LastError: "http_status: 500"}},
		{"last failure at the limit disables", owned, on, fail, 3,
			Transition{Status: StatusFailed, Failures: 3, SetFailures: true, Disable: ReasonConsecutiveFailures,
				LastStatusCode: 500, LastError: "http_status: 500"}},
		{"disable-after 0 never disables", owned, EndpointState{Found: true, Enabled: true, ConsecutiveFailures: 99}, fail, 0,
			Transition{Status: StatusFailed, Failures: 100, SetFailures: true, LastStatusCode: 500, LastError: "http_status: 500"}},
		{"410 disables at once", owned, EndpointState{Found: true, Enabled: true}, gone, 0,
			Transition{Status: StatusFailed, Failures: 1, SetFailures: true, Disable: ReasonGone, LastStatusCode: 410, LastError: "http_status: 410"}},
		{"endpoint disabled meanwhile: canceled", owned, EndpointState{Found: true}, fail, 3,
			Transition{Status: StatusCanceled, LastStatusCode: 500, LastError: CanceledDisabled}},
		{"endpoint deleted meanwhile: canceled", owned, EndpointState{}, failRetry, 3,
			Transition{Status: StatusCanceled, LastStatusCode: 500, LastError: CanceledDeleted}},
		{"endpoint disabled meanwhile, success counts", owned, EndpointState{Found: true}, ok, 3,
			Transition{Status: StatusSucceeded, LastStatusCode: 200}},
		{"lease lost: recorded, nothing changes", DeliveryState{Status: StatusPending, Lease: 8}, on, fail, 3,
			Transition{Status: StatusPending, KeepLastError: true}},
		{"canceled delivery, success marks it succeeded", DeliveryState{Status: StatusCanceled}, on, ok, 3,
			Transition{Status: StatusSucceeded, LastStatusCode: 200}},
		{"canceled delivery, failure changes nothing", DeliveryState{Status: StatusCanceled}, on, fail, 3,
			Transition{Status: StatusCanceled, KeepLastError: true}},
	}
	for _, tc := range tests {
		if got := Decide(tc.d, tc.ep, tc.r, tc.disableAfter); got != tc.want {
			t.Errorf("%s:\nDecide = %+v\nwant     %+v", tc.name, got, tc.want)
		}
	}
}
