package store

import (
	"context"
	"errors"
	"time"

	"github.com/hookd/hookd/internal/hook"
)

// ErrNotFound is returned when the object asked for does not exist (or, for
// an endpoint, was deleted).
var ErrNotFound = errors.New("not found")

// ErrUnavailable wraps an error that says the database cannot serve for
// now (unreachable, disk full, read-only, pool exhausted, a statement
// timeout, a connection reset) rather than that the call is wrong: the
// call may succeed if made again later. Each backend classifies its
// driver's errors at its boundary; callers test with errors.Is.
var ErrUnavailable = errors.New("storage unavailable")

// Store is the storage contract. Methods are safe for concurrent use.
type Store interface {
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the store's resources; in-flight calls may fail.
	Close() error
	// WorkAvailable is signalled (non-blocking, coalesced) after a commit
	// that made deliveries or operator messages due, on this node and, for
	// shared backends, on others.
	WorkAvailable() <-chan struct{}

	AccountCreate(ctx context.Context, a *hook.Account, tokenHash []byte) error
	// AccountGet returns ErrNotFound if the account does not exist.
	AccountGet(ctx context.Context, id string) (*hook.Account, error)
	// AccountByTokenHash returns ErrNotFound if no account has the token.
	AccountByTokenHash(ctx context.Context, tokenHash []byte) (*hook.Account, error)
	// AccountSetToken replaces the account's token; the old one stops
	// working when it returns. ErrNotFound if the account does not exist.
	AccountSetToken(ctx context.Context, id string, tokenHash []byte) error

	// EndpointCreate stores a new endpoint. A disabled one gets reason
	// manual (the caller sets DisabledReason and DisabledAt).
	EndpointCreate(ctx context.Context, e *hook.Endpoint) error
	// EndpointGet returns ErrNotFound if the endpoint does not exist or
	// was deleted.
	EndpointGet(ctx context.Context, id string) (*hook.Endpoint, error)
	EndpointList(ctx context.Context, p *EndpointListParams) ([]*hook.Endpoint, error)
	// EndpointUpdate applies p to the endpoint in one transaction (docs/delivery.md:
	// manual disable, re-enable) and returns it as stored.
	EndpointUpdate(ctx context.Context, p *EndpointUpdateParams) (*hook.Endpoint, error)
	// EndpointDelete deletes the endpoint and cancels its pending
	// deliveries; the deliveries stay readable.
	EndpointDelete(ctx context.Context, id string, now time.Time) error
	// EndpointRotateKey makes p.Key the endpoint's current signing key;
	// the keys that were current keep signing for p.Overlap, and keys
	// already expired are dropped.
	EndpointRotateKey(ctx context.Context, p *EndpointRotateKeyParams) (*hook.Endpoint, error)

	// EventCreate stores an event and, in the same durable transaction,
	// one scheduled delivery for every enabled endpoint of its account
	// that subscribes to its type. It returns only once that is committed
	// to stable storage. With an idempotency key seen for the account
	// within p.IdempotencyTTL it stores nothing and returns the first
	// answer (Replayed), or an *hook.Error EIdempotencyConflict when the
	// request differs.
	EventCreate(ctx context.Context, p *EventCreateParams) (*EventCreateResult, error)
	// EventGet returns ErrNotFound if the event does not exist.
	EventGet(ctx context.Context, id string) (*hook.Event, error)

	DeliveryGet(ctx context.Context, id string) (*hook.Delivery, error)
	DeliveryList(ctx context.Context, p *DeliveryListParams) ([]*hook.Delivery, error)
	// AttemptList returns a delivery's attempts in number order.
	AttemptList(ctx context.Context, p *AttemptListParams) ([]*hook.Attempt, error)
	// DeliveryRedeliver creates a new pending delivery of the event of
	// p.DeliveryID to the same endpoint. Errors: ErrNotFound; *hook.Error
	// EEndpointDisabled, EAlreadyPending, ENotRedeliverable.
	DeliveryRedeliver(ctx context.Context, p *DeliveryRedeliverParams) (*hook.Delivery, error)
	// DeliveryRecover creates a recover delivery for every matching event
	// at or after p.Since that has neither a succeeded nor a pending
	// delivery to the endpoint, and returns how many. *hook.Error
	// EEndpointDisabled if the endpoint is disabled.
	DeliveryRecover(ctx context.Context, p *DeliveryRecoverParams) (int, error)
	// TestRecord stores a connection test: its webhook.test event, its
	// finished delivery (trigger test) and its one attempt.
	TestRecord(ctx context.Context, p *TestRecordParams) error

	// DeliveryClaim leases due pending deliveries of enabled endpoints to
	// the caller, oldest due first, at most p.Limit, each only if
	// p.Reserve accepts it.
	//
	// An endpoint with a rate limit (hook.Endpoint.RateLimit) has a next
	// free slot; a due delivery to it that holds no slot is leased only if
	// that slot has come, and takes it; otherwise it is given the slot
	// (its next_attempt_at becomes the slot time, and it holds the slot)
	// and is not leased now. Either way the slot moves on by 1/RateLimit,
	// so deliveries start at most RateLimit a second to the endpoint, in
	// queue order, whichever nodes claim them. A slot is not an attempt.
	// Starts are also spaced by a per-endpoint bucket that may lag at most
	// a short burst behind now: due deliveries beyond it (turns that fell
	// due together while no node claimed) wait again, keeping their turn.
	DeliveryClaim(ctx context.Context, p *DeliveryClaimParams) ([]*Claim, error)
	// DeliveryComplete records attempt results in order, applying
	// hook.Decide to each, in one transaction. A result whose attempt id is
	// already recorded is skipped, so a batch sent again after an
	// ambiguous failure (a lost commit answer) counts once.
	DeliveryComplete(ctx context.Context, p *DeliveryCompleteParams) (*DeliveryCompleteResult, error)
	// DeliveryRelease gives claimed deliveries that were never attempted
	// back, due at p.Now (which may be later than now, to postpone them).
	DeliveryRelease(ctx context.Context, p *ReleaseParams) error
	// DeliveryRateLimited counts pending deliveries that hold a rate-limit
	// turn not yet come (see DeliveryClaim), across all endpoints.
	DeliveryRateLimited(ctx context.Context) (int, error)
	// DeliveryNextDue returns the earliest next_attempt_at after p.After
	// among pending deliveries, or ok false if there is none.
	DeliveryNextDue(ctx context.Context, after time.Time) (t time.Time, ok bool, err error)

	// OperatorClaim leases due operator messages (endpoint.disabled,
	// endpoint.enabled) to the caller.
	OperatorClaim(ctx context.Context, p *OperatorClaimParams) ([]*OperatorMessage, error)
	// OperatorComplete records the outcome of operator message attempts.
	OperatorComplete(ctx context.Context, p *OperatorCompleteParams) error

	// Prune deletes what retention allows (docs/delivery.md): events older than
	// p.Before whose deliveries are all finished and not updated since
	// p.Before (a recent redelivery keeps an old event), with those
	// deliveries and their attempts; finished operator messages older than
	// p.Before; idempotency keys older than p.IdempotencyBefore.
	Prune(ctx context.Context, p *PruneParams) (*PruneResult, error)

	// Portal holds what the web UI adds (portal.go).
	Portal
	KeyStore    // keys.go
	EventLister // events_list.go
	KeyStore    // keys.go

	// DeliveryBacklog reports the due deliveries at p.Now (backlog.go),
	// counting at most p.Limit of them and finding the oldest through the
	// due-work index: bounded work however long the queue. With a shared
	// database it is the whole cluster's backlog.
	DeliveryBacklog(ctx context.Context, p *BacklogParams) (*Backlog, error)
	// EndpointCounts counts the endpoints that are not deleted, by state.
	EndpointCounts(ctx context.Context) (*EndpointCounts, error)
	// EventCreateBatch stores several events, each as EventCreate would
	// (fan-out, idempotency key, handoff), in one durable commit, and
	// answers each item on its own and in order (batch.go). An item whose
	// key conflicts gets its error in its EventBatchItem; the call fails
	// as a whole only when the store does, and then nothing of it is kept.
	EventCreateBatch(ctx context.Context, items []*EventCreateParams) ([]EventBatchItem, error)
}

