package service

import (
	"context"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/webhook"
)

// DeliveryFilter filters a delivery list; empty fields do not filter.
type DeliveryFilter struct {
	AccountID  string
	EndpointID string
	EventID    string
	Status     string
}

// ListDeliveries lists deliveries newest first. Filter ids must exist
// and be the actor's (else 404).
func (s *Service) ListDeliveries(ctx context.Context, actor Actor, f DeliveryFilter, page Page) ([]*hook.Delivery, bool, error) {
	accountID, err := s.accountFilter(ctx, actor, f.AccountID)
	if err != nil {
		return nil, false, err
	}
	if f.EndpointID != "" {
		if _, err := s.GetEndpoint(ctx, actor, f.EndpointID); err != nil {
			return nil, false, err
		}
	}
	if f.EventID != "" {
		if _, err := s.GetEvent(ctx, actor, f.EventID); err != nil {
			return nil, false, err
		}
	}
	switch f.Status {
	case "", hook.StatusPending, hook.StatusSucceeded, hook.StatusFailed, hook.StatusCanceled:
	default:
		return nil, false, hook.FieldErrorf(hook.EInvalidParameter, "status",
			"status is one of pending, succeeded, failed, canceled.")
	}
	limit := page.Limit
	page.Limit++
	ds, err := s.cfg.Store.DeliveryList(ctx, &store.DeliveryListParams{
		AccountID: accountID, EndpointID: f.EndpointID, EventID: f.EventID, Status: f.Status, Page: page})
	if err != nil {
		return nil, false, err
	}
	ds, more := pageOf(ds, limit)
	return ds, more, nil
}

// GetDelivery returns a delivery the actor can see.
func (s *Service) GetDelivery(ctx context.Context, actor Actor, id string) (*hook.Delivery, error) {
	d, err := s.cfg.Store.DeliveryGet(ctx, id)
	if err != nil {
		return nil, notFound(err, "delivery")
	}
	if !actor.sees(d.AccountID) {
		return nil, hook.NotFound("delivery")
	}
	return d, nil
}

// ListAttempts lists a delivery's attempts in number order; after is the
// last attempt number of the previous page.
func (s *Service) ListAttempts(ctx context.Context, actor Actor, deliveryID string, after, limit int) ([]*hook.Attempt, bool, error) {
	if _, err := s.GetDelivery(ctx, actor, deliveryID); err != nil {
		return nil, false, err
	}
	as, err := s.cfg.Store.AttemptList(ctx, &store.AttemptListParams{DeliveryID: deliveryID, After: after, Limit: limit + 1})
	if err != nil {
		return nil, false, err
	}
	as, more := pageOf(as, limit)
	return as, more, nil
}

// Redeliver creates a new delivery of a delivery's event to its endpoint.
func (s *Service) Redeliver(ctx context.Context, actor Actor, deliveryID string) (*hook.Delivery, error) {
	if _, err := s.GetDelivery(ctx, actor, deliveryID); err != nil {
		return nil, err
	}
	d, err := s.cfg.Store.DeliveryRedeliver(ctx, &store.DeliveryRedeliverParams{DeliveryID: deliveryID, Now: s.now()})
	return d, notFound(err, "delivery")
}

// TestResult is the answer to a connection test.
type TestResult struct {
	OK         bool
	StatusCode int
	Duration   time.Duration
	Error      string
	Hint       string
	DeliveryID string
	AttemptID  string
}

// TestEndpoint sends a webhook.test event to the endpoint now, through the
// same sender as deliveries, and records it as a delivery with one
// attempt (trigger test). It works on a disabled endpoint and never
// changes the endpoint.
func (s *Service) TestEndpoint(ctx context.Context, actor Actor, id string) (*TestResult, error) {
	e, err := s.GetEndpoint(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	live := hook.LiveKeys(e.Keys, now)
	keys := make([]string, 0, len(live))
	for _, k := range live {
		plain, err := s.OpenKey(k.Value)
		if err != nil {
			return nil, err
		}
		keys = append(keys, plain)
	}
	signer, err := webhook.NewSigner(keys...)
	if err != nil {
		return nil, err
	}
	evID := hook.NewIDAt(hook.PrefixEvent, now)
	ev := &hook.Event{ID: evID, AccountID: e.AccountID, Type: catalog.WebhookTest, CreatedAt: now,
		Body: hook.EncodeEnvelope(evID, catalog.WebhookTest, now, e.AccountID, catalog.TestData(now))}

	headers, err := s.openHeaders(e.Headers)
	if err != nil {
		return nil, err
	}
	// The test ignores the filter and the rate limit, not the headers.
	o := s.cfg.Sender.Send(ctx, &delivery.Request{URL: e.URL, MsgID: evID, Body: ev.Body, Signer: signer, Headers: headers})

	status := hook.StatusSucceeded
	if !o.OK() {
		status = hook.StatusFailed
	}
	done := s.now()
	d := &hook.Delivery{ID: hook.NewIDAt(hook.PrefixDelivery, now), EventID: evID, EndpointID: e.ID, AccountID: e.AccountID,
		Trigger: hook.TriggerTest, Status: status, Attempts: 1, LastStatusCode: o.StatusCode, LastError: o.Error,
		CreatedAt: now, UpdatedAt: done}
	a := &hook.Attempt{ID: hook.NewIDAt(hook.PrefixAttempt, o.StartedAt), DeliveryID: d.ID, Number: 1, Trigger: hook.TriggerTest,
		StartedAt: o.StartedAt, Duration: o.Duration, StatusCode: o.StatusCode, Error: o.Error,
		ResponseBody: o.ResponseBody, RequestHeaders: o.RequestHeaders}
	// Record it even if the caller went away meanwhile.
	if err := s.cfg.Store.TestRecord(context.WithoutCancel(ctx), &store.TestRecordParams{Event: ev, Delivery: d, Attempt: a}); err != nil {
		return nil, err
	}
	outcome := "success"
	if !o.OK() {
		outcome = o.Code
	}
	s.cfg.Metrics.Attempts.WithLabelValues(outcome, hook.TriggerTest).Inc()
	return &TestResult{OK: o.OK(), StatusCode: o.StatusCode, Duration: o.Duration, Error: o.Error,
		Hint: delivery.HintFor(o, s.cfg.Sender.Timeout(), e.URL), DeliveryID: d.ID, AttemptID: a.ID}, nil
}
