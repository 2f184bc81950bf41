// Package ui serves hookd's customer portal at /ui/ (docs/portal.md): pages
// rendered on the server from embedded html/template files, plain forms
// that work without JavaScript, and one small script that only makes them
// quicker. Every page goes through internal/service with the session's
// actor, so it shows and changes exactly what the API would allow.
package ui

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Cookie names. The session cookie holds a random id whose hash the store
// keeps; the account cookie remembers which account the admin looks at
// (the admin may see every account, so it is not a secret).
const (
	sessionCookie = "hookd_session"
	accountCookie = "hookd_account"
)

// Config configures the UI handler.
type Config struct {
	Service *service.Service
	// FrameAncestors is the CSP frame-ancestors source list
	// (--ui-frame-ancestors); empty means 'none'.
	FrameAncestors string
	// AttemptTimeout is the delivery attempt limit, named in the
	// connection test's checklist.
	AttemptTimeout time.Duration
	// SecretOverlap is how long a rotated-out secret keeps signing.
	SecretOverlap time.Duration
	Logger        *slog.Logger
}

// UI is the /ui/ handler.
type UI struct {
	cfg   Config
	svc   *service.Service
	mux   *http.ServeMux
	pages map[string]*template.Template
}

// New returns the UI handler; it panics only if the embedded templates do
// not parse, which the package's tests rule out.
func New(cfg Config) *UI {
	if cfg.FrameAncestors == "" {
		cfg.FrameAncestors = "'none'"
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	u := &UI{cfg: cfg, svc: cfg.Service, mux: http.NewServeMux(), pages: parsePages()}
	u.routes()
	return u
}

func parsePages() map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := make(map[string]*template.Template)
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
	}
	return pages
}

// handler is a page handler: it returns an error instead of writing one.
type handler func(w http.ResponseWriter, r *http.Request, rq *request) error

// request is what a signed-in page knows about its caller.
type request struct {
	session   *service.Session
	sessionID string
	actor     service.Actor
	// account is the account the page shows: the session's, or the one
	// the admin picked (empty until then).
	account string
	csrf    string
	nonce   string
}

func (u *UI) routes() {
	m := u.mux
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", staticHandler(http.FileServerFS(static))))
	m.HandleFunc("GET /ui/{$}", u.public(u.home))
	m.HandleFunc("POST /ui/signin", u.public(u.signIn))
	m.HandleFunc("GET /ui/link/{token}", u.public(u.portalLink))
	m.HandleFunc("POST /ui/signout", u.private(u.signOut))

	m.HandleFunc("GET /ui/webhooks", u.private(u.webhooks))
	m.HandleFunc("GET /ui/webhooks/new", u.private(u.newWebhook))
	m.HandleFunc("POST /ui/webhooks/new", u.private(u.createWebhook))
	m.HandleFunc("GET /ui/webhooks/{id}", u.private(u.endpoint))
	m.HandleFunc("POST /ui/webhooks/{id}", u.private(u.saveEndpoint))
	m.HandleFunc("POST /ui/webhooks/{id}/test", u.private(u.testEndpoint))
	m.HandleFunc("POST /ui/webhooks/{id}/filter-test", u.private(u.tryFilter))
	m.HandleFunc("POST /ui/webhooks/{id}/enable", u.private(u.reenable))
	m.HandleFunc("POST /ui/webhooks/{id}/recover", u.private(u.recoverEvents))
	m.HandleFunc("POST /ui/webhooks/{id}/reveal", u.private(u.revealSecret))
	m.HandleFunc("GET /ui/webhooks/{id}/rotate", u.private(u.confirmRotate))
	m.HandleFunc("POST /ui/webhooks/{id}/rotate", u.private(u.rotateSecret))

	m.HandleFunc("GET /ui/deliveries", u.private(u.deliveries))
	m.HandleFunc("GET /ui/deliveries/{id}", u.private(u.delivery))
	m.HandleFunc("POST /ui/deliveries/{id}/redeliver", u.private(u.redeliver))
	m.HandleFunc("GET /ui/event-types", u.private(u.eventTypes))

	m.HandleFunc("GET /ui/admin", u.private(u.admin))
	m.HandleFunc("POST /ui/admin/account", u.private(u.pickAccount))

	m.HandleFunc("/ui/", u.public(func(w http.ResponseWriter, r *http.Request, rq *request) error {
		return hook.Errorf(hook.ENotFound, "There is no page at %s.", r.URL.Path)
	}))
}

func staticHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP implements http.Handler: security headers on every answer,
// then routing.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	switch u.cfg.FrameAncestors {
	case "'none'":
		h.Set("X-Frame-Options", "DENY")
	case "'self'":
		h.Set("X-Frame-Options", "SAMEORIGIN")
	}
	u.mux.ServeHTTP(w, r)
}

// csp is the page's Content-Security-Policy: no inline script or style
// except the one style element that carries the nonce (the accent colour).
func (u *UI) csp(nonce string) string {
	return "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-" + nonce + "'; img-src 'self' https:; " +
		"form-action 'self'; base-uri 'none'; frame-ancestors " + u.cfg.FrameAncestors
}

// public wraps a page that needs no session (it may have one).
func (u *UI) public(h handler) http.HandlerFunc {
	return u.wrap(h, false)
}

// private wraps a page that needs a session; without one it sends the
// browser to the sign-in page.
func (u *UI) private(h handler) http.HandlerFunc {
	return u.wrap(h, true)
}

