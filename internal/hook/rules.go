package hook

import (
	"bytes"
	"fmt"
	"slices"
	"time"
)

// The functions of this file decide what a write does; the storage
// backends (internal/store/sqlite, internal/store/postgres) read the rows
// they need, call them, and store what they return. A rule changed here
// changes in both backends at once.

// NewDelivery is a new pending delivery of an event to an endpoint, due
// at now.
func NewDelivery(eventID, accountID, endpointID, trigger string, now time.Time) *Delivery {
	return &Delivery{
		ID:            NewIDAt(PrefixDelivery, now),
		EventID:       eventID,
		EndpointID:    endpointID,
		AccountID:     accountID,
		Trigger:       trigger,
		Status:        StatusPending,
		NextAttemptAt: now,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
}

// EndpointPatch is a change to an endpoint asked through the API. Nil
// fields stay as they are.
type EndpointPatch struct {
	URL         *string
	Description *string
	EventTypes  []string // nil: unchanged
	Enabled     *bool
	// The endpoint controls (docs/delivery.md); a pointer to the zero
	// value removes one.
	Headers   *[]Header
	Filter    *[]byte
	RateLimit *int
}

// EndpointChange is what applying an EndpointPatch calls for beyond the
// endpoint's own row.
type EndpointChange struct {
	// Changed: the row differs and must be written (UpdatedAt was set).
	// An update that changes nothing writes nothing, not even updated_at.
	Changed bool
	// CancelPending: a manual disable; the endpoint's pending deliveries
	// are canceled (CanceledDisabled) in the same transaction.
	CancelPending bool
	// Enabled, when not nil, is the endpoint.enabled operator message to
	// queue: the re-enable of an endpoint hookd had disabled on its own,
	// with an operator webhook configured.
	Enabled *OperatorEvent
}

// ApplyPatch applies p to e at now (docs/api.md, PATCH /v1/endpoints/{id}):
// disabling sets reason manual; re-enabling clears the reason and the
// failure count; disabling a disabled endpoint or enabling an enabled one
// changes nothing. operatorEvents says an operator webhook is configured.
func ApplyPatch(e *Endpoint, p EndpointPatch, now time.Time, operatorEvents bool) EndpointChange {
	before := *e
	var c EndpointChange
	if p.URL != nil {
		e.URL = *p.URL
	}
	if p.Description != nil {
		e.Description = *p.Description
	}
	if p.EventTypes != nil {
		e.EventTypes = p.EventTypes
	}
	if p.Headers != nil {
		e.Headers = *p.Headers
	}
	if p.Filter != nil {
		e.Filter = *p.Filter
	}
	if p.RateLimit != nil {
		e.RateLimit = *p.RateLimit
	}
	switch {
	case p.Enabled == nil || *p.Enabled == e.Enabled:
	case *p.Enabled:
		if operatorEvents && Automatic(e.DisabledReason) {
			m := EndpointEnabledEvent(e, now)
			c.Enabled = &m
		}
		e.Enabled, e.DisabledReason, e.DisabledAt, e.ConsecutiveFailures = true, "", time.Time{}, 0
	default:
		e.Enabled, e.DisabledReason, e.DisabledAt = false, ReasonManual, now
		c.CancelPending = true
	}
	c.Changed = e.URL != before.URL || e.Description != before.Description || e.Enabled != before.Enabled ||
		!slices.Equal(e.EventTypes, before.EventTypes) || !slices.Equal(e.Headers, before.Headers) ||
		!bytes.Equal(e.Filter, before.Filter) || (e.Filter == nil) != (before.Filter == nil) || e.RateLimit != before.RateLimit
	if c.Changed {
		e.UpdatedAt = now
	}
	return c
}

// AutoDisable disables e for reason (ReasonGone, ReasonConsecutiveFailures)
// at now, as a Transition's Disable asks, and returns the endpoint.disabled
// operator message to queue, or nil without an operator webhook. The
// caller also cancels the endpoint's pending deliveries (CanceledDisabled).
func AutoDisable(e *Endpoint, reason string, now time.Time, operatorEvents bool) *OperatorEvent {
	e.Enabled, e.DisabledReason, e.DisabledAt, e.UpdatedAt = false, reason, now, now
	if !operatorEvents {
		return nil
	}
	m := EndpointDisabledEvent(e, now)
	return &m
}

// RedeliverRefusal is why a delivery of trigger to the endpoint ep cannot
// be redelivered (docs/api.md, POST /v1/deliveries/{id}/redeliver), or nil
// if it can. A pending delivery of the same event to the same endpoint is
// refused as well, by the backend, with AlreadyPending.
func RedeliverRefusal(trigger string, ep EndpointState) *Error {
	switch {
	case trigger == TriggerTest:
		return Errorf(ENotRedeliverable, "Test deliveries cannot be redelivered; run the test again instead.")
	case !ep.Found:
		return Errorf(EEndpointDisabled, "The endpoint of this delivery was deleted.")
	case !ep.Enabled:
		return Errorf(EEndpointDisabled, "The endpoint is disabled; re-enable it first.")
	}
	return nil
}

// AlreadyPending is the refusal of a redelivery while the event has a
// pending delivery to the endpoint.
func AlreadyPending() *Error {
	return Errorf(EAlreadyPending, "This event already has a pending delivery to this endpoint.")
}

// RecoverRefusal is why recover cannot run for an endpoint (docs/api.md,
// POST /v1/endpoints/{id}/recover), or nil if it can.
func RecoverRefusal(enabled bool) *Error {
	if !enabled {
		return Errorf(EEndpointDisabled, "The endpoint is disabled; re-enable it before recovering events.")
	}
	return nil
}

// IdempotencyLive reports whether an idempotency key first used at
// firstUsed still binds a request made at now, with a window of ttl: a
// key older than that starts afresh.
func IdempotencyLive(firstUsed, now time.Time, ttl time.Duration) bool {
	return now.Before(firstUsed.Add(ttl))
}

// IdempotencyConflict is the error for a live idempotency key reused with
// another event type or data; ttl is the window, named in the message.
func IdempotencyConflict(ttl time.Duration) *Error {
	return FieldErrorf(EIdempotencyConflict, "idempotency_key",
		"This idempotency key was used within the last %s for a different event or data.", window(ttl))
}

// window says a duration the way people do: "24 hours", "1 hour",
// "90 minutes", else Go's notation.
func window(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "hour"
	case d > 0 && d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d == time.Minute:
		return "minute"
	case d > 0 && d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}
