package httpapi

import (
	"context"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/service"
	"github.com/hookd/hookd/internal/store"
)

// Service is what the API needs of the application layer: the use cases
// its routes call, each taking the caller's service.Actor. The API only
// translates between HTTP and these calls; *service.Service implements
// it, and tests may pass something smaller.
type Service interface {
	Authenticate(ctx context.Context, token string) (service.Actor, error)

	CreateAccount(ctx context.Context, actor service.Actor, name string) (*hook.Account, string, error)
	GetAccount(ctx context.Context, actor service.Actor, id string) (*hook.Account, error)
	RotateAccountToken(ctx context.Context, actor service.Actor, id string) (string, error)
	ListAccounts(ctx context.Context, actor service.Actor, page service.Page) ([]*hook.Account, bool, error)
	CreatePortalLink(ctx context.Context, actor service.Actor, accountID string, in service.PortalLinkInput) (string, time.Time, error)

	SubmitEvent(ctx context.Context, actor service.Actor, in service.SubmitEventInput) (*store.EventCreateResult, error)
	SubmitEvents(ctx context.Context, actor service.Actor, ins []service.SubmitEventInput) ([]store.EventBatchItem, error)
	GetEvent(ctx context.Context, actor service.Actor, id string) (*hook.Event, error)
	ListEvents(ctx context.Context, actor service.Actor, f service.EventFilter, page service.Page) ([]*hook.Event, bool, error)
	EventTypes() []catalog.EventType

	CreateEndpoint(ctx context.Context, actor service.Actor, in service.CreateEndpointInput) (*hook.Endpoint, string, error)
	GetEndpoint(ctx context.Context, actor service.Actor, id string) (*hook.Endpoint, error)
	ListEndpoints(ctx context.Context, actor service.Actor, accountID string, page service.Page) ([]*hook.Endpoint, bool, error)
	UpdateEndpoint(ctx context.Context, actor service.Actor, id string, in service.UpdateEndpointInput) (*hook.Endpoint, error)
	DeleteEndpoint(ctx context.Context, actor service.Actor, id string) error
	TestEndpoint(ctx context.Context, actor service.Actor, id string) (*service.TestResult, error)
	GetSecret(ctx context.Context, actor service.Actor, id string) (*service.Secret, error)
	RotateSecret(ctx context.Context, actor service.Actor, id string) (*service.Secret, error)
	Recover(ctx context.Context, actor service.Actor, id string, since time.Time) (int, error)
	EndpointStats(ctx context.Context, actor service.Actor, id, window string) ([]store.StatsBucket, error)
	EndpointHeaders(ctx context.Context, actor service.Actor, id string) ([]hook.Header, error)
	FilterTest(ctx context.Context, actor service.Actor, id string, in service.FilterTestInput) (*service.FilterTestResult, error)

	ListDeliveries(ctx context.Context, actor service.Actor, f service.DeliveryFilter, page service.Page) ([]*hook.Delivery, bool, error)
	GetDelivery(ctx context.Context, actor service.Actor, id string) (*hook.Delivery, error)
	ListAttempts(ctx context.Context, actor service.Actor, deliveryID string, after, limit int) ([]*hook.Attempt, bool, error)
	Redeliver(ctx context.Context, actor service.Actor, deliveryID string) (*hook.Delivery, error)
}

var _ Service = (*service.Service)(nil)