// Page selects a page of a list: items strictly older (smaller id) than
// After, at most Limit of them.
type Page struct {
	After string // an id; empty for the first page
	Limit int
}

// EndpointListParams filters endpoints; an empty AccountID lists all.
type EndpointListParams struct {
	AccountID string
	Page
}

// EndpointUpdateParams changes an endpoint. Nil fields stay as they are.
type EndpointUpdateParams struct {
	ID          string
	URL         *string
	Description *string
	EventTypes  []string // nil: unchanged
	Enabled     *bool
	// Headers replaces the custom headers (values already sealed); a
	// pointer to nil removes them.
	Headers *[]hook.Header
	// Filter replaces the payload filter's text; a pointer to nil removes
	// it.
	Filter *[]byte
	// RateLimit replaces the rate limit; a pointer to 0 removes it.
	RateLimit *int
	Now       time.Time
	// OperatorEvents enables endpoint.enabled messages on re-enable after
	// an automatic disable (an operator webhook is configured).
	OperatorEvents bool
}

// Patch is the change p asks for, for hook.ApplyPatch.
func (p *EndpointUpdateParams) Patch() hook.EndpointPatch {
	return hook.EndpointPatch{URL: p.URL, Description: p.Description, EventTypes: p.EventTypes, Enabled: p.Enabled,
		Headers: p.Headers, Filter: p.Filter, RateLimit: p.RateLimit}
}

