package service

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// MaxBatchEvents is the most events one POST /v1/events/batch may carry
// (docs/api.md).
const MaxBatchEvents = 500

// SubmitEvents validates each event of a batch on its own and stores the
// valid ones, with their deliveries, in one durable commit. It answers
// each item in order: the stored (or, for a known idempotency key,
// replayed) event, or the *hook.Error that concerns that item alone. It
// fails as a whole only for a batch it cannot take (not admin, more than
// MaxBatchEvents) or a store that cannot commit; then nothing is stored.
func (s *Service) SubmitEvents(ctx context.Context, actor Actor, ins []SubmitEventInput) ([]store.EventBatchItem, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	if len(ins) > MaxBatchEvents {
		return nil, hook.FieldErrorf(hook.EInvalidParameter, "events",
			"A batch holds at most %d events; this one has %d. Split it.", MaxBatchEvents, len(ins))
	}
	out := make([]store.EventBatchItem, len(ins))
	now := s.now()
	var (
		params []*store.EventCreateParams
		index  []int // params[j] is item index[j]
	)
	for i, in := range ins {
		p, err := s.prepareEvent(ctx, in, now)
		var he *hook.Error
		if errors.As(err, &he) {
			out[i].Err = err
			continue
		}
		if err != nil {
			return nil, err
		}
		params, index = append(params, p), append(index, i)
	}
	if len(params) == 0 {
		return out, nil
	}
	res, err := s.cfg.Events.EventCreateBatch(ctx, params)
	if err != nil {
		return nil, err
	}
	accepted := 0
	for j, r := range res {
		out[index[j]] = r
		if r.Result != nil && !r.Result.Replayed {
			accepted++
		}
	}
	s.cfg.Metrics.EventsAccepted.Add(float64(accepted))
	return out, nil
}

// prepareEvent checks one submitted event (SubmitEvent, SubmitEvents) and
// makes the store's parameters for it.
func (s *Service) prepareEvent(ctx context.Context, in SubmitEventInput, now time.Time) (*store.EventCreateParams, error) {
	if in.AccountID == "" {
		return nil, hook.FieldErrorf(hook.EInvalidParameter, "account_id", "account_id is required.")
	}
	if in.Event == "" {
		return nil, hook.FieldErrorf(hook.EUnknownEventType, "event", "event is required.")
	}
	if len(in.IdempotencyKey) > maxIdempotencyKeyLen || !utf8.ValidString(in.IdempotencyKey) {
		return nil, hook.FieldErrorf(hook.EInvalidParameter, "idempotency_key",
			"An idempotency key is valid UTF-8 of at most %d bytes.", maxIdempotencyKeyLen)
	}
	data, err := s.cfg.Catalog.Validate(in.Event, in.Data)
	if err != nil {
		var ce *catalog.Error
		if errors.As(err, &ce) {
			return nil, &hook.Error{Code: ce.Code, Field: ce.Field, Message: sentence(ce.Field, ce.Message)}
		}
		return nil, err
	}
	if err := s.accountExists(ctx, in.AccountID); err != nil {
		return nil, err
	}
	id := hook.NewIDAt(hook.PrefixEvent, now)
	ev := &hook.Event{
		ID:        id,
		AccountID: in.AccountID,
		Type:      in.Event,
		Body:      hook.EncodeEnvelope(id, in.Event, now, in.AccountID, data),
		CreatedAt: now,
	}
	p := &store.EventCreateParams{Event: ev, Match: s.eventMatcher(ev.Body)}
	if in.IdempotencyKey != "" {
		canon, err := canonicalJSON(data)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		h.Write([]byte(in.Event))
		h.Write([]byte{0})
		h.Write(canon)
		p.IdempotencyKey, p.RequestHash, p.IdempotencyTTL = in.IdempotencyKey, h.Sum(nil), IdempotencyTTL
	}
	return p, nil
}
