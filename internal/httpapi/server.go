// Package httpapi serves hookd's JSON API (docs/api.md) on net/http: routing
// with ServeMux patterns, bearer-token authentication, JSON decoding with
// clear errors, and the one table that maps error codes to statuses. The
// use cases themselves live in internal/service, reached through the
// Service interface defined here. openapi.json describes every route
// (GET /openapi.json); a test holds it to the routes registered.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/metrics"
	"github.com/hookd/hookd/internal/service"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config configures the API handler.
type Config struct {
	// Service is the application layer (a *service.Service).
	Service Service
	// Ready reports whether the node can serve (the database takes a
	// write within the context's deadline); nil means always.
	Ready func(ctx context.Context) error
	// MaxEventBytes bounds POST /v1/events bodies (--max-event-bytes,
	// default 1 MiB); other bodies are bounded to 64 KiB.
	MaxEventBytes int64
	// MaxBatchBytes bounds POST /v1/events/batch bodies (--max-batch-bytes,
	// default 8 MiB).
	MaxBatchBytes int64
	// ServeMetrics adds /metrics to this handler (off when metrics have
	// their own address).
	ServeMetrics bool
	// RateLimit is the average number of requests per second an account
	// token may make (0: no limit), RateBurst how many at once.
	RateLimit float64
	RateBurst int
	// AdminRateLimit limits the admin token likewise (0: no limit: the
	// producer submits events at full speed).
	AdminRateLimit float64
	// RequestTimeout bounds each API request's work, so that a database
	// that does not answer (a dropped network path, a pool with no free
	// connection) ends in 503 unavailable rather than a request that hangs;
	// 0 means no bound. It must cover a connection test (the attempt
	// timeout) and the database's statement timeout.
	RequestTimeout time.Duration
	// UI, when set, serves /ui/.
	UI http.Handler
	// Now is the clock of the rate limiter; nil means time.Now.
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics *metrics.Metrics
}

// maxBodyBytes bounds request bodies other than events.
const maxBodyBytes = 64 << 10

// The API's limits on a request's head, answered with the JSON error
// shape. The server's own limit (http.Server.MaxHeaderBytes, set higher
// by the caller: MaxHeaderBytes below) answers a plain-text 431 before any
// handler runs, so it must stay above these.
const (
	// MaxURIBytes bounds the request target (path and query): 414.
	MaxURIBytes = 8 << 10
	// MaxHeadersBytes bounds the header fields, names and values: 431.
	MaxHeadersBytes = 64 << 10
	// MaxHeaderBytes is what the http.Server serving the API should set
	// as its MaxHeaderBytes: room for both limits above, so that hookd,
	// not net/http, answers a request over them.
	MaxHeaderBytes = 1 << 20
)

// Error codes of the request's head; their statuses are in statusOf.
const (
	codeURITooLong      = "uri_too_long"
	codeHeadersTooLarge = "headers_too_large"
)

// API is the HTTP handler of hookd's API.
type API struct {
	cfg          Config
	svc          Service
	mux          *http.ServeMux
	accountLimit *limiter // nil: no limit
	adminLimit   *limiter
	patterns     []string // every route registered, for Routes
}

