package httpapi

import (
	"encoding/json"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/service"
)

// The JSON shapes of the API (docs/api.md; openapi.json has them as schemas). Times are hook.FormatTime strings;
// absent values are null.

type accountJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
	Token     string `json:"token,omitempty"`
}

func accountView(a *hook.Account, token string) accountJSON {
	return accountJSON{ID: a.ID, Name: a.Name, CreatedAt: hook.FormatTime(a.CreatedAt), Token: token}
}

type endpointJSON struct {
	ID                  string   `json:"id"`
	AccountID           string   `json:"account_id"`
	URL                 string   `json:"url"`
	Description         string   `json:"description"`
	EventTypes          []string `json:"event_types"`
	Signing             string   `json:"signing"`
	PublicKey           *string  `json:"public_key"`
	Enabled             bool     `json:"enabled"`
	DisabledReason      *string  `json:"disabled_reason"`
	DisabledAt          *string  `json:"disabled_at"`
	ConsecutiveFailures int      `json:"consecutive_failures"`
	CreatedAt           string   `json:"created_at"`
	UpdatedAt           string   `json:"updated_at"`
	// Headers maps each custom header to its masked value (values in full:
	// GET …/headers); Filter is the payload filter as written, or null;
	// RateLimit is deliveries per second, or null.
	Headers   map[string]string `json:"headers"`
	Filter    json.RawMessage   `json:"filter"`
	RateLimit *int              `json:"rate_limit"`
	// Secret is only in the answer to create.
	Secret string `json:"secret,omitempty"`
}

func endpointView(e *hook.Endpoint) endpointJSON {
	return endpointJSON{
		ID:                  e.ID,
		AccountID:           e.AccountID,
		URL:                 e.URL,
		Description:         e.Description,
		EventTypes:          e.EventTypes,
		Signing:             e.Signing,
		PublicKey:           optString(e.PublicKey),
		Enabled:             e.Enabled,
		DisabledReason:      optString(e.DisabledReason),
		DisabledAt:          optTime(e.DisabledAt),
		ConsecutiveFailures: e.ConsecutiveFailures,
		CreatedAt:           hook.FormatTime(e.CreatedAt),
		UpdatedAt:           hook.FormatTime(e.UpdatedAt),
		Headers:             hook.MaskedHeaders(e.Headers),
		Filter:              optJSON(e.Filter),
		RateLimit:           optInt(e.RateLimit),
	}
}

// optJSON is raw JSON, or null when empty.
func optJSON(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

type deliveryJSON struct {
	ID             string  `json:"id"`
	EventID        string  `json:"event_id"`
	EndpointID     string  `json:"endpoint_id"`
	Trigger        string  `json:"trigger"`
	Status         string  `json:"status"`
	Attempts       int     `json:"attempts"`
	NextAttemptAt  *string `json:"next_attempt_at"`
	LastStatusCode *int    `json:"last_status_code"`
	LastError      *string `json:"last_error"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
}

func deliveryView(d *hook.Delivery) deliveryJSON {
	v := deliveryJSON{
		ID:             d.ID,
		EventID:        d.EventID,
		EndpointID:     d.EndpointID,
		Trigger:        d.Trigger,
		Status:         d.Status,
		Attempts:       d.Attempts,
		LastStatusCode: optInt(d.LastStatusCode),
		LastError:      optString(d.LastError),
		CreatedAt:      hook.FormatTime(d.CreatedAt),
		UpdatedAt:      hook.FormatTime(d.UpdatedAt),
	}
	if d.Status == hook.StatusPending {
		v.NextAttemptAt = optTime(d.NextAttemptAt)
	}
	return v
}

type attemptJSON struct {
	ID             string            `json:"id"`
	DeliveryID     string            `json:"delivery_id"`
	Number         int               `json:"number"`
	Trigger        string            `json:"trigger"`
	StartedAt      string            `json:"started_at"`
	DurationMS     int64             `json:"duration_ms"`
	StatusCode     *int              `json:"status_code"`
	Error          *string           `json:"error"`
	ResponseBody   string            `json:"response_body"`
	RequestHeaders map[string]string `json:"request_headers"`
}

func attemptView(a *hook.Attempt) attemptJSON {
	h := a.RequestHeaders
	if h == nil {
		h = map[string]string{}
	}
	return attemptJSON{
		ID:             a.ID,
		DeliveryID:     a.DeliveryID,
		Number:         a.Number,
		Trigger:        a.Trigger,
		StartedAt:      hook.FormatTime(a.StartedAt),
		DurationMS:     a.Duration.Milliseconds(),
		StatusCode:     optInt(a.StatusCode),
		Error:          optString(a.Error),
		ResponseBody:   a.ResponseBody,
		RequestHeaders: h,
	}
}

type testJSON struct {
	OK         bool    `json:"ok"`
	StatusCode *int    `json:"status_code"`
	DurationMS int64   `json:"duration_ms"`
	Error      *string `json:"error"`
	Hint       string  `json:"hint"`
	DeliveryID string  `json:"delivery_id"`
	AttemptID  string  `json:"attempt_id"`
}

func testView(t *service.TestResult) testJSON {
	return testJSON{OK: t.OK, StatusCode: optInt(t.StatusCode), DurationMS: t.Duration.Milliseconds(),
		Error: optString(t.Error), Hint: t.Hint, DeliveryID: t.DeliveryID, AttemptID: t.AttemptID}
}

type secretJSON struct {
	Secret    string `json:"secret,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optInt(v int) *int {
	if v == 0 {
		return nil
	}
	return &v
}

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := hook.FormatTime(t)
	return &s
}
