package client

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"time"
)

// Envelope is a stored event: the body hookd delivers to endpoints.
type Envelope struct {
	// ID is the event id, sent as the webhook-id header of every delivery.
	ID string `json:"id"`
	// Event is the event type, such as "call.received".
	Event string `json:"event"`
	// Timestamp is when hookd accepted the event.
	Timestamp time.Time `json:"timestamp"`
	AccountID string    `json:"account_id"`
	// Data is the event's data as stored.
	Data json.RawMessage `json:"data"`
}

// EventType is an entry of the event catalogue.
type EventType struct {
	Event       string `json:"event"`
	Description string `json:"description"`
	// Schema is the JSON Schema that an event's data must match.
	Schema json.RawMessage `json:"schema"`
	// Example is a valid data object.
	Example json.RawMessage `json:"example"`
}

// SubmitEventParams is an event for SubmitEvent.
type SubmitEventParams struct {
	AccountID string
	// Event is the event type, such as "sms.received".
	Event string
	// Data is marshalled as JSON; a json.RawMessage is sent as it is
	// (compacted), which keeps numbers' digits exact. Note that a []byte
	// is marshalled as a base64 string, not as JSON.
	Data any
	// IdempotencyKey, if set, is sent as the Idempotency-Key header: the
	// same key for the same account within 24 hours answers with the
	// first result instead of storing a second event.
	IdempotencyKey string
}

// SubmitEventResult is the answer to SubmitEvent.
type SubmitEventResult struct {
	// ID is the event id.
	ID string `json:"id"`
	// Deliveries holds one delivery per endpoint the event goes to; it is
	// empty if no enabled endpoint subscribes to the event.
	Deliveries []DeliveryRef `json:"deliveries"`
	// Replayed reports that the idempotency key had been seen: the server
	// answered 200 with the first result, instead of 202, and stored
	// nothing new.
	Replayed bool `json:"-"`
}

// DeliveryRef names a delivery created for a submitted event.
type DeliveryRef struct {
	ID         string `json:"id"`
	EndpointID string `json:"endpoint_id"`
}

// SubmitEvent stores an event and schedules its delivery to the account's
// matching endpoints (POST /v1/events). It needs the admin token.
//
// Data that does not match the event type's schema is CodeInvalidEvent, an
// unknown type CodeUnknownEventType, a reused idempotency key with other
// data CodeIdempotencyConflict, and a body over the server's limit
// CodePayloadTooLarge.
//
// With an IdempotencyKey, a 503 (CodeUnavailable: the server's database is
// out for the moment) is retried after the answer's Retry-After, up to
// submitRetries times or until ctx ends: the key makes a repeat safe,
// since an event the server did store answers 200 with the first result.
// Without a key nothing is retried, since a repeat could store the event
// twice.
func (c *Client) SubmitEvent(ctx context.Context, p SubmitEventParams) (*SubmitEventResult, error) {
	body := struct {
		AccountID string `json:"account_id"`
		Event     string `json:"event"`
		Data      any    `json:"data,omitempty"`
	}{p.AccountID, p.Event, p.Data}
	for try := 0; ; try++ {
		var res SubmitEventResult
		status, err := c.call(ctx, request{
			method: http.MethodPost, path: []string{"v1", "events"}, body: body, idempotencyKey: p.IdempotencyKey,
		}, &res)
		if err == nil {
			res.Replayed = status == http.StatusOK
			return &res, nil
		}
		var e *Error
		if p.IdempotencyKey == "" || try == submitRetries || !errors.As(err, &e) || e.StatusCode != http.StatusServiceUnavailable {
			return nil, err
		}
		if !waitRetry(ctx, e) {
			return nil, err
		}
	}
}

const (
	// submitRetries is how often SubmitEvent repeats a call with an
	// idempotency key that got 503.
	submitRetries = 5
	// maxRetryWait caps the wait a Retry-After asks for.
	maxRetryWait = 30 * time.Second
)

// waitRetry waits before repeating a call that got e (a 503): as long as
// its Retry-After asks, 1 s without one, at most maxRetryWait. It reports
// false if ctx ended first.
func waitRetry(ctx context.Context, e *Error) bool {
	wait := e.RetryAfter
	if wait <= 0 {
		wait = time.Second
	}
	t := time.NewTimer(min(wait, maxRetryWait))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// GetEvent returns a stored event (GET /v1/events/{id}).
func (c *Client) GetEvent(ctx context.Context, id string) (*Envelope, error) {
	var e Envelope
	if _, err := c.call(ctx, request{method: http.MethodGet, path: []string{"v1", "events", id}}, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// GetEventRaw returns the stored envelope of an event exactly as hookd
// stored it: the bytes it delivers and signs.
func (c *Client) GetEventRaw(ctx context.Context, id string) ([]byte, error) {
	_, data, err := c.do(ctx, request{method: http.MethodGet, path: []string{"v1", "events", id}})
	if err != nil {
		return nil, err
	}
	return data, nil
}

// EventTypes returns the catalogue of event types that endpoints can
// subscribe to and producers can submit (GET /v1/event-types). Any valid
// token may call it.
func (c *Client) EventTypes(ctx context.Context) ([]EventType, error) {
	var types []EventType
	for t, err := range all(ListParams{}, func(p ListParams) (*Page[EventType], error) {
		return getPage[EventType](ctx, c, []string{"v1", "event-types"}, p.values())
	}) {
		if err != nil {
			return nil, err
		}
		types = append(types, t)
	}
	return types, nil
}

// EventListParams selects events for ListEvents. Empty filters are not
// applied.
type EventListParams struct {
	ListParams
	// AccountID filters by account; only the admin may set it (an account
	// token lists its own events).
	AccountID string
	// Event is an event type, such as "call.received", or "webhook.test"
	// for the events of connection tests.
	Event string
	// Since keeps events accepted at or after it, Until those accepted
	// before it; zero times do not filter.
	Since, Until time.Time
}

// ListEvents returns a page of stored events, newest first (GET
// /v1/events). Each is the envelope that GetEvent returns.
func (c *Client) ListEvents(ctx context.Context, p EventListParams) (*Page[Envelope], error) {
	q := p.ListParams.values()
	setNonEmpty(q, "account_id", p.AccountID)
	setNonEmpty(q, "event", p.Event)
	if !p.Since.IsZero() {
		q.Set("since", p.Since.UTC().Format(time.RFC3339Nano))
	}
	if !p.Until.IsZero() {
		q.Set("until", p.Until.UTC().Format(time.RFC3339Nano))
	}
	return getPage[Envelope](ctx, c, []string{"v1", "events"}, q)
}

// AllEvents iterates over the events that p selects, page after page,
// starting at p.Cursor. It yields the first error and stops there.
func (c *Client) AllEvents(ctx context.Context, p EventListParams) iter.Seq2[Envelope, error] {
	return all(p.ListParams, func(lp ListParams) (*Page[Envelope], error) {
		q := p
		q.ListParams = lp
		return c.ListEvents(ctx, q)
	})
}
