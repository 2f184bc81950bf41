package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/store"
)

// Web UI sessions and portal links (docs/portal.md).
const (
	// SessionTTL is how long a session opened with a token lasts.
	SessionTTL = 12 * time.Hour
	// PortalLinkTTL is how long a portal link stays usable by default,
	// MaxPortalLinkTTL at most.
	PortalLinkTTL    = 10 * time.Minute
	MaxPortalLinkTTL = 24 * time.Hour
	// PortalSessionTTL is how long the session a portal link opens lasts.
	PortalSessionTTL = 4 * time.Hour
)

// ErrLinkUnusable is returned for a portal link that does not exist, was
// used already, or expired.
var ErrLinkUnusable = errors.New("portal link unusable")

// Session is a signed-in web UI session.
type Session struct {
	Actor Actor
	store.Branding
	ExpiresAt time.Time
}

// newSecret returns 256 random bits, URL-safe, and their SHA-256 hash.
func newSecret(prefix string) (string, []byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("new secret: %w", err)
	}
	s := prefix + base64.RawURLEncoding.EncodeToString(b[:])
	h := sha256.Sum256([]byte(s))
	return s, h[:], nil
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// SignIn opens a session for an account or the admin token. It returns
// the session id (for the cookie; it is stored only as a hash).
func (s *Service) SignIn(ctx context.Context, token string) (string, *Session, error) {
	actor, err := s.Authenticate(ctx, strings.TrimSpace(token))
	if err != nil {
		return "", nil, err
	}
	return s.openSession(ctx, actor, store.Branding{}, SessionTTL)
}