// New returns the API handler.
func New(cfg Config) *API {
	if cfg.MaxEventBytes <= 0 {
		cfg.MaxEventBytes = 1 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &API{cfg: cfg, svc: cfg.Service, mux: http.NewServeMux()}
	if cfg.RateLimit > 0 {
		a.accountLimit = newLimiter(cfg.RateLimit, cfg.RateBurst, cfg.Now)
	}
	if cfg.AdminRateLimit > 0 {
		a.adminLimit = newLimiter(cfg.AdminRateLimit, cfg.RateBurst, cfg.Now)
	}
	a.routes()
	return a
}

// handlerFunc is an API handler: it returns an error instead of writing
// one, and gets the authenticated actor.
type handlerFunc func(w http.ResponseWriter, r *http.Request, actor service.Actor) error

func (a *API) routes() {
	a.public("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	a.public("GET /readyz", a.readyz)
	a.public("GET /openapi.json", serveOpenAPI)
	if a.cfg.ServeMetrics {
		a.public("GET /metrics", promhttp.HandlerFor(a.cfg.Metrics.Registry, promhttp.HandlerOpts{}).ServeHTTP)
	}
	if a.cfg.UI != nil {
		a.public("/ui/", a.cfg.UI.ServeHTTP)
	}
	a.public("GET /{$}", a.index)

	a.handle("POST /v1/accounts", adminOnly(a.createAccount))
	a.handle("GET /v1/accounts/{id}", adminOnly(a.getAccount))
	a.handle("POST /v1/accounts/{id}/rotate-token", adminOnly(a.rotateAccountToken))
	a.handle("GET /v1/accounts", adminOnly(a.listAccounts))
	a.handle("POST /v1/accounts/{id}/portal-links", adminOnly(a.createPortalLink))

	a.handle("POST /v1/events", adminOnly(a.submitEvent))
	a.handle("GET /v1/events", a.listEvents)
	a.handle("POST /v1/events/batch", adminOnly(a.submitEvents))
	a.handle("GET /v1/events/{id}", a.getEvent)
	a.handle("GET /v1/event-types", a.eventTypes)

	a.handle("POST /v1/endpoints", a.createEndpoint)
	a.handle("GET /v1/endpoints", a.listEndpoints)
	a.handle("GET /v1/endpoints/{id}", a.getEndpoint)
	a.handle("PATCH /v1/endpoints/{id}", a.updateEndpoint)
	a.handle("DELETE /v1/endpoints/{id}", a.deleteEndpoint)
	a.handle("POST /v1/endpoints/{id}/test", a.testEndpoint)
	a.handle("POST /v1/endpoints/{id}/rotate-secret", a.rotateSecret)
	a.handle("GET /v1/endpoints/{id}/secret", a.getSecret)
	a.handle("POST /v1/endpoints/{id}/recover", a.recoverEvents)
	a.handle("GET /v1/endpoints/{id}/stats", a.endpointStats)
	a.handle("GET /v1/endpoints/{id}/headers", a.getHeaders)
	a.handle("POST /v1/endpoints/{id}/filter-test", a.filterTest)

	a.handle("GET /v1/deliveries", a.listDeliveries)
	a.handle("GET /v1/deliveries/{id}", a.getDelivery)
	a.handle("GET /v1/deliveries/{id}/attempts", a.listAttempts)
	a.handle("POST /v1/deliveries/{id}/redeliver", a.redeliver)

	a.mux.HandleFunc("/", a.notFound)
}

// Routes returns the patterns of the routes the API serves, in the order
// they were registered (the catch-all that answers 404 or 405 left out).
// The OpenAPI document (openapi.json) must describe each of them.
func (a *API) Routes() []string { return slices.Clone(a.patterns) }

// public registers a route that needs no token.
func (a *API) public(pattern string, h http.HandlerFunc) {
	a.patterns = append(a.patterns, pattern)
	a.mux.HandleFunc(pattern, h)
}

// index answers GET /: the web UI when there is one, else where the API,
// its OpenAPI document and the health check are.
func (a *API) index(w http.ResponseWriter, r *http.Request) {
	if a.cfg.UI != nil {
		http.Redirect(w, r, "/ui/", http.StatusFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"api": "/v1/", "openapi": "/openapi.json", "health": "/healthz"})
}

// handle registers an authenticated API route.
func (a *API) handle(pattern string, h handlerFunc) {
	a.patterns = append(a.patterns, pattern)
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.RequestTimeout > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), a.cfg.RequestTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		actor, err := a.svc.Authenticate(r.Context(), bearerToken(r))
		if err == nil {
			err = a.rateLimit(w, actor)
		}
		if err == nil {
			err = checkQuery(r)
		}
		if err == nil {
			err = h(w, r, actor)
		}
		if err != nil {
			a.writeError(w, r, err)
		}
	})
}

// rateLimit answers 429 with Retry-After when the actor's token is over
// its rate.
func (a *API) rateLimit(w http.ResponseWriter, actor service.Actor) error {
	l, key := a.accountLimit, actor.AccountID
	if actor.Admin {
		l, key = a.adminLimit, "admin"
	}
	if l == nil {
		return nil
	}
	ok, wait := l.allow(key)
	if ok {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	return hook.Errorf(hook.ERateLimited, "Too many requests for this token; retry after %d s.", max(secs, 1))
}

// adminOnly answers 403 to account tokens before the handler reads
// anything of the request.
func adminOnly(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
		if !actor.Admin {
			return hook.Errorf(hook.EForbidden, "This route needs the admin token.")
		}
		return h(w, r, actor)
	}
}

