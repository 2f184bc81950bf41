package hook

import (
	"encoding/json"
	"time"
)

// Operator event types: hookd's own, sent to --operator-webhook only.
const (
	EventEndpointDisabled = "endpoint.disabled"
	EventEndpointEnabled  = "endpoint.enabled"
)

// OperatorEvent is an endpoint.disabled or endpoint.enabled message on its
// way to the operator webhook.
type OperatorEvent struct {
	ID        string
	Body      []byte // the envelope
	CreatedAt time.Time
}

// EndpointDisabledEvent is the operator event for an automatic disable of
// e (already disabled: DisabledReason and DisabledAt set).
func EndpointDisabledEvent(e *Endpoint, now time.Time) OperatorEvent {
	data, _ := json.Marshal(struct { // plain strings always marshal
		EndpointID string `json:"endpoint_id"`
		AccountID  string `json:"account_id"`
		URL        string `json:"url"`
		Reason     string `json:"reason"`
		DisabledAt string `json:"disabled_at"`
	}{e.ID, e.AccountID, e.URL, e.DisabledReason, FormatTime(e.DisabledAt)})
	return operatorEvent(EventEndpointDisabled, e.AccountID, data, now)
}

// EndpointEnabledEvent is the operator event for the re-enable of an
// endpoint that hookd had disabled.
func EndpointEnabledEvent(e *Endpoint, now time.Time) OperatorEvent {
	data, _ := json.Marshal(struct {
		EndpointID string `json:"endpoint_id"`
		AccountID  string `json:"account_id"`
		URL        string `json:"url"`
	}{e.ID, e.AccountID, e.URL})
	return operatorEvent(EventEndpointEnabled, e.AccountID, data, now)
}

func operatorEvent(eventType, accountID string, data []byte, now time.Time) OperatorEvent {
	id := NewIDAt(PrefixEvent, now)
	return OperatorEvent{ID: id, Body: EncodeEnvelope(id, eventType, now, accountID, data), CreatedAt: now}
}
