// Package service is hookd's application layer: every use case of the
// API (and of the web UI) as one method that takes the caller's Actor,
// checks what the actor may see, validates input into *hook.Error values,
// and calls the store. Transports (internal/httpapi) only translate.
package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/metrics"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/store"
)

// KeySealer protects signing keys at rest. Seal runs when a key is made,
// Open whenever it is used.
type KeySealer interface {
	Seal(plain string) (string, error)
	Open(stored string) (string, error)
}

// Config configures a Service.
type Config struct {
	Store   store.Store
	Catalog *catalog.Catalog
	// Sender makes connection tests, with the same signing, dialing and
	// timeout as deliveries.
	Sender *delivery.Sender
	// Guard and AllowHTTP govern endpoint URLs (docs/api.md, docs/security.md).
	Guard     *netguard.Guard
	AllowHTTP bool
	// AdminToken is the admin bearer token.
	AdminToken string
	// SecretOverlap is how long a rotated-out key keeps signing
	// (--secret-overlap, 24h; 0: not at all).
	SecretOverlap time.Duration
	// Retention bounds how far back recover reaches (720h).
	Retention time.Duration
	// OperatorEvents: an operator webhook is configured.
	OperatorEvents bool
	// Sealer, when set, encrypts signing keys at rest.
	Sealer KeySealer
	// Events, when set, stores submitted events instead of Store: this
	// node's dispatcher (delivery.Dispatcher.EventCreate), which takes
	// their new deliveries straight to its workers.
	Events  EventCreator
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics *metrics.Metrics
}

// EventCreator stores events with their deliveries, as store.Store's
// EventCreate and EventCreateBatch do.
type EventCreator interface {
	EventCreate(ctx context.Context, p *store.EventCreateParams) (*store.EventCreateResult, error)
	EventCreateBatch(ctx context.Context, items []*store.EventCreateParams) ([]store.EventBatchItem, error)
}

// Service implements hookd's use cases.
type Service struct {
	cfg           Config
	adminHash     [sha256.Size]byte
	knownAccounts sync.Map // account id → struct{}; see accountExists
	filters       filterCache
}

// IdempotencyTTL is how long an idempotency key is remembered.
const IdempotencyTTL = 24 * time.Hour

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Catalog == nil || cfg.Sender == nil {
		return nil, errors.New("service: Store, Catalog and Sender are required")
	}
	if cfg.AdminToken == "" {
		return nil, errors.New("service: an admin token is required")
	}
	if cfg.SecretOverlap < 0 {
		return nil, errors.New("service: SecretOverlap must not be negative")
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 720 * time.Hour
	}
	if cfg.Events == nil {
		cfg.Events = cfg.Store
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	return &Service{cfg: cfg, adminHash: sha256.Sum256([]byte(cfg.AdminToken))}, nil
}

// now is the service clock, in UTC at millisecond precision: what is
// stored is what is returned.
func (s *Service) now() time.Time {
	return s.cfg.Now().UTC().Truncate(time.Millisecond)
}

// Actor is who makes a call: the admin, or an account through its token.
type Actor struct {
	Admin     bool
	AccountID string
}

// sees reports whether the actor may see objects of accountID.
func (a Actor) sees(accountID string) bool { return a.Admin || a.AccountID == accountID }

// Authenticate resolves a bearer token. Tokens are stored as SHA-256
// hashes (they are random, so a slow hash adds nothing); the admin token
// is compared in constant time.
func (s *Service) Authenticate(ctx context.Context, token string) (Actor, error) {
	if token == "" {
		return Actor{}, hook.Errorf(hook.EUnauthorized, "Missing bearer token.")
	}
	h := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(h[:], s.adminHash[:]) == 1 {
		return Actor{Admin: true}, nil
	}
	a, err := s.cfg.Store.AccountByTokenHash(ctx, h[:])
	if errors.Is(err, store.ErrNotFound) {
		return Actor{}, hook.Errorf(hook.EUnauthorized, "Invalid bearer token.")
	}
	if err != nil {
		return Actor{}, err
	}
	return Actor{AccountID: a.ID}, nil
}

func requireAdmin(a Actor) error {
	if !a.Admin {
		return hook.Errorf(hook.EForbidden, "This route needs the admin token.")
	}
	return nil
}

// newToken returns a new account token: 256 random bits.
func newToken() (string, []byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("new token: %w", err)
	}
	tok := "hkt_" + base64.RawURLEncoding.EncodeToString(b[:])
	h := sha256.Sum256([]byte(tok))
	return tok, h[:], nil
}

// notFound maps store.ErrNotFound to the API's not_found error.
func notFound(err error, kind string) error {
	if errors.Is(err, store.ErrNotFound) {
		return hook.NotFound(kind)
	}
	return err
}

// Page asks for a page of a list: items older than After, at most Limit.
type Page = store.Page

// pageOf is the n+1 trick: ask for one more than the limit to learn
// whether another page follows.
func pageOf[T any](items []T, limit int) ([]T, bool) {
	if len(items) > limit {
		return items[:limit], true
	}
	return items, false
}