// EndpointRotateKeyParams rotates an endpoint's signing key.
type EndpointRotateKeyParams struct {
	ID        string
	Key       hook.Key // the new current key
	PublicKey string   // for ed25519 endpoints, the new key's public key
	Overlap   time.Duration
	Now       time.Time
}

// EventCreateParams is a new event and its idempotency data.
type EventCreateParams struct {
	Event *hook.Event
	// IdempotencyKey, when not empty, makes the call idempotent per
	// account within IdempotencyTTL; RequestHash identifies the request
	// (event type and data) so a reuse with other content is a conflict.
	IdempotencyKey string
	RequestHash    []byte
	IdempotencyTTL time.Duration
	// Handoff, when set, lets the caller take new deliveries straight from
	// the transaction that creates them instead of claiming them later.
	// Endpoints with a rate limit are never handed off: their deliveries
	// wait for a slot in DeliveryClaim.
	Handoff *Handoff
	// Match is asked, for each subscribing endpoint that has a payload
	// filter, whether the event passes it (filter is hook.Endpoint.Filter).
	// An endpoint whose filter does not pass gets no delivery. Nil passes
	// everything. It must be quick and must not call the store.
	Match func(filter []byte) bool
}

// Handoff passes new deliveries to the caller's dispatcher in the
// transaction that creates them: the common path then needs no claim.
type Handoff struct {
	// Reserve is asked, inside the transaction, whether the caller takes a
	// new delivery to the endpoint (of the account) now. It must be quick
	// and must not call the store. It may be asked again for the same
	// delivery (see the package doc): only the reservations behind the
	// returned Claims are used, and none if EventCreate fails.
	Reserve func(endpointID, accountID string) bool
	// Until is when the lease of the deliveries taken ends.
	Until time.Time
}

// EventCreateResult is the answer to EventCreate.
type EventCreateResult struct {
	Event      *hook.Event
	Deliveries []*hook.Delivery // the scheduled deliveries the event got
	// Claims are the deliveries the Handoff took, leased to the caller,
	// who must attempt or release each.
	Claims   []*Claim
	Replayed bool // an earlier request with the same key
}

// DeliveryListParams filters deliveries; empty fields do not filter.
type DeliveryListParams struct {
	AccountID  string
	EndpointID string
	EventID    string
	Status     string
	Page
}

// Where lists the conditions p sets, as column = value pairs in a fixed
// order, for a backend to write in its dialect (it adds the page's
// "id < After" and the order itself).
func (p *DeliveryListParams) Where() (columns []string, values []any) {
	for _, f := range []struct{ col, v string }{
		{"account_id", p.AccountID}, {"endpoint_id", p.EndpointID}, {"event_id", p.EventID}, {"status", p.Status},
	} {
		if f.v != "" {
			columns, values = append(columns, f.col), append(values, f.v)
		}
	}
	return columns, values
}