// ServeHTTP implements http.Handler: recovery, metrics, then routing.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := &statusWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			a.cfg.Logger.Error("panic serving request", slog.String("method", r.Method),
				slog.String("route", r.Pattern), slog.Any("panic", p))
			if !rw.wrote {
				a.writeError(rw, r, errors.New("panic"))
			}
		}
		route := r.Pattern
		if route == "" || route == "/" {
			route = "other"
		}
		a.cfg.Metrics.HTTPRequests.WithLabelValues(route, strconv.Itoa(rw.status())).Inc()
		a.cfg.Metrics.HTTPDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	}()
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := checkHead(r); err != nil {
		a.writeError(rw, r, err)
		return
	}
	a.mux.ServeHTTP(rw, r)
}

// checkHead enforces the API's limits on the request line and headers.
func checkHead(r *http.Request) error {
	target := r.RequestURI
	if target == "" { // a request made in process, not read from a connection
		target = r.URL.RequestURI()
	}
	if n := len(target); n > MaxURIBytes {
		return hook.Errorf(codeURITooLong, "The request target (path and query) is %d bytes; the limit is %d.", n, MaxURIBytes)
	}
	n := len(r.Host)
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + len(v) + 4 // ": " and CRLF
		}
	}
	if n > MaxHeadersBytes {
		return hook.Errorf(codeHeadersTooLarge, "The request headers are %d bytes; the limit is %d.", n, MaxHeadersBytes)
	}
	return nil
}

// checkQuery refuses a query string that does not parse or that gives a
// parameter more than once: which of two limits was meant is a guess.
func checkQuery(r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		for pair := range strings.SplitSeq(r.URL.RawQuery, "&") {
			k, v, _ := strings.Cut(pair, "=")
			key, kerr := url.QueryUnescape(k)
			if kerr != nil {
				break
			}
			if _, verr := url.QueryUnescape(v); verr != nil {
				return hook.FieldErrorf(hook.EInvalidParameter, key, "The query parameter %q is not percent-encoded correctly.", key)
			}
		}
		return hook.Errorf(hook.EInvalidParameter, "The query string is not valid: %v.", err)
	}
	for name, values := range q {
		if len(values) > 1 {
			return hook.FieldErrorf(hook.EInvalidParameter, name, "The query parameter %q is given %d times; give it once.", name, len(values))
		}
	}
	return nil
}

// notFound answers for paths no route has: 405 if the path exists with
// other methods, else 404.
func (a *API) notFound(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := a.mux.Handler(probe); pattern != "/" && pattern != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		a.writeError(w, r, hook.Errorf(hook.EMethodNotAllowed, "%s is not allowed here; use %s.", r.Method, strings.Join(allowed, " or ")))
		return
	}
	a.writeError(w, r, hook.Errorf(hook.ENotFound, "No such route: %s %s.", r.Method, r.URL.Path))
}

// readyTimeout bounds /readyz: a load balancer's probe gets its answer
// within about this long even when the database does not answer at all.
const readyTimeout = time.Second

// readyz answers 200 while the node can take writes, else 503 with
// Retry-After and the error shape besides the status.
func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := a.cfg.Ready(ctx); err != nil {
			a.cfg.Logger.Warn("not ready", slog.Any("error", err))
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterOutage))
			writeJSON(w, http.StatusServiceUnavailable, readyBody{Status: "unavailable", Error: &errorJSON{
				Code: hook.EUnavailable, Message: "The database does not take writes for now."}})
			return
		}
	}
	writeJSON(w, http.StatusOK, readyBody{Status: "ok"})
}

type readyBody struct {
	Status string     `json:"status"`
	Error  *errorJSON `json:"error,omitempty"`
}

// bearerToken returns the token of an "Authorization: Bearer …" header.
func bearerToken(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// statusWriter records the status written.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
