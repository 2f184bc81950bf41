package client

import (
	"context"
	"net/http"
	"time"
)

// ListAccounts returns a page of accounts, newest first, without their
// tokens (GET /v1/accounts). It needs the admin token.
func (c *Client) ListAccounts(ctx context.Context, p ListParams) (*Page[Account], error) {
	return getPage[Account](ctx, c, []string{"v1", "accounts"}, p.values())
}

// PortalLinkParams asks for a portal link; the zero value takes every
// default (usable once within 10 minutes, full access, no branding).
type PortalLinkParams struct {
	// TTL is how long the link can be used: more than 0, at most 24 h;
	// 0 means 10 minutes.
	TTL time.Duration `json:"-"`
	// ReadOnly makes a session that can look but not change anything, and
	// never shows a secret.
	ReadOnly bool `json:"read_only,omitempty"`
	// ReturnURL is a "Back" link: https:// or the app's own scheme.
	ReturnURL string `json:"return_url,omitempty"`
	// AccentColor is "#rrggbb".
	AccentColor string `json:"accent_color,omitempty"`
	// LogoURL is an https:// image shown in the header.
	LogoURL string `json:"logo_url,omitempty"`
	// Theme is "light", "dark" or "auto" (the default).
	Theme string `json:"theme,omitempty"`
}

// PortalLink is a single-use link that opens the web UI signed in to one
// account.
type PortalLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreatePortalLink makes a portal link for an account (POST
// /v1/accounts/{id}/portal-links). It needs the admin token. Open the URL
// in the customer's browser or WebView; it works once.
func (c *Client) CreatePortalLink(ctx context.Context, accountID string, p PortalLinkParams) (*PortalLink, error) {
	body := struct {
		PortalLinkParams
		TTL string `json:"ttl,omitempty"`
	}{PortalLinkParams: p}
	if p.TTL != 0 {
		body.TTL = p.TTL.String()
	}
	var l PortalLink
	if _, err := c.call(ctx, request{method: http.MethodPost, path: []string{"v1", "accounts", accountID, "portal-links"}, body: body}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// EndpointStats counts an endpoint's finished deliveries per bucket.
type EndpointStats struct {
	Window  string        `json:"window"`
	Buckets []StatsBucket `json:"buckets"`
}

// StatsBucket counts the deliveries that finished from Start to the next
// bucket's start.
type StatsBucket struct {
	Start     time.Time `json:"start"`
	Succeeded int       `json:"succeeded"`
	Failed    int       `json:"failed"`
}

// GetEndpointStats returns an endpoint's delivered and failed deliveries
// per hour over 24 hours (window "24h" or "") or per day over 7 days
// ("7d"), oldest first (GET /v1/endpoints/{id}/stats).
func (c *Client) GetEndpointStats(ctx context.Context, id, window string) (*EndpointStats, error) {
	req := request{method: http.MethodGet, path: []string{"v1", "endpoints", id, "stats"}}
	if window != "" {
		req.query = map[string][]string{"window": {window}}
	}
	var s EndpointStats
	if _, err := c.call(ctx, req, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
