package client

import (
	"context"
	"errors"
	"net/http"
)

// MaxBatchEvents is the most events one SubmitEvents call may carry.
const MaxBatchEvents = 500

// BatchItem is the answer to one event of SubmitEvents: Result when the
// event was stored (or its idempotency key replayed it), Err otherwise.
type BatchItem struct {
	// Result is as SubmitEvent would answer; Replayed reports an
	// idempotency key seen before, in an earlier request or earlier in
	// the same batch.
	Result *SubmitEventResult
	// Err is the event's own error, with the Code and Field a single
	// event would get (CodeInvalidEvent, CodeIdempotencyConflict, …);
	// its StatusCode is 0: the request itself succeeded.
	Err *Error
}

// SubmitEvents submits up to MaxBatchEvents events in one request (POST
// /v1/events/batch), for one account or several. It needs the admin
// token. hookd checks each event on its own and stores all that pass in
// one commit; the answer has one BatchItem per event, in order. The error
// is for the request as a whole (more than MaxBatchEvents events, a body
// over the server's --max-batch-bytes, a network failure), and then
// nothing was stored.
//
// When every event has an IdempotencyKey, a 503 (CodeUnavailable) is
// retried as SubmitEvent retries it: the keys make a repeat safe.
func (c *Client) SubmitEvents(ctx context.Context, events []SubmitEventParams) ([]BatchItem, error) {
	type item struct {
		AccountID      string `json:"account_id"`
		Event          string `json:"event"`
		Data           any    `json:"data,omitempty"`
		IdempotencyKey string `json:"idempotency_key,omitempty"`
	}
	body := struct {
		Events []item `json:"events"`
	}{Events: make([]item, len(events))}
	keyed := true
	for i, p := range events {
		body.Events[i] = item{p.AccountID, p.Event, p.Data, p.IdempotencyKey}
		keyed = keyed && p.IdempotencyKey != ""
	}
	for try := 0; ; try++ {
		var res struct {
			Results []struct {
				ID         string        `json:"id"`
				Deliveries []DeliveryRef `json:"deliveries"`
				Replayed   bool          `json:"replayed"`
				Error      *struct {
					Code    string `json:"code"`
					Message string `json:"message"`
					Field   string `json:"field"`
				} `json:"error"`
			} `json:"results"`
		}
		_, err := c.call(ctx, request{method: http.MethodPost, path: []string{"v1", "events", "batch"}, body: body}, &res)
		if err == nil {
			if len(res.Results) != len(events) {
				return nil, errors.New("hookd: POST /v1/events/batch: the answer does not have one result per event")
			}
			out := make([]BatchItem, len(events))
			for i, r := range res.Results {
				if r.Error != nil {
					out[i].Err = &Error{Code: r.Error.Code, Message: r.Error.Message, Field: r.Error.Field}
					continue
				}
				if r.Deliveries == nil {
					r.Deliveries = []DeliveryRef{}
				}
				out[i].Result = &SubmitEventResult{ID: r.ID, Deliveries: r.Deliveries, Replayed: r.Replayed}
			}
			return out, nil
		}
		var e *Error
		if !keyed || len(events) == 0 || try == submitRetries || !errors.As(err, &e) || e.StatusCode != http.StatusServiceUnavailable {
			return nil, err
		}
		if !waitRetry(ctx, e) {
			return nil, err
		}
	}
}
