package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"time"
)

// Endpoint is a URL that receives an account's events.
type Endpoint struct {
	ID          string `json:"id"`
	AccountID   string `json:"account_id"`
	URL         string `json:"url"`
	Description string `json:"description"`
	// EventTypes is the subscription: catalogue types, or ["*"] for all.
	EventTypes []string `json:"event_types"`
	// Signing is "hmac-sha256" or "ed25519".
	Signing string `json:"signing"`
	// PublicKey is the "whpk_" key that verifies an ed25519 endpoint's
	// signatures; nil for HMAC endpoints.
	PublicKey *string `json:"public_key"`
	Enabled   bool    `json:"enabled"`
	// DisabledReason is "manual", "consecutive_failures" or "gone" while
	// the endpoint is disabled, else nil.
	DisabledReason      *string    `json:"disabled_reason"`
	DisabledAt          *time.Time `json:"disabled_at"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
	// Headers maps each custom header to its masked value, such as
	// "••••5f2c"; GetEndpointHeaders returns the values in full.
	Headers map[string]string `json:"headers"`
	// Filter is the payload filter as written, or JSON null.
	Filter json.RawMessage `json:"filter"`
	// RateLimit is the most deliveries per second, or nil for no limit.
	RateLimit *int `json:"rate_limit"`
	// Secret is the "whsec_" signing secret of an HMAC endpoint. It is set
	// only in the answer to CreateEndpoint; GetSecret returns it later.
	Secret string `json:"secret,omitempty"`
}

// CreateEndpointParams is a new endpoint for CreateEndpoint.
type CreateEndpointParams struct {
	// AccountID is the endpoint's account. The admin must set it; with an
	// account token it is the token's account and may be left empty.
	AccountID string
	// URL is an absolute https URL (http only if the server allows it).
	URL string
	// EventTypes lists catalogue types, or is ["*"] for all of them.
	EventTypes []string
	// Enabled, if set to false, creates the endpoint disabled; nil means
	// enabled.
	Enabled     *bool
	Description string
	// Signing is "hmac-sha256" (the default when empty) or "ed25519".
	Signing string
	// Headers are sent with every delivery (names that hookd owns or that
	// change the transport are refused).
	Headers map[string]string
	// Filter is a payload filter such as {"data.direction":"inbound"};
	// empty for none.
	Filter json.RawMessage
	// RateLimit is the most deliveries per second (1–10000); 0 for none.
	RateLimit int
}

// UpdateEndpointParams changes an endpoint in UpdateEndpoint. Only the
// fields that are set are sent; the others stay as they are.
type UpdateEndpointParams struct {
	URL *string
	// EventTypes replaces the subscription unless it is nil.
	EventTypes  []string
	Description *string
	// Enabled disables the endpoint (false) or re-enables it (true), which
	// clears its disabled reason and failure count.
	Enabled *bool
	// Headers replaces the custom headers unless it is nil; a pointer to
	// a nil map removes them all.
	Headers *map[string]string
	// Filter replaces the payload filter unless it is empty; JSON null
	// removes it.
	Filter json.RawMessage
	// RateLimit replaces the rate limit unless it is nil; a pointer to 0
	// removes it.
	RateLimit *int
}

// EndpointListParams selects endpoints for ListEndpoints.
type EndpointListParams struct {
	ListParams
	// AccountID filters by account; only the admin may set it.
	AccountID string
}

// TestResult is the outcome of TestEndpoint.
type TestResult struct {
	// OK reports a 2xx answer within the attempt timeout.
	OK bool `json:"ok"`
	// StatusCode is the receiver's status, nil if it did not answer.
	StatusCode *int  `json:"status_code"`
	DurationMS int64 `json:"duration_ms"`
	// Error is nil on success, else a message that starts with a stable
	// code and a colon, such as "timeout:" or "tls:".
	Error *string `json:"error"`
	// Hint says what the owner can do about a failure.
	Hint string `json:"hint"`
	// DeliveryID and AttemptID name the recorded test delivery.
	DeliveryID string `json:"delivery_id"`
	AttemptID  string `json:"attempt_id"`
}

// Secret is an endpoint's signing key: Secret ("whsec_…") for HMAC
// endpoints, PublicKey ("whpk_…") for ed25519 ones.
type Secret struct {
	Secret    string `json:"secret,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
}