func (s *Service) openSession(ctx context.Context, actor Actor, br store.Branding, ttl time.Duration) (string, *Session, error) {
	id, hash, err := newSecret("")
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	se := &store.Session{IDHash: hash, Admin: actor.Admin, AccountID: actor.AccountID, Branding: br,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.cfg.Store.SessionCreate(ctx, se); err != nil {
		return "", nil, err
	}
	return id, &Session{Actor: actor, Branding: br, ExpiresAt: se.ExpiresAt}, nil
}

// SessionByID returns the session a cookie names; EUnauthorized if there
// is none or it expired.
func (s *Service) SessionByID(ctx context.Context, id string) (*Session, error) {
	if id == "" {
		return nil, hook.Errorf(hook.EUnauthorized, "Not signed in.")
	}
	se, err := s.cfg.Store.SessionGet(ctx, hashOf(id), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, hook.Errorf(hook.EUnauthorized, "The session ended; sign in again.")
	}
	if err != nil {
		return nil, err
	}
	return &Session{Actor: Actor{Admin: se.Admin, AccountID: se.AccountID}, Branding: se.Branding, ExpiresAt: se.ExpiresAt}, nil
}

// SignOut ends a session.
func (s *Service) SignOut(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	return s.cfg.Store.SessionDelete(ctx, hashOf(id))
}

// PortalLinkInput asks for a portal link; empty fields take defaults.
type PortalLinkInput struct {
	TTL         string // Go duration, default 10m, at most 24h
	ReadOnly    bool
	ReturnURL   string
	AccentColor string // #rrggbb
	LogoURL     string
	Theme       string // light, dark or auto
}

var accentColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// appScheme is a custom URL scheme a mobile app may register for its
// "Back" link (myapp://settings).
var appScheme = regexp.MustCompile(`^[a-z][a-z0-9+.-]{0,31}$`)

// CreatePortalLink makes a single-use sign-in link for an account (admin
// only). It returns the link's token and when it expires.
func (s *Service) CreatePortalLink(ctx context.Context, actor Actor, accountID string, in PortalLinkInput) (string, time.Time, error) {
	if err := requireAdmin(actor); err != nil {
		return "", time.Time{}, err
	}
	if _, err := s.cfg.Store.AccountGet(ctx, accountID); err != nil {
		return "", time.Time{}, notFound(err, "account")
	}
	ttl := PortalLinkTTL
	if in.TTL != "" {
		d, err := time.ParseDuration(in.TTL)
		if err != nil || d <= 0 || d > MaxPortalLinkTTL {
			return "", time.Time{}, hook.FieldErrorf(hook.EInvalidParameter, "ttl",
				"ttl is a duration like \"10m\" or \"2h\", more than 0 and at most 24h.")
		}
		ttl = d
	}
	br, err := s.validateBranding(in)
	if err != nil {
		return "", time.Time{}, err
	}
	tok, hash, err := newSecret("")
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	l := &store.PortalLink{TokenHash: hash, AccountID: accountID, Branding: br, SessionTTL: PortalSessionTTL,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.cfg.Store.PortalLinkCreate(ctx, l); err != nil {
		return "", time.Time{}, err
	}
	return tok, l.ExpiresAt, nil
}

func (s *Service) validateBranding(in PortalLinkInput) (store.Branding, error) {
	br := store.Branding{ReadOnly: in.ReadOnly}
	if in.ReturnURL != "" {
		u, err := validateReturnURL(in.ReturnURL, s.cfg.AllowHTTP)
		if err != nil {
			return br, err
		}
		br.ReturnURL = u
	}
	if in.AccentColor != "" {
		if !accentColor.MatchString(in.AccentColor) {
			return br, hook.FieldErrorf(hook.EInvalidParameter, "accent_color", "accent_color is a colour like \"#0a7d5a\" (# and six hex digits).")
		}
		br.AccentColor = strings.ToLower(in.AccentColor)
	}
	if in.LogoURL != "" {
		u, err := netguard.ValidateURL(in.LogoURL, netguard.URLOptions{AllowHTTP: s.cfg.AllowHTTP})
		if err != nil {
			var ue *netguard.URLError
			if errors.As(err, &ue) {
				return br, hook.FieldErrorf(hook.EInvalidParameter, "logo_url", "logo_url: %s.", ue.Reason)
			}
			return br, err
		}
		br.LogoURL = u
	}
	switch in.Theme {
	case "", "auto":
	case "light", "dark":
		br.Theme = in.Theme
	default:
		return br, hook.FieldErrorf(hook.EInvalidParameter, "theme", "theme is \"light\", \"dark\" or \"auto\".")
	}
	return br, nil
}

// validateReturnURL accepts an https:// URL (http:// with --allow-http)
// or an app's own scheme (myapp://…), never a scheme that runs code.
func validateReturnURL(raw string, allowHTTP bool) (string, error) {
	bad := func(why string) error {
		return hook.FieldErrorf(hook.EInvalidParameter, "return_url", "return_url %s.", why)
	}
	if len(raw) > netguard.DefaultMaxURLLen {
		return "", bad(fmt.Sprintf("is longer than %d bytes", netguard.DefaultMaxURLLen))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "", bad("must be an absolute URL, like https://app.example.com/settings or myapp://settings")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "https", scheme == "http" && allowHTTP:
		if u.Host == "" {
			return "", bad("must name a host")
		}
	case scheme == "http":
		return "", bad("must use https")
	case scheme == "javascript", scheme == "data", scheme == "vbscript", scheme == "file", scheme == "blob", scheme == "about":
		return "", bad("must not use the " + scheme + ": scheme")
	case !appScheme.MatchString(scheme):
		return "", bad("has a scheme that is not valid")
	}
	if u.User != nil {
		return "", bad("must not contain user info")
	}
	return u.String(), nil
}

// RedeemPortalLink uses a portal link once and opens its session; a link
// that does not exist, was used or expired returns ErrLinkUnusable.
func (s *Service) RedeemPortalLink(ctx context.Context, token string) (string, *Session, error) {
	if token == "" {
		return "", nil, ErrLinkUnusable
	}
	l, err := s.cfg.Store.PortalLinkUse(ctx, hashOf(token), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, ErrLinkUnusable
	}
	if err != nil {
		return "", nil, err
	}
	return s.openSession(ctx, Actor{AccountID: l.AccountID}, l.Branding, l.SessionTTL)
}

// ListAccounts lists accounts newest first (admin only).
func (s *Service) ListAccounts(ctx context.Context, actor Actor, page Page) ([]*hook.Account, bool, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, false, err
	}
	limit := page.Limit
	page.Limit++
	as, err := s.cfg.Store.AccountList(ctx, page)
	if err != nil {
		return nil, false, err
	}
	as, more := pageOf(as, limit)
	return as, more, nil
}

// Stats windows of EndpointStats.
const (
	Window24h = "24h"
	Window7d  = "7d"
)

// EndpointStats counts the endpoint's finished deliveries per hour over
// the last 24 hours (window "24h", the default) or per UTC day over the
// last 7 days ("7d"), oldest first; the last bucket holds now.
func (s *Service) EndpointStats(ctx context.Context, actor Actor, id, window string) ([]store.StatsBucket, error) {
	p := &store.EndpointStatsParams{EndpointID: id}
	now := s.now()
	switch window {
	case "", Window24h:
		p.Step, p.Buckets = time.Hour, 24
	case Window7d:
		p.Step, p.Buckets = 24*time.Hour, 7
	default:
		return nil, hook.FieldErrorf(hook.EInvalidParameter, "window", "window is \"24h\" or \"7d\".")
	}
	if _, err := s.GetEndpoint(ctx, actor, id); err != nil {
		return nil, err
	}
	p.Start = now.Truncate(p.Step).Add(-time.Duration(p.Buckets-1) * p.Step)
	return s.cfg.Store.EndpointStats(ctx, p)
}
