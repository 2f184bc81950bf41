package store

import (
	"context"
	"time"

	"github.com/hookd/hookd/internal/hook"
)

// Portal is the part of the contract the web UI adds: sessions and portal
// links (kept in the database so every node of a PostgreSQL deployment
// honours them), the account list, and per-endpoint delivery counts.
type Portal interface {
	// AccountList lists accounts newest first.
	AccountList(ctx context.Context, p Page) ([]*hook.Account, error)
	// EndpointStats counts the endpoint's finished deliveries (succeeded
	// or failed; connection tests left out) by the time they finished, in
	// p.Buckets buckets of p.Step from p.Start. The answer has exactly
	// p.Buckets entries, oldest first.
	EndpointStats(ctx context.Context, p *EndpointStatsParams) ([]StatsBucket, error)

	// SessionCreate stores a new session and drops the expired ones.
	SessionCreate(ctx context.Context, s *Session) error
	// SessionGet returns the session with this id hash, or ErrNotFound if
	// there is none or it expired at or before now.
	SessionGet(ctx context.Context, idHash []byte, now time.Time) (*Session, error)
	// SessionDelete ends a session; ending one that does not exist is not
	// an error.
	SessionDelete(ctx context.Context, idHash []byte) error

	// PortalLinkCreate stores a new portal link and drops expired ones.
	PortalLinkCreate(ctx context.Context, l *PortalLink) error
	// PortalLinkUse marks the link used and returns it, in one statement,
	// so a link opens at most one session across every node. ErrNotFound
	// if there is no such link, it was used, or it expired at or before
	// now.
	PortalLinkUse(ctx context.Context, tokenHash []byte, now time.Time) (*PortalLink, error)
}

// Branding is how a portal link asks the UI to look and behave.
type Branding struct {
	ReadOnly    bool   // view only: no changes, no secrets
	ReturnURL   string // a "Back" link to the app; empty: none
	AccentColor string // "#rrggbb"; empty: the default
	LogoURL     string // https:// image; empty: none
	Theme       string // "light", "dark" or "" (follow the device)
}

// Session is a signed-in web UI session. The cookie holds the id; the
// store keeps only its SHA-256 hash.
type Session struct {
	IDHash    []byte
	Admin     bool
	AccountID string // empty for an admin session
	Branding
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PortalLink is a single-use sign-in link for one account. The store keeps
// only the SHA-256 hash of its token.
type PortalLink struct {
	TokenHash []byte
	AccountID string
	Branding
	// SessionTTL is how long the session the link opens lasts.
	SessionTTL time.Duration
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// EndpointStatsParams selects the buckets of EndpointStats.
type EndpointStatsParams struct {
	EndpointID string
	Start      time.Time
	Step       time.Duration
	Buckets    int
}

// End is the end (exclusive) of the last bucket.
func (p *EndpointStatsParams) End() time.Time {
	return p.Start.Add(time.Duration(p.Buckets) * p.Step)
}

// Empty returns the p.Buckets empty buckets a backend fills in.
func (p *EndpointStatsParams) Empty() []StatsBucket {
	out := make([]StatsBucket, p.Buckets)
	for i := range out {
		out[i].Start = p.Start.Add(time.Duration(i) * p.Step)
	}
	return out
}

// Index returns the bucket that a delivery finished at t falls in, or -1.
func (p *EndpointStatsParams) Index(t time.Time) int {
	if t.Before(p.Start) || !t.Before(p.End()) || p.Step <= 0 {
		return -1
	}
	return int(t.Sub(p.Start) / p.Step)
}

// Add counts n deliveries that finished with status in bucket i of out,
// as a backend's grouped query reports them; an index outside the buckets
// (a row at an edge) counts nowhere.
func (p *EndpointStatsParams) Add(out []StatsBucket, i int64, status string, n int) {
	if i < 0 || i >= int64(len(out)) {
		return
	}
	if status == hook.StatusSucceeded {
		out[i].Succeeded += n
	} else {
		out[i].Failed += n
	}
}

// StatsBucket counts deliveries that finished in [Start, Start+step).
type StatsBucket struct {
	Start     time.Time
	Succeeded int
	Failed    int
}
