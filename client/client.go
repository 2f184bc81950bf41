package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	// defaultTimeout bounds a whole request made with the default HTTP
	// client. It is generous because POST /v1/endpoints/{id}/test waits for
	// the receiver (5 s by default, configurable on the server).
	defaultTimeout = 60 * time.Second

	// defaultUserAgent is sent unless WithUserAgent says otherwise.
	defaultUserAgent = "hookd-go-client"

	// maxResponseBytes caps how much of a response body is read. The
	// largest answers are lists of 500 items and stored event envelopes
	// (1 MiB by default).
	maxResponseBytes = 8 << 20
)

// Client talks to one hookd server. It is safe for concurrent use.
type Client struct {
	base      string // scheme://host[/prefix], without a trailing slash
	token     string
	http      *http.Client
	userAgent string
}

// Option configures a Client in New.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests with h instead of a
// default client whose Timeout is 60 seconds. A nil h is ignored.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.http = h
		}
	}
}

// WithUserAgent sets the User-Agent header of every request. An empty ua
// keeps the default, "hookd-go-client".
func WithUserAgent(ua string) Option {
	return func(c *Client) {
		if ua != "" {
			c.userAgent = ua
		}
	}
}

// New returns a Client for the hookd server at baseURL, such as
// "http://localhost:8080" or "https://hooks.example.com/hookd", that
// authenticates with token: the admin token or an account token. The token
// may be empty for a Client that only calls Healthz and Readyz.
//
// New returns an error if baseURL is not an absolute http or https URL with
// a host, or if it carries user info, a query or a fragment.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("hookd: invalid base URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("hookd: invalid base URL %q: the scheme must be http or https", baseURL)
	case u.Host == "":
		return nil, fmt.Errorf("hookd: invalid base URL %q: no host", baseURL)
	case u.User != nil:
		// The token goes in the Authorization header; credentials in the
		// URL would be ignored, or worse, end up in logs.
		return nil, errors.New("hookd: invalid base URL: it must not contain user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("hookd: invalid base URL %q: it must not have a query or fragment", baseURL)
	}
	c := &Client{
		base:      strings.TrimRight(u.String(), "/"),
		token:     token,
		http:      &http.Client{Timeout: defaultTimeout},
		userAgent: defaultUserAgent,
	}
	for _, opt := range opts {
		opt(c)
	}
	return c, nil
}

// Healthz checks that the server is alive (GET /healthz). It sends no
// token.
func (c *Client) Healthz(ctx context.Context) error {
	_, _, err := c.do(ctx, request{method: http.MethodGet, path: []string{"healthz"}, public: true})
	return err
}

// Readyz checks that the server can serve: its database is reachable and
// migrated (GET /readyz). A server that is not ready answers 503, which
// becomes an *Error with StatusCode 503. It sends no token.
func (c *Client) Readyz(ctx context.Context) error {
	_, _, err := c.do(ctx, request{method: http.MethodGet, path: []string{"readyz"}, public: true})
	return err
}

// request is one API call.
type request struct {
	method string
	// path holds the segments of the URL path after the base URL; each is
	// escaped with url.PathEscape, and none may be empty (an empty id).
	path  []string
	query url.Values
	// body, when not nil, is sent as JSON.
	body           any
	idempotencyKey string
	// public requests carry no Authorization header.
	public bool
}

// route returns the escaped path of r, for requests and error messages.
func (r request) route() string {
	var b strings.Builder
	for _, seg := range r.path {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(seg))
	}
	return b.String()
}

// do sends r and returns the status and body of a 2xx answer. Any other
// answer is an *Error.
func (c *Client) do(ctx context.Context, r request) (int, []byte, error) {
	route := r.route()
	for _, seg := range r.path {
		if seg == "" {
			return 0, nil, fmt.Errorf("hookd: %s %s: empty id", r.method, route)
		}
	}
	target := c.base + route
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		// Keep <, > and & as they are, so that a json.RawMessage in the
		// body reaches the server byte for byte (whitespace aside).
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r.body); err != nil {
			return 0, nil, fmt.Errorf("hookd: %s %s: encode request: %w", r.method, route, err)
		}
		body = bytes.NewReader(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return 0, nil, fmt.Errorf("hookd: %s %s: %w", r.method, route, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !r.public && c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if r.idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", r.idempotencyKey)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		// A *url.Error naming the method and URL; it wraps ctx.Err() when
		// the context ended. The token is in a header, never in the URL.
		return 0, nil, fmt.Errorf("hookd: %w", err)
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// A partly read error body still tells what went wrong.
		e := newError(resp.StatusCode, data)
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		return resp.StatusCode, nil, e
	}
	if readErr != nil {
		return resp.StatusCode, nil, fmt.Errorf("hookd: %s %s: read response: %w", r.method, route, readErr)
	}
	if len(data) > maxResponseBytes {
		return resp.StatusCode, nil, fmt.Errorf("hookd: %s %s: response body larger than %d bytes", r.method, route, maxResponseBytes)
	}
	return resp.StatusCode, data, nil
}

// call sends r and decodes the JSON answer into out. It returns the status
// of the answer.
func (c *Client) call(ctx context.Context, r request, out any) (int, error) {
	status, data, err := c.do(ctx, r)
	if err != nil {
		return status, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return status, fmt.Errorf("hookd: %s %s: empty response body (HTTP %d)", r.method, r.route(), status)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return status, fmt.Errorf("hookd: %s %s: decode response: %w", r.method, r.route(), err)
	}
	return status, nil
}
