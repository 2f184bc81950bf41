package store

import (
	"context"
	"time"

	"github.com/hookd/hookd/internal/hook"
)

// EventLister lists stored events (GET /v1/events, docs/api.md).
type EventLister interface {
	// EventList returns stored events newest first (by id), at most
	// p.Limit, filtered as p says. Events of connection tests
	// (webhook.test) are stored events and are listed too.
	EventList(ctx context.Context, p *EventListParams) ([]*hook.Event, error)
}

// EventListParams filters events; empty fields do not filter.
type EventListParams struct {
	AccountID string
	Type      string
	// Since keeps events accepted at or after it, Until those accepted
	// before it (created_at); zero times do not filter.
	Since time.Time
	Until time.Time
	Page
}