// CreateEndpoint creates an endpoint and returns it with its secret (POST
// /v1/endpoints). A bad URL is CodeInvalidURL and a bad subscription
// CodeInvalidEventTypes.
func (c *Client) CreateEndpoint(ctx context.Context, p CreateEndpointParams) (*Endpoint, error) {
	body := struct {
		AccountID   string            `json:"account_id,omitempty"`
		URL         string            `json:"url"`
		EventTypes  []string          `json:"event_types,omitempty"`
		Enabled     *bool             `json:"enabled,omitempty"`
		Description string            `json:"description,omitempty"`
		Signing     string            `json:"signing,omitempty"`
		Headers     map[string]string `json:"headers,omitempty"`
		Filter      json.RawMessage   `json:"filter,omitempty"`
		RateLimit   int               `json:"rate_limit,omitempty"`
	}{p.AccountID, p.URL, p.EventTypes, p.Enabled, p.Description, p.Signing, p.Headers, p.Filter, p.RateLimit}
	var e Endpoint
	if _, err := c.call(ctx, request{method: http.MethodPost, path: []string{"v1", "endpoints"}, body: body}, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// GetEndpoint returns an endpoint (GET /v1/endpoints/{id}).
func (c *Client) GetEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	var e Endpoint
	if _, err := c.call(ctx, request{method: http.MethodGet, path: []string{"v1", "endpoints", id}}, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// ListEndpoints returns a page of endpoints, newest first (GET
// /v1/endpoints).
func (c *Client) ListEndpoints(ctx context.Context, p EndpointListParams) (*Page[Endpoint], error) {
	q := p.ListParams.values()
	setNonEmpty(q, "account_id", p.AccountID)
	return getPage[Endpoint](ctx, c, []string{"v1", "endpoints"}, q)
}

// AllEndpoints iterates over the endpoints that p selects, page after page,
// starting at p.Cursor. It yields the first error and stops there.
func (c *Client) AllEndpoints(ctx context.Context, p EndpointListParams) iter.Seq2[Endpoint, error] {
	return all(p.ListParams, func(lp ListParams) (*Page[Endpoint], error) {
		q := p
		q.ListParams = lp
		return c.ListEndpoints(ctx, q)
	})
}

// UpdateEndpoint changes the fields of an endpoint that p sets and returns
// the endpoint (PATCH /v1/endpoints/{id}).
func (c *Client) UpdateEndpoint(ctx context.Context, id string, p UpdateEndpointParams) (*Endpoint, error) {
	body := struct {
		URL         *string            `json:"url,omitempty"`
		EventTypes  *[]string          `json:"event_types,omitempty"`
		Description *string            `json:"description,omitempty"`
		Enabled     *bool              `json:"enabled,omitempty"`
		Headers     *map[string]string `json:"headers,omitempty"`
		Filter      json.RawMessage    `json:"filter,omitempty"`
		RateLimit   any                `json:"rate_limit,omitempty"`
	}{URL: p.URL, Description: p.Description, Enabled: p.Enabled, Headers: p.Headers, Filter: p.Filter}
	if p.EventTypes != nil {
		body.EventTypes = &p.EventTypes
	}
	if p.RateLimit != nil {
		body.RateLimit = *p.RateLimit
		if *p.RateLimit == 0 {
			body.RateLimit = json.RawMessage("null")
		}
	}
	var e Endpoint
	if _, err := c.call(ctx, request{method: http.MethodPatch, path: []string{"v1", "endpoints", id}, body: body}, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// DeleteEndpoint deletes an endpoint and cancels its pending deliveries
// (DELETE /v1/endpoints/{id}). The deliveries stay readable by id.
func (c *Client) DeleteEndpoint(ctx context.Context, id string) error {
	_, _, err := c.do(ctx, request{method: http.MethodDelete, path: []string{"v1", "endpoints", id}})
	return err
}

// TestEndpoint sends a webhook.test event to an endpoint and waits for the
// outcome (POST /v1/endpoints/{id}/test). It works on disabled endpoints
// and never changes the endpoint. A failed test is not an error: see
// TestResult.OK.
func (c *Client) TestEndpoint(ctx context.Context, id string) (*TestResult, error) {
	var t TestResult
	if _, err := c.call(ctx, request{method: http.MethodPost, path: []string{"v1", "endpoints", id, "test"}}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// RotateSecret gives an endpoint a new signing key and returns it (POST
// /v1/endpoints/{id}/rotate-secret). The old key keeps signing too for the
// server's overlap window (24 hours by default).
func (c *Client) RotateSecret(ctx context.Context, id string) (*Secret, error) {
	return c.secret(ctx, request{method: http.MethodPost, path: []string{"v1", "endpoints", id, "rotate-secret"}})
}

// GetSecret returns an endpoint's current signing key (GET
// /v1/endpoints/{id}/secret).
func (c *Client) GetSecret(ctx context.Context, id string) (*Secret, error) {
	return c.secret(ctx, request{method: http.MethodGet, path: []string{"v1", "endpoints", id, "secret"}})
}

func (c *Client) secret(ctx context.Context, r request) (*Secret, error) {
	var s Secret
	if _, err := c.call(ctx, r, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Recover queues a new delivery to an endpoint of every event accepted at
// or after since that it has not received and that is not pending, and
// returns how many it queued (POST /v1/endpoints/{id}/recover). The server
// clamps since to the endpoint's creation and its retention window, so the
// zero time recovers all it can. A disabled endpoint is
// CodeEndpointDisabled.
func (c *Client) Recover(ctx context.Context, id string, since time.Time) (int, error) {
	body := struct {
		Since string `json:"since"`
	}{since.UTC().Format(time.RFC3339Nano)}
	var out struct {
		Queued int `json:"queued"`
	}
	if _, err := c.call(ctx, request{method: http.MethodPost, path: []string{"v1", "endpoints", id, "recover"}, body: body}, &out); err != nil {
		return 0, err
	}
	return out.Queued, nil
}

// GetEndpointHeaders returns an endpoint's custom headers with their
// values in full (GET /v1/endpoints/{id}/headers).
func (c *Client) GetEndpointHeaders(ctx context.Context, id string) (map[string]string, error) {
	var out struct {
		Headers map[string]string `json:"headers"`
	}
	if _, err := c.call(ctx, request{method: http.MethodGet, path: []string{"v1", "endpoints", id, "headers"}}, &out); err != nil {
		return nil, err
	}
	return out.Headers, nil
}

// FilterTestParams asks FilterTest whether a filter takes an event.
type FilterTestParams struct {
	// Filter is the filter to try; empty means the endpoint's own, JSON
	// null no filter.
	Filter json.RawMessage
	// Event is a stored event's id. Without it, Data (or, when Data is
	// empty too, the catalogue's example) of EventType is tried; EventType
	// defaults to the endpoint's first event type.
	Event     string
	EventType string
	Data      json.RawMessage
}

// FilterTestResult is the answer of FilterTest.
type FilterTestResult struct {
	Matches bool `json:"matches"`
	// Explanation says, one line per condition, why.
	Explanation []string `json:"explanation"`
	EventID     *string  `json:"event_id"`
	EventType   string   `json:"event_type"`
}

// FilterTest matches a payload filter against an event without saving
// anything (POST /v1/endpoints/{id}/filter-test). An invalid filter is
// CodeInvalidFilter.
func (c *Client) FilterTest(ctx context.Context, id string, p FilterTestParams) (*FilterTestResult, error) {
	body := struct {
		Filter    json.RawMessage `json:"filter,omitempty"`
		Event     string          `json:"event,omitempty"`
		EventType string          `json:"event_type,omitempty"`
		Data      json.RawMessage `json:"data,omitempty"`
	}{p.Filter, p.Event, p.EventType, p.Data}
	var out FilterTestResult
	if _, err := c.call(ctx, request{method: http.MethodPost, path: []string{"v1", "endpoints", id, "filter-test"}, body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