func (u *UI) wrap(h handler, needSession bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rq := &request{nonce: newNonce()}
		w.Header().Set("Content-Security-Policy", u.csp(rq.nonce))
		w.Header().Set("Cache-Control", "no-store")
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			se, err := u.svc.SessionByID(r.Context(), c.Value)
			switch {
			case err == nil:
				rq.session, rq.sessionID, rq.actor = se, c.Value, se.Actor
				rq.csrf = csrfToken(c.Value)
				rq.account = se.Actor.AccountID
				if se.Actor.Admin {
					if ac, err := r.Cookie(accountCookie); err == nil && hook.ValidID(hook.PrefixAccount, ac.Value) {
						rq.account = ac.Value
					}
				}
			case hook.ErrorCode(err) == hook.EUnauthorized:
				clearCookie(w, r, sessionCookie)
			default:
				u.fail(w, r, rq, err)
				return
			}
		}
		if needSession && rq.session == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/ui/?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			u.fail(w, r, rq, hook.Errorf(hook.EUnauthorized, "Your session ended; sign in again."))
			return
		}
		if r.Method == http.MethodPost {
			if err := u.checkPost(r, rq); err != nil {
				u.fail(w, r, rq, err)
				return
			}
		}
		if err := h(w, r, rq); err != nil {
			u.fail(w, r, rq, err)
		}
	}
}

// checkPost guards every state-changing form: the browser must say it
// comes from this origin (when it says anything), a session's forms carry
// its CSRF token, and a read-only session may only sign out.
func (u *UI) checkPost(r *http.Request, rq *request) error {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		ou, err := url.Parse(o)
		if err != nil || ou.Host != r.Host {
			return hook.Errorf(hook.EForbidden, "This form was sent from another site.")
		}
	}
	if rq.session == nil {
		return nil // sign-in: nothing to protect yet
	}
	if got := r.PostFormValue("csrf"); subtle.ConstantTimeCompare([]byte(got), []byte(rq.csrf)) != 1 {
		return hook.Errorf(hook.EForbidden, "This form has expired; go back, reload the page and try again.")
	}
	if rq.session.ReadOnly && r.URL.Path != "/ui/signout" {
		return hook.Errorf(hook.EForbidden, "This page is view-only: nothing can be changed from it.")
	}
	return nil
}

// csrfToken derives a session's CSRF token from its id: only someone who
// can read the (HttpOnly) cookie could compute it.
func csrfToken(sessionID string) string {
	m := hmac.New(sha256.New, []byte(sessionID))
	m.Write([]byte("hookd ui csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return base64.RawStdEncoding.EncodeToString(b[:])
}

func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/ui/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r)})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/ui/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r)})
}

// fail renders an error page: not found, forbidden, bad input, or, for
// anything else, a page that says so without details (which are logged).
func (u *UI) fail(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	status, title, msg := http.StatusInternalServerError, "Something went wrong", "hookd could not show this page. Try again in a moment."
	var he *hook.Error
	if errors.As(err, &he) {
		msg = he.Message
		switch he.Code {
		case hook.ENotFound:
			status, title = http.StatusNotFound, "Not found"
		case hook.EUnauthorized:
			status, title = http.StatusUnauthorized, "Sign in again"
		case hook.EForbidden:
			status, title = http.StatusForbidden, "Not allowed"
		case hook.EUnavailable:
			status, title = http.StatusServiceUnavailable, "Unavailable"
		case hook.EInternal:
			status, msg = http.StatusInternalServerError, "hookd could not show this page. Try again in a moment."
		default:
			status, title = http.StatusBadRequest, "That did not work"
			if he.Code == hook.EEndpointDisabled || he.Code == hook.EAlreadyPending || he.Code == hook.ENotRedeliverable {
				status = http.StatusConflict
			}
		}
	}
	if status == http.StatusInternalServerError {
		u.cfg.Logger.Error("ui page failed", slog.String("method", r.Method), slog.String("route", r.Pattern), slog.Any("error", err))
	}
	u.render(w, r, rq, status, "error", title, errorPage{Title: title, Message: msg})
}

type errorPage struct {
	Title   string
	Message string
}

// render writes a page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, rq *request, status int, name, title string, data any) {
	t, ok := u.pages[name]
	if !ok {
		panic(fmt.Sprintf("ui: no template %q", name))
	}
	p := &page{Title: title, Data: data, Nonce: rq.nonce, CSRF: rq.csrf, Path: r.URL.Path}
	if rq.session != nil {
		p.SignedIn, p.Admin, p.Account = true, rq.actor.Admin, rq.account
		p.ReadOnly = rq.session.ReadOnly
		p.Accent, p.Theme, p.Logo = rq.session.AccentColor, rq.session.Theme, rq.session.LogoURL
		if rq.session.ReturnURL != "" {
			// Validated when the link was made: https or an app's own scheme.
			p.Back = template.URL(rq.session.ReturnURL)
		}
		if rq.account != "" && rq.actor.Admin {
			if a, err := u.svc.GetAccount(r.Context(), rq.actor, rq.account); err == nil {
				p.AccountName = a.Name
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout", p); err != nil {
		u.cfg.Logger.Error("ui render failed", slog.String("page", name), slog.Any("error", err))
	}
}

// page is what the layout template gets.
type page struct {
	Title       string
	Path        string
	Nonce       string
	CSRF        string
	SignedIn    bool
	Admin       bool
	ReadOnly    bool
	Account     string
	AccountName string
	Accent      string
	Theme       string
	Logo        string
	Back        template.URL
	Data        any
}
