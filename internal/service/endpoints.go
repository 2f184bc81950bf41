package service

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/keyseal"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/webhook"
)

// CreateEndpointInput is a new endpoint.
type CreateEndpointInput struct {
	AccountID   string // required for the admin; an account's own for others
	URL         string
	EventTypes  []string
	Enabled     *bool // nil: true
	Description string
	Signing     string // "" means hmac-sha256
	// Headers, Filter and RateLimit are the JSON members as sent (nil or
	// null: none); see docs/delivery.md.
	Headers   json.RawMessage
	Filter    json.RawMessage
	RateLimit json.RawMessage
}

// CreateEndpoint creates an endpoint and returns it with its secret (HMAC;
// empty for ed25519, whose public key is on the endpoint).
func (s *Service) CreateEndpoint(ctx context.Context, actor Actor, in CreateEndpointInput) (*hook.Endpoint, string, error) {
	accountID, err := s.accountFor(ctx, actor, in.AccountID)
	if err != nil {
		return nil, "", err
	}
	url, err := s.validateURL(in.URL)
	if err != nil {
		return nil, "", err
	}
	types, err := s.validateEventTypes(in.EventTypes)
	if err != nil {
		return nil, "", err
	}
	if err := validateDescription(in.Description); err != nil {
		return nil, "", err
	}
	headers, err := s.parseHeaders(in.Headers)
	if err != nil {
		return nil, "", err
	}
	flt, err := parseFilter(in.Filter)
	if err != nil {
		return nil, "", err
	}
	rate, err := parseRateLimit(in.RateLimit)
	if err != nil {
		return nil, "", err
	}
	signing := in.Signing
	if signing == "" {
		signing = hook.SigningHMAC
	}
	now := s.now()
	key, secret, public, err := s.newKey(signing, now)
	if err != nil {
		return nil, "", err
	}
	e := &hook.Endpoint{
		ID:          hook.NewIDAt(hook.PrefixEndpoint, now),
		AccountID:   accountID,
		URL:         url,
		Description: in.Description,
		EventTypes:  types,
		Signing:     signing,
		Keys:        []hook.Key{key},
		PublicKey:   public,
		Headers:     headers,
		Filter:      flt,
		RateLimit:   rate,
		Enabled:     in.Enabled == nil || *in.Enabled,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if !e.Enabled {
		e.DisabledReason, e.DisabledAt = hook.ReasonManual, now
	}
	if err := s.cfg.Store.EndpointCreate(ctx, e); err != nil {
		return nil, "", err
	}
	return e, secret, nil
}

// accountFor resolves the account a new object belongs to: the admin
// names it, an account may only name itself.
func (s *Service) accountFor(ctx context.Context, actor Actor, accountID string) (string, error) {
	if !actor.Admin {
		if accountID != "" && accountID != actor.AccountID {
			return "", hook.NotFound("account")
		}
		return actor.AccountID, nil
	}
	if accountID == "" {
		return "", hook.FieldErrorf(hook.EInvalidParameter, "account_id", "account_id is required with the admin token.")
	}
	if _, err := s.cfg.Store.AccountGet(ctx, accountID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", hook.FieldErrorf(hook.EInvalidReference, "account_id", "No account has this id.")
		}
		return "", err
	}
	return accountID, nil
}

func (s *Service) validateURL(raw string) (string, error) {
	if raw == "" {
		return "", hook.FieldErrorf(hook.EInvalidURL, "url", "A URL is required.")
	}
	u, err := netguard.ValidateURL(raw, netguard.URLOptions{AllowHTTP: s.cfg.AllowHTTP, Guard: s.cfg.Guard})
	if err != nil {
		var ue *netguard.URLError
		if errors.As(err, &ue) {
			return "", hook.FieldErrorf(hook.EInvalidURL, "url", "%s", ue.Reason)
		}
		return "", err
	}
	return u, nil
}

