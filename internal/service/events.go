package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// maxIdempotencyKeyLen bounds idempotency keys.
const maxIdempotencyKeyLen = 255

// SubmitEventInput is a producer's event.
type SubmitEventInput struct {
	AccountID      string
	Event          string
	Data           json.RawMessage
	IdempotencyKey string
}

// SubmitEvent validates an event, stores it with its deliveries (durably,
// before returning) and returns them. Replayed is set when an earlier
// request with the same idempotency key already did so.
func (s *Service) SubmitEvent(ctx context.Context, actor Actor, in SubmitEventInput) (*store.EventCreateResult, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	p, err := s.prepareEvent(ctx, in, s.now())
	if err != nil {
		return nil, err
	}
	res, err := s.cfg.Events.EventCreate(ctx, p)
	if err != nil {
		return nil, err
	}
	if !res.Replayed {
		s.cfg.Metrics.EventsAccepted.Inc()
	}
	return res, nil
}

// sentence makes "data.from.number" + "is required" read as one message.
func sentence(field, msg string) string {
	if field == "" {
		return msg
	}
	return field + " " + msg
}

// GetEvent returns a stored event.
func (s *Service) GetEvent(ctx context.Context, actor Actor, id string) (*hook.Event, error) {
	ev, err := s.cfg.Store.EventGet(ctx, id)
	if err != nil {
		return nil, notFound(err, "event")
	}
	if !actor.sees(ev.AccountID) {
		return nil, hook.NotFound("event")
	}
	return ev, nil
}

// EventTypes lists the catalogue.
func (s *Service) EventTypes() []catalog.EventType {
	return s.cfg.Catalog.Types()
}

// canonicalJSON re-encodes valid JSON with object keys sorted, so that the
// same data sent with another key order or spacing hashes the same.
// Numbers keep their digits (json.Number).
func canonicalJSON(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonical data: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("canonical data: %w", err)
	}
	return buf.Bytes(), nil
}

// accountExists checks that an event's account exists. Accounts are never
// deleted, so an account once found is remembered and not looked up for
// every event.
func (s *Service) accountExists(ctx context.Context, id string) error {
	if _, ok := s.knownAccounts.Load(id); ok {
		return nil
	}
	if _, err := s.cfg.Store.AccountGet(ctx, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return hook.FieldErrorf(hook.EInvalidReference, "account_id", "No account has this id.")
		}
		return err
	}
	s.knownAccounts.Store(id, struct{}{})
	return nil
}