// AttemptListParams selects a delivery's attempts, in number order: After
// is an attempt number (0 for the first page).
type AttemptListParams struct {
	DeliveryID string
	After      int
	Limit      int
}

// DeliveryRedeliverParams asks for a new delivery of a delivery's event.
type DeliveryRedeliverParams struct {
	DeliveryID string
	Now        time.Time
}

// DeliveryRecoverParams asks for recover deliveries to an endpoint.
type DeliveryRecoverParams struct {
	EndpointID string
	Since      time.Time // already clamped by the caller
	Now        time.Time
	// Match is asked, when the endpoint has a payload filter, whether an
	// event (its envelope) passes the endpoint's current filter; events
	// that do not are not recovered. Nil passes everything.
	Match func(filter, body []byte) bool
}

// TestRecordParams is a finished connection test.
type TestRecordParams struct {
	Event    *hook.Event
	Delivery *hook.Delivery
	Attempt  *hook.Attempt
}

// DeliveryClaimParams asks for due work.
type DeliveryClaimParams struct {
	Now        time.Time
	LeaseUntil time.Time
	Limit      int
	// Reserve is asked, inside the transaction, before each delivery is
	// leased, with the delivery's endpoint and account: the caller takes a
	// worker, an endpoint slot and an account slot for it, or refuses (the
	// endpoint or the account is at its in-flight limit) and the delivery
	// stays unclaimed. It must be quick and must not call the store. As
	// with Handoff.Reserve, it may be asked again for the same delivery;
	// only the reservations behind the returned claims are used, and none
	// if DeliveryClaim fails. Nil accepts everything.
	Reserve func(endpointID, accountID string) bool
	// Full lists endpoints that are at their limit, so backends can skip
	// them in the query instead of reading their rows.
	Full []string
	// FullAccounts lists accounts that are at their limit: backends skip
	// the deliveries of all their endpoints in the query, so one account's
	// deep due backlog is not read again on every claim.
	FullAccounts []string
}

// Claim is a leased delivery with everything needed to attempt it.
type Claim struct {
	Delivery *hook.Delivery
	Lease    int64
	Body     []byte     // the event envelope
	URL      string     // the endpoint's URL
	Keys     []hook.Key // the endpoint's live signing keys, newest first
	// Headers are the endpoint's custom headers, values as stored.
	Headers []hook.Header
}

// DeliveryCompleteParams carries attempt results in the order they ended.
type DeliveryCompleteParams struct {
	Results      []*hook.Result
	Now          time.Time
	DisableAfter int
	// OperatorEvents enables endpoint.disabled messages.
	OperatorEvents bool
}

// DeliveryCompleteResult tells what the results did beyond the deliveries.
type DeliveryCompleteResult struct {
	Disabled []DisabledEndpoint
}

// DisabledEndpoint is an endpoint that a result disabled.
type DisabledEndpoint struct {
	EndpointID string
	AccountID  string
	Reason     string
}

// ReleaseParams gives back claimed work.
type ReleaseParams struct {
	DeliveryIDs []string
	Leases      []int64 // parallel to DeliveryIDs
	Now         time.Time
}

// OperatorMessage is an endpoint.disabled/endpoint.enabled event on its
// way to the operator webhook.
type OperatorMessage struct {
	ID       string // the event id, also webhook-id
	Body     []byte
	Attempts int
	Lease    int64
}

// OperatorClaimParams asks for due operator messages.
type OperatorClaimParams struct {
	Now        time.Time
	LeaseUntil time.Time
	Limit      int
}

// OperatorCompleteParams records operator message attempts.
type OperatorCompleteParams struct {
	Results []*OperatorResult
	Now     time.Time
}

// OperatorResult is the outcome of one operator message attempt.
type OperatorResult struct {
	ID      string
	Lease   int64
	OK      bool
	Error   string
	RetryAt time.Time // zero: no retry remains
}

// PruneParams bounds a retention pass.
type PruneParams struct {
	Before time.Time // events accepted before this go
	// IdempotencyBefore: idempotency keys first used before this go.
	IdempotencyBefore time.Time
	Limit             int // at most this many events per call
}

// PruneResult counts what a retention pass deleted.
type PruneResult struct {
	Events     int
	Deliveries int
	Attempts   int
}
