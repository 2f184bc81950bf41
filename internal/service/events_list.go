package service

import (
	"context"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// EventFilter filters an event list; empty fields do not filter.
type EventFilter struct {
	AccountID string
	// Event is an event type: a catalogue type or webhook.test.
	Event string
	// Since keeps events accepted at or after it, Until those accepted
	// before it.
	Since, Until time.Time
}

// ListEvents lists stored events newest first (docs/api.md, "GET
// /v1/events"). An account lists its own; the admin every account's, or
// one account's with f.AccountID. The events of connection tests
// (webhook.test) are listed too.
func (s *Service) ListEvents(ctx context.Context, actor Actor, f EventFilter, page Page) ([]*hook.Event, bool, error) {
	accountID, err := s.accountFilter(ctx, actor, f.AccountID)
	if err != nil {
		return nil, false, err
	}
	if f.Event != "" && f.Event != catalog.WebhookTest && !s.cfg.Catalog.Subscribable(f.Event) {
		known := []string{}
		for _, t := range s.cfg.Catalog.Types() {
			known = append(known, t.Event)
		}
		known = append(known, catalog.WebhookTest)
		return nil, false, hook.FieldErrorf(hook.EInvalidParameter, "event",
			"event is one of %s.", strings.Join(known, ", "))
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return nil, false, hook.FieldErrorf(hook.EInvalidParameter, "until",
			"until must be later than since: events are listed from since (inclusive) to until (exclusive).")
	}
	limit := page.Limit
	page.Limit++
	evs, err := s.cfg.Store.EventList(ctx, &store.EventListParams{
		AccountID: accountID, Type: f.Event, Since: f.Since, Until: f.Until, Page: page})
	if err != nil {
		return nil, false, err
	}
	evs, more := pageOf(evs, limit)
	return evs, more, nil
}
