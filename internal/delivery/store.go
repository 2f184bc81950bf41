package delivery

import (
	"context"
	"time"

	"github.com/hookd/hookd/internal/store"
)

// Store is what the dispatcher needs of the storage: the work queue's
// part of store.Store, and EventCreate for the handoff (EventCreate).
type Store interface {
	WorkAvailable() <-chan struct{}
	EventCreate(ctx context.Context, p *store.EventCreateParams) (*store.EventCreateResult, error)
	EventCreateBatch(ctx context.Context, items []*store.EventCreateParams) ([]store.EventBatchItem, error)
	DeliveryClaim(ctx context.Context, p *store.DeliveryClaimParams) ([]*store.Claim, error)
	DeliveryComplete(ctx context.Context, p *store.DeliveryCompleteParams) (*store.DeliveryCompleteResult, error)
	DeliveryRelease(ctx context.Context, p *store.ReleaseParams) error
	DeliveryNextDue(ctx context.Context, after time.Time) (t time.Time, ok bool, err error)
	OperatorClaim(ctx context.Context, p *store.OperatorClaimParams) ([]*store.OperatorMessage, error)
	OperatorComplete(ctx context.Context, p *store.OperatorCompleteParams) error
}