// validateEventTypes accepts ["*"] or a non-empty list of catalogue
// types (duplicates dropped, order kept).
func (s *Service) validateEventTypes(types []string) ([]string, error) {
	if len(types) == 0 {
		return nil, hook.FieldErrorf(hook.EInvalidEventTypes, "event_types",
			`event_types must list at least one event type, or be ["*"] for all of them.`)
	}
	if slices.Contains(types, hook.AllEventTypes) {
		if len(types) != 1 {
			return nil, hook.FieldErrorf(hook.EInvalidEventTypes, "event_types", `"*" stands alone: use ["*"] or list the event types.`)
		}
		return []string{hook.AllEventTypes}, nil
	}
	out := make([]string, 0, len(types))
	for _, t := range types {
		if !s.cfg.Catalog.Subscribable(t) {
			names := make([]string, 0, 2)
			for _, et := range s.cfg.Catalog.Types() {
				names = append(names, et.Event)
			}
			return nil, hook.FieldErrorf(hook.EInvalidEventTypes, "event_types",
				"%q is not an event type endpoints can subscribe to; use %s or \"*\".", truncate(t, 64), strings.Join(names, ", "))
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func validateDescription(d string) error {
	return checkText("description", "A description", d, maxDescriptionLen)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// newKey makes a signing key: the stored form, the secret to show (HMAC)
// and the public key (ed25519).
func (s *Service) newKey(signing string, now time.Time) (key hook.Key, secret, public string, err error) {
	var plain string
	switch signing {
	case hook.SigningHMAC:
		plain, err = webhook.NewSecret()
		secret = plain
	case hook.SigningEd25519:
		plain, public, err = webhook.NewKeyPair()
	default:
		return hook.Key{}, "", "", hook.FieldErrorf(hook.EInvalidParameter, "signing",
			"signing is %q (the default) or %q.", hook.SigningHMAC, hook.SigningEd25519)
	}
	if err != nil {
		return hook.Key{}, "", "", err
	}
	stored, err := s.seal(plain)
	if err != nil {
		return hook.Key{}, "", "", err
	}
	return hook.Key{Value: stored, CreatedAt: now}, secret, public, nil
}

func (s *Service) seal(plain string) (string, error) {
	if s.cfg.Sealer == nil {
		return plain, nil
	}
	return s.cfg.Sealer.Seal(plain)
}

// OpenKey turns a stored key back into a signing key.
func (s *Service) OpenKey(stored string) (string, error) {
	if s.cfg.Sealer == nil {
		return stored, nil
	}
	plain, err := s.cfg.Sealer.Open(stored)
	if errors.Is(err, keyseal.ErrWrongKey) {
		return "", hook.Errorf(hook.EUnavailable,
			"This endpoint's secret was encrypted with a --secret-key this hookd does not have; start it with that key.")
	}
	return plain, err
}

// GetEndpoint returns an endpoint the actor can see.
func (s *Service) GetEndpoint(ctx context.Context, actor Actor, id string) (*hook.Endpoint, error) {
	e, err := s.cfg.Store.EndpointGet(ctx, id)
	if err != nil {
		return nil, notFound(err, "endpoint")
	}
	if !actor.sees(e.AccountID) {
		return nil, hook.NotFound("endpoint")
	}
	return e, nil
}

// ListEndpoints lists endpoints, newest first. The admin may filter by
// account (or list all); an account lists its own.
func (s *Service) ListEndpoints(ctx context.Context, actor Actor, accountID string, page Page) ([]*hook.Endpoint, bool, error) {
	accountID, err := s.accountFilter(ctx, actor, accountID)
	if err != nil {
		return nil, false, err
	}
	limit := page.Limit
	page.Limit++
	es, err := s.cfg.Store.EndpointList(ctx, &store.EndpointListParams{AccountID: accountID, Page: page})
	if err != nil {
		return nil, false, err
	}
	es, more := pageOf(es, limit)
	return es, more, nil
}

// accountFilter checks an ?account_id= filter: an account sees only its
// own (another's answers 404), the admin any that exists.
func (s *Service) accountFilter(ctx context.Context, actor Actor, accountID string) (string, error) {
	if !actor.Admin {
		if accountID != "" && accountID != actor.AccountID {
			return "", hook.NotFound("account")
		}
		return actor.AccountID, nil
	}
	if accountID != "" {
		if _, err := s.cfg.Store.AccountGet(ctx, accountID); err != nil {
			return "", notFound(err, "account")
		}
	}
	return accountID, nil
}

// UpdateEndpointInput changes an endpoint; nil fields stay as they are.
type UpdateEndpointInput struct {
	URL         *string
	EventTypes  *[]string
	Description *string
	Enabled     *bool
	// Headers, Filter and RateLimit are the JSON members as sent: nil when
	// absent (unchanged), null to remove.
	Headers   json.RawMessage
	Filter    json.RawMessage
	RateLimit json.RawMessage
}

// UpdateEndpoint applies a change (docs/delivery.md: disable, re-enable).
func (s *Service) UpdateEndpoint(ctx context.Context, actor Actor, id string, in UpdateEndpointInput) (*hook.Endpoint, error) {
	if _, err := s.GetEndpoint(ctx, actor, id); err != nil {
		return nil, err
	}
	p := &store.EndpointUpdateParams{ID: id, Enabled: in.Enabled, Description: in.Description, Now: s.now(),
		OperatorEvents: s.cfg.OperatorEvents}
	if in.URL != nil {
		u, err := s.validateURL(*in.URL)
		if err != nil {
			return nil, err
		}
		p.URL = &u
	}
	if in.EventTypes != nil {
		types, err := s.validateEventTypes(*in.EventTypes)
		if err != nil {
			return nil, err
		}
		p.EventTypes = types
	}
	if in.Description != nil {
		if err := validateDescription(*in.Description); err != nil {
			return nil, err
		}
	}
	if in.Headers != nil {
		hs, err := s.parseHeaders(in.Headers)
		if err != nil {
			return nil, err
		}
		p.Headers = &hs
	}
	if in.Filter != nil {
		f, err := parseFilter(in.Filter)
		if err != nil {
			return nil, err
		}
		p.Filter = &f
	}
	if in.RateLimit != nil {
		n, err := parseRateLimit(in.RateLimit)
		if err != nil {
			return nil, err
		}
		p.RateLimit = &n
	}
	e, err := s.cfg.Store.EndpointUpdate(ctx, p)
	return e, notFound(err, "endpoint")
}

// DeleteEndpoint deletes an endpoint and cancels its pending deliveries.
func (s *Service) DeleteEndpoint(ctx context.Context, actor Actor, id string) error {
	if _, err := s.GetEndpoint(ctx, actor, id); err != nil {
		return err
	}
	return notFound(s.cfg.Store.EndpointDelete(ctx, id, s.now()), "endpoint")
}

// Secret is an endpoint's current verification material: the secret of an
// HMAC endpoint or the public key of an ed25519 one.
type Secret struct {
	Secret    string
	PublicKey string
}

// GetSecret returns the endpoint's current secret (or public key).
func (s *Service) GetSecret(ctx context.Context, actor Actor, id string) (*Secret, error) {
	e, err := s.GetEndpoint(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if e.Signing == hook.SigningEd25519 {
		return &Secret{PublicKey: e.PublicKey}, nil
	}
	live := hook.LiveKeys(e.Keys, s.now())
	if len(live) == 0 {
		return nil, errors.New("endpoint has no live key")
	}
	plain, err := s.OpenKey(live[0].Value)
	if err != nil {
		return nil, err
	}
	return &Secret{Secret: plain}, nil
}

// RotateSecret makes a new current key; the old one keeps signing for
// the overlap window.
func (s *Service) RotateSecret(ctx context.Context, actor Actor, id string) (*Secret, error) {
	e, err := s.GetEndpoint(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	key, secret, public, err := s.newKey(e.Signing, now)
	if err != nil {
		return nil, err
	}
	if _, err := s.cfg.Store.EndpointRotateKey(ctx, &store.EndpointRotateKeyParams{
		ID: id, Key: key, PublicKey: public, Overlap: s.cfg.SecretOverlap, Now: now}); err != nil {
		return nil, notFound(err, "endpoint")
	}
	return &Secret{Secret: secret, PublicKey: public}, nil
}

// Recover queues recover deliveries of the events since `since` that the
// endpoint has not received (docs/api.md). since is clamped to the endpoint's
// creation and the retention window.
func (s *Service) Recover(ctx context.Context, actor Actor, id string, since time.Time) (int, error) {
	e, err := s.GetEndpoint(ctx, actor, id)
	if err != nil {
		return 0, err
	}
	now := s.now()
	for _, floor := range []time.Time{e.CreatedAt, now.Add(-s.cfg.Retention)} {
		if since.Before(floor) {
			since = floor
		}
	}
	n, err := s.cfg.Store.DeliveryRecover(ctx, &store.DeliveryRecoverParams{EndpointID: id, Since: since, Now: now,
		Match: s.bodyMatcher})
	return n, notFound(err, "endpoint")
}
