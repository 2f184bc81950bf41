package client

import (
	"context"
	"iter"
	"net/http"
	"time"
)

// Delivery is the delivery of one event to one endpoint, with its
// attempts and retries.
type Delivery struct {
	ID         string `json:"id"`
	EventID    string `json:"event_id"`
	EndpointID string `json:"endpoint_id"`
	// Trigger is "scheduled", "test", "redeliver" or "recover".
	Trigger string `json:"trigger"`
	// Status is "pending", "succeeded", "failed" or "canceled".
	Status string `json:"status"`
	// Attempts counts the attempts made so far.
	Attempts int `json:"attempts"`
	// NextAttemptAt is set while the delivery is pending.
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	LastStatusCode *int       `json:"last_status_code"`
	LastError      *string    `json:"last_error"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Attempt is one HTTP request of a delivery to its endpoint.
type Attempt struct {
	ID         string `json:"id"`
	DeliveryID string `json:"delivery_id"`
	// Number counts from 1 within the delivery.
	Number     int       `json:"number"`
	Trigger    string    `json:"trigger"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS int64     `json:"duration_ms"`
	// StatusCode is nil if the receiver did not answer.
	StatusCode *int `json:"status_code"`
	// Error is nil on success, else a message that starts with a stable
	// code and a colon, such as "http_status:" or "connect:".
	Error *string `json:"error"`
	// ResponseBody is the start of the receiver's answer (at most 4 KiB).
	ResponseBody   string            `json:"response_body"`
	RequestHeaders map[string]string `json:"request_headers"`
}

// DeliveryListParams selects deliveries for ListDeliveries. Empty filters
// are not applied.
type DeliveryListParams struct {
	ListParams
	// AccountID filters by account; only the admin may set it.
	AccountID  string
	EndpointID string
	EventID    string
	// Status is "pending", "succeeded", "failed" or "canceled".
	Status string
}

// ListDeliveries returns a page of deliveries, newest first (GET
// /v1/deliveries).
func (c *Client) ListDeliveries(ctx context.Context, p DeliveryListParams) (*Page[Delivery], error) {
	q := p.ListParams.values()
	setNonEmpty(q, "account_id", p.AccountID)
	setNonEmpty(q, "endpoint_id", p.EndpointID)
	setNonEmpty(q, "event_id", p.EventID)
	setNonEmpty(q, "status", p.Status)
	return getPage[Delivery](ctx, c, []string{"v1", "deliveries"}, q)
}

// AllDeliveries iterates over the deliveries that p selects, page after
// page, starting at p.Cursor. It yields the first error and stops there.
func (c *Client) AllDeliveries(ctx context.Context, p DeliveryListParams) iter.Seq2[Delivery, error] {
	return all(p.ListParams, func(lp ListParams) (*Page[Delivery], error) {
		q := p
		q.ListParams = lp
		return c.ListDeliveries(ctx, q)
	})
}

// GetDelivery returns a delivery (GET /v1/deliveries/{id}).
func (c *Client) GetDelivery(ctx context.Context, id string) (*Delivery, error) {
	var d Delivery
	if _, err := c.call(ctx, request{method: http.MethodGet, path: []string{"v1", "deliveries", id}}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// ListAttempts returns a page of a delivery's attempts in number order
// (GET /v1/deliveries/{id}/attempts).
func (c *Client) ListAttempts(ctx context.Context, deliveryID string, p ListParams) (*Page[Attempt], error) {
	return getPage[Attempt](ctx, c, []string{"v1", "deliveries", deliveryID, "attempts"}, p.values())
}

// Redeliver creates a new delivery of a delivery's event to its endpoint,
// attempted now, and returns it (POST /v1/deliveries/{id}/redeliver). A
// disabled endpoint is CodeEndpointDisabled, a delivery of the event
// already pending CodeAlreadyPending, and a test delivery
// CodeNotRedeliverable.
func (c *Client) Redeliver(ctx context.Context, deliveryID string) (*Delivery, error) {
	var d Delivery
	if _, err := c.call(ctx, request{method: http.MethodPost, path: []string{"v1", "deliveries", deliveryID, "redeliver"}}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}
