package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/service"
	"github.com/hookd/hookd/internal/store"
)

// home is the sign-in page, or, once signed in, the way to the first
// screen.
func (u *UI) home(w http.ResponseWriter, r *http.Request, rq *request) error {
	if rq.session != nil {
		http.Redirect(w, r, u.landing(rq), http.StatusSeeOther)
		return nil
	}
	u.render(w, r, rq, http.StatusOK, "signin", "Sign in", signInPage{Next: safeNext(r.URL.Query().Get("next"))})
	return nil
}

type signInPage struct {
	Next  string
	Error string
}

func (u *UI) landing(rq *request) string {
	if rq.actor.Admin && rq.account == "" {
		return "/ui/admin"
	}
	return "/ui/webhooks"
}

// safeNext keeps a post-sign-in target inside /ui/.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/ui/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return ""
}

func (u *UI) signIn(w http.ResponseWriter, r *http.Request, rq *request) error {
	next := safeNext(r.PostFormValue("next"))
	id, se, err := u.svc.SignIn(r.Context(), r.PostFormValue("token"))
	if hook.ErrorCode(err) == hook.EUnauthorized {
		u.render(w, r, rq, http.StatusUnauthorized, "signin", "Sign in",
			signInPage{Next: next, Error: "That token is not valid. Paste an account token (hkt_…) or the admin token."})
		return nil
	}
	if err != nil {
		return err
	}
	setCookie(w, r, sessionCookie, id, se.ExpiresAt)
	clearCookie(w, r, accountCookie)
	if next == "" {
		next = u.landing(&request{actor: se.Actor, account: se.Actor.AccountID})
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// portalLink opens the session of a single-use link. It answers with a
// page that moves on by itself rather than a redirect: a browser that
// arrived from another site would not send a SameSite=Strict cookie along
// a redirect, but does on a navigation this page starts.
func (u *UI) portalLink(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, se, err := u.svc.RedeemPortalLink(r.Context(), r.PathValue("token"))
	if errors.Is(err, service.ErrLinkUnusable) {
		rq.session, rq.csrf = nil, ""
		u.render(w, r, rq, http.StatusGone, "gone", "Link expired", nil)
		return nil
	}
	if err != nil {
		return err
	}
	setCookie(w, r, sessionCookie, id, se.ExpiresAt)
	clearCookie(w, r, accountCookie)
	rq.session, rq.csrf = nil, ""
	u.render(w, r, rq, http.StatusOK, "continue", "Opening webhooks", nil)
	return nil
}

func (u *UI) signOut(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := u.svc.SignOut(r.Context(), rq.sessionID); err != nil {
		return err
	}
	clearCookie(w, r, sessionCookie)
	clearCookie(w, r, accountCookie)
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
	return nil
}

// needAccount sends an admin who has not picked an account to the
// overview.
func (u *UI) needAccount(w http.ResponseWriter, r *http.Request, rq *request) bool {
	if rq.account != "" {
		return false
	}
	http.Redirect(w, r, "/ui/admin", http.StatusSeeOther)
	return true
}

// endpointRow is an endpoint in the Webhooks list.
type endpointRow struct {
	E     *hook.Endpoint
	Last  *hook.Delivery
	Stats []store.StatsBucket
}

func (u *UI) webhooks(w http.ResponseWriter, r *http.Request, rq *request) error {
	if u.needAccount(w, r, rq) {
		return nil
	}
	ctx := r.Context()
	es, _, err := u.svc.ListEndpoints(ctx, rq.actor, rq.account, service.Page{Limit: 100})
	if err != nil {
		return err
	}
	rows := make([]endpointRow, len(es))
	for i, e := range es {
		rows[i].E = e
		ds, _, err := u.svc.ListDeliveries(ctx, rq.actor, service.DeliveryFilter{EndpointID: e.ID}, service.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(ds) > 0 {
			rows[i].Last = ds[0]
		}
		if rows[i].Stats, err = u.svc.EndpointStats(ctx, rq.actor, e.ID, service.Window24h); err != nil {
			return err
		}
	}
	u.render(w, r, rq, http.StatusOK, "webhooks", "Webhooks", rows)
	return nil
}

// endpointPage is the Endpoint screen (and the Add webhook form, with E
// nil).
type endpointPage struct {
	E       *hook.Endpoint
	Form    endpointForm
	Errors  map[string]string
	Types   []typeChoice
	Flash   string
	Test    *service.TestResult
	Secret  *service.Secret
	Recent  []*hook.Delivery
	Day     []store.StatsBucket // per hour, the last 24 hours
	Week    []store.StatsBucket // per day, the last 7 days
	Since   string              // the recover field's value
	Timeout time.Duration
	Overlap time.Duration
	// FilterTest is the outcome of "Try the filter", with what was tried.
	FilterTest  *service.FilterTestResult
	TryFilter   string
	TryEvent    string
	FilterError string
}

type endpointForm struct {
	URL         string
	Description string
	Enabled     bool
	EventTypes  []string
	// The endpoint controls as typed: headers one "Name: value" a line
	// (values shown masked; an unchanged masked value keeps the stored
	// one), the filter's JSON, the rate limit's digits.
	Headers   string
	Filter    string
	RateLimit string
}

// controlsForm writes an endpoint's controls into the form's text.
func controlsForm(e *hook.Endpoint, f *endpointForm) {
	var hs strings.Builder
	for _, h := range e.Headers {
		hs.WriteString(h.Name + ": " + h.Masked + "\n")
	}
	f.Headers, f.Filter = hs.String(), string(e.Filter)
	if e.RateLimit > 0 {
		f.RateLimit = strconv.Itoa(e.RateLimit)
	}
}

// controlsInput turns the form's control fields into the JSON members of
// the service's input. A header line whose value is the stored header's
// masked value keeps the stored value (plain from current, nil on create).
func controlsInput(f endpointForm, current []hook.Header) (headers, filter, rate json.RawMessage, err error) {
	obj := map[string]string{}
	var order []string
	for line := range strings.Lines(f.Headers) {
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, nil, nil, hook.FieldErrorf(hook.EInvalidParameter, "headers",
				"Write one header a line as Name: value; %q has no colon.", truncateText(line, 40))
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		for _, h := range current {
			if strings.EqualFold(h.Name, name) && value == h.Masked {
				value = h.Value
			}
		}
		if _, dup := obj[name]; dup {
			return nil, nil, nil, hook.FieldErrorf(hook.EInvalidParameter, "headers", "The header %q is given twice.", name)
		}
		obj[name] = value
		order = append(order, name)
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, name := range order {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		v, _ := json.Marshal(obj[name])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	headers = json.RawMessage(b.String())
	filter = json.RawMessage("null")
	if t := strings.TrimSpace(f.Filter); t != "" {
		if !json.Valid([]byte(t)) {
			return nil, nil, nil, hook.FieldErrorf(hook.EInvalidFilter, "filter",
				`The filter is not valid JSON; write an object such as {"data.direction": "inbound"}.`)
		}
		filter = json.RawMessage(t)
	}
	rate = json.RawMessage("null")
	if t := strings.TrimSpace(f.RateLimit); t != "" {
		rate = json.RawMessage(strconv.Quote(t)) // a string: refused with the service's message unless digits
		if _, err := strconv.Atoi(t); err == nil {
			rate = json.RawMessage(t)
		}
	}
	return headers, filter, rate, nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

type typeChoice struct {
	Event, Label, Description string
	Checked                   bool
}

func (u *UI) typeChoices(selected []string) []typeChoice {
	var out []typeChoice
	for _, t := range u.svc.EventTypes() {
		if t.Event == "webhook.test" {
			continue
		}
		out = append(out, typeChoice{Event: t.Event, Label: typeLabel(t.Event), Description: typeBlurb(t.Event, t.Description),
			Checked: slices.Contains(selected, t.Event) || slices.Contains(selected, hook.AllEventTypes)})
	}
	return out
}

func (u *UI) newWebhook(w http.ResponseWriter, r *http.Request, rq *request) error {
	if u.needAccount(w, r, rq) {
		return nil
	}
	f := endpointForm{Enabled: true}
	u.render(w, r, rq, http.StatusOK, "endpoint", "Add webhook", &endpointPage{Form: f, Types: u.typeChoices(nil)})
	return nil
}

func readForm(r *http.Request) endpointForm {
	return endpointForm{URL: strings.TrimSpace(r.PostFormValue("url")), Description: r.PostFormValue("description"),
		Enabled: r.PostFormValue("enabled") == "on", EventTypes: r.PostForm["event_types"],
		Headers: r.PostFormValue("headers"), Filter: r.PostFormValue("filter"), RateLimit: r.PostFormValue("rate_limit")}
}

// fieldErrors turns a validation error into messages by form field; it
// returns nil for errors that are not about a field.
func fieldErrors(err error) map[string]string {
	var he *hook.Error
	if !errors.As(err, &he) || he.Field == "" {
		return nil
	}
	msg := he.Message
	if he.Field == "url" {
		if strings.HasPrefix(msg, "URL must use https.") || msg == "URL must use https" {
			msg = "HTTPS is required: the URL must start with https://"
		}
		if !strings.HasSuffix(msg, ".") {
			msg += "."
		}
	}
	return map[string]string{he.Field: msg}
}

func (u *UI) createWebhook(w http.ResponseWriter, r *http.Request, rq *request) error {
	if u.needAccount(w, r, rq) {
		return nil
	}
	f := readForm(r)
	if len(f.EventTypes) == 0 {
		u.render(w, r, rq, http.StatusBadRequest, "endpoint", "Add webhook", &endpointPage{Form: f, Types: u.typeChoices(nil),
			Errors: map[string]string{"event_types": "Pick at least one event type."}})
		return nil
	}
	headers, filter, rate, err := controlsInput(f, nil)
	var e *hook.Endpoint
	if err == nil {
		e, _, err = u.svc.CreateEndpoint(r.Context(), rq.actor, service.CreateEndpointInput{AccountID: rq.account,
			URL: f.URL, EventTypes: f.EventTypes, Enabled: &f.Enabled, Description: f.Description,
			Headers: headers, Filter: filter, RateLimit: rate})
	}
	if errs := fieldErrors(err); errs != nil {
		u.render(w, r, rq, http.StatusBadRequest, "endpoint", "Add webhook", &endpointPage{Form: f, Types: u.typeChoices(f.EventTypes), Errors: errs})
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/webhooks/"+e.ID+"?saved=created", http.StatusSeeOther)
	return nil
}

// showEndpoint renders the Endpoint screen for e with what the caller
// adds (a test result, a secret, a message).
func (u *UI) showEndpoint(w http.ResponseWriter, r *http.Request, rq *request, status int, p *endpointPage) error {
	e := p.E
	if p.Form.URL == "" && p.Errors == nil {
		p.Form = endpointForm{URL: e.URL, Description: e.Description, Enabled: e.Enabled, EventTypes: e.EventTypes}
		controlsForm(e, &p.Form)
	}
	if p.TryFilter == "" && p.FilterTest == nil && p.FilterError == "" {
		p.TryFilter = string(e.Filter)
	}
	if p.Types == nil {
		p.Types = u.typeChoices(p.Form.EventTypes)
	}
	ds, _, err := u.svc.ListDeliveries(r.Context(), rq.actor, service.DeliveryFilter{EndpointID: e.ID}, service.Page{Limit: 5})
	if err != nil {
		return err
	}
	p.Recent = ds
	if p.Day, err = u.svc.EndpointStats(r.Context(), rq.actor, e.ID, service.Window24h); err != nil {
		return err
	}
	if p.Week, err = u.svc.EndpointStats(r.Context(), rq.actor, e.ID, service.Window7d); err != nil {
		return err
	}
	if p.Since == "" {
		p.Since = r.URL.Query().Get("since")
	}
	if p.Since == "" && !e.DisabledAt.IsZero() {
		p.Since = hook.FormatTime(e.DisabledAt)
	}
	p.Timeout, p.Overlap = u.cfg.AttemptTimeout, u.cfg.SecretOverlap
	u.render(w, r, rq, status, "endpoint", "Endpoint", p)
	return nil
}

var flashes = map[string]string{
	"created":   "Webhook saved. It is on: next, use Test the connection below to check that your endpoint answers.",
	"saved":     "Changes saved.",
	"reenabled": "Webhook re-enabled. Send the events it missed below, if you want them.",
}

func (u *UI) endpoint(w http.ResponseWriter, r *http.Request, rq *request) error {
	e, err := u.svc.GetEndpoint(r.Context(), rq.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	p := &endpointPage{E: e, Flash: flashes[r.URL.Query().Get("saved")]}
	if q := r.URL.Query().Get("queued"); q != "" {
		p.Flash = "Queued " + q + " missed event(s) for delivery."
	}
	return u.showEndpoint(w, r, rq, http.StatusOK, p)
}

func (u *UI) saveEndpoint(w http.ResponseWriter, r *http.Request, rq *request) error {
	e, err := u.svc.GetEndpoint(r.Context(), rq.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	f := readForm(r)
	if len(f.EventTypes) == 0 {
		return u.showEndpoint(w, r, rq, http.StatusBadRequest, &endpointPage{E: e, Form: f, Types: u.typeChoices(nil),
			Errors: map[string]string{"event_types": "Pick at least one event type."}})
	}
	types := f.EventTypes
	if slices.Contains(e.EventTypes, hook.AllEventTypes) && len(types) == len(u.typeChoices(nil)) {
		types = []string{hook.AllEventTypes} // all still ticked: keep "every type, also future ones"
	}
	in := service.UpdateEndpointInput{URL: &f.URL, EventTypes: &types, Description: &f.Description}
	if f.Enabled != e.Enabled {
		in.Enabled = &f.Enabled
	}
	var current []hook.Header
	if len(e.Headers) > 0 {
		if current, err = u.svc.EndpointHeaders(r.Context(), rq.actor, e.ID); err != nil {
			return err
		}
	}
	in.Headers, in.Filter, in.RateLimit, err = controlsInput(f, current)
	if err == nil {
		_, err = u.svc.UpdateEndpoint(r.Context(), rq.actor, e.ID, in)
	}
	if errs := fieldErrors(err); errs != nil {
		return u.showEndpoint(w, r, rq, http.StatusBadRequest, &endpointPage{E: e, Form: f, Types: u.typeChoices(f.EventTypes), Errors: errs})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/webhooks/"+e.ID+"?saved=saved", http.StatusSeeOther)
	return nil
}

// tryFilter is the "Try the filter" box: it matches the filter typed
// (empty: none) against a stored event, or the catalogue's example, and
// shows the explanation. Nothing is saved.
func (u *UI) tryFilter(w http.ResponseWriter, r *http.Request, rq *request) error {
	e, err := u.svc.GetEndpoint(r.Context(), rq.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	p := &endpointPage{E: e, TryFilter: r.PostFormValue("try_filter"), TryEvent: strings.TrimSpace(r.PostFormValue("try_event"))}
	in := service.FilterTestInput{Filter: json.RawMessage("null"), Event: p.TryEvent}
	if t := strings.TrimSpace(p.TryFilter); t != "" {
		in.Filter = json.RawMessage(t)
		if !json.Valid(in.Filter) {
			p.FilterError = `The filter is not valid JSON; write an object such as {"data.direction": "inbound"}.`
			return u.showEndpoint(w, r, rq, http.StatusBadRequest, p)
		}
	}
	res, err := u.svc.FilterTest(r.Context(), rq.actor, e.ID, in)
	var he *hook.Error
	if errors.As(err, &he) && he.Code != hook.EInternal {
		p.FilterError = he.Message
		return u.showEndpoint(w, r, rq, http.StatusBadRequest, p)
	}
	if err != nil {
		return err
	}
	p.FilterTest = res
	return u.showEndpoint(w, r, rq, http.StatusOK, p)
}

func (u *UI) testEndpoint(w http.ResponseWriter, r *http.Request, rq *request) error {
	res, err := u.svc.TestEndpoint(r.Context(), rq.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	e, err := u.svc.GetEndpoint(r.Context(), rq.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return u.showEndpoint(w, r, rq, http.StatusOK, &endpointPage{E: e, Test: res})
}

func (u *UI) reenable(w http.ResponseWriter, r *http.Request, rq *request) error {
	e, err := u.svc.GetEndpoint(r.Context(), rq.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	since := hook.FormatTime(e.DisabledAt)
	on := true
	if _, err := u.svc.UpdateEndpoint(r.Context(), rq.actor, e.ID, service.UpdateEndpointInput{Enabled: &on}); err != nil {
		return err
	}
	target := "/ui/webhooks/" + e.ID + "?saved=reenabled"
	if !e.DisabledAt.IsZero() {
		target += "&since=" + url.QueryEscape(since)
	}
	http.Redirect(w, r, target+"#recover", http.StatusSeeOther)
	return nil
}

func (u *UI) recoverEvents(w http.ResponseWriter, r *http.Request, rq *request) error {
	e, err := u.svc.GetEndpoint(r.Context(), rq.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	raw := strings.TrimSpace(r.PostFormValue("since"))
	since, perr := parseTime(raw)
	if perr != nil {
		return u.showEndpoint(w, r, rq, http.StatusBadRequest, &endpointPage{E: e, Since: raw,
			Errors: map[string]string{"since": "Enter a time like 2026-12-03T09:14:00Z (UTC)."}})
	}
	n, err := u.svc.Recover(r.Context(), rq.actor, e.ID, since)
	if hook.ErrorCode(err) == hook.EEndpointDisabled {
		return u.showEndpoint(w, r, rq, http.StatusConflict, &endpointPage{E: e, Since: raw,
			Errors: map[string]string{"since": "Re-enable the webhook first: a disabled webhook receives nothing."}})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/webhooks/"+e.ID+"?queued="+url.QueryEscape(itoa(n)), http.StatusSeeOther)
	return nil
}

// parseTime reads RFC 3339, or the form of a datetime-local field taken
// as UTC.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not a time")
}

func (u *UI) revealSecret(w http.ResponseWriter, r *http.Request, rq *request) error {
	e, err := u.svc.GetEndpoint(r.Context(), rq.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	sec, err := u.svc.GetSecret(r.Context(), rq.actor, e.ID)
	if err != nil {
		return err
	}
	return u.showEndpoint(w, r, rq, http.StatusOK, &endpointPage{E: e, Secret: sec})
}

func (u *UI) confirmRotate(w http.ResponseWriter, r *http.Request, rq *request) error {
	if rq.session.ReadOnly {
		return hook.Errorf(hook.EForbidden, "This page is view-only: nothing can be changed from it.")
	}
	e, err := u.svc.GetEndpoint(r.Context(), rq.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	u.render(w, r, rq, http.StatusOK, "rotate", "Rotate secret", &endpointPage{E: e, Overlap: u.cfg.SecretOverlap})
	return nil
}

func (u *UI) rotateSecret(w http.ResponseWriter, r *http.Request, rq *request) error {
	sec, err := u.svc.RotateSecret(r.Context(), rq.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	e, err := u.svc.GetEndpoint(r.Context(), rq.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return u.showEndpoint(w, r, rq, http.StatusOK, &endpointPage{E: e, Secret: sec,
		Flash: "New secret made. Update your receiver; the old secret keeps signing for " + durationWords(u.cfg.SecretOverlap) + "."})
}

// deliveryRow is a delivery in a list, with its event type.
type deliveryRow struct {
	D    *hook.Delivery
	Type string
}

type deliveriesPage struct {
	Rows      []deliveryRow
	Endpoints []*hook.Endpoint
	Types     []typeChoice
	Status    string
	Type      string
	Endpoint  string
	Before    string
	Query     string
	Next      string // query string of the next page
	Error     string
}

// deliveriesPageSize is how many rows a page of the Deliveries screen has;
// scanLimit bounds how many deliveries a filter by event type reads.
const (
	deliveriesPageSize = 50
	scanLimit          = 500
)

func (u *UI) deliveries(w http.ResponseWriter, r *http.Request, rq *request) error {
	if u.needAccount(w, r, rq) {
		return nil
	}
	ctx := r.Context()
	q := r.URL.Query()
	p := &deliveriesPage{Status: q.Get("status"), Type: q.Get("type"), Endpoint: q.Get("endpoint"),
		Before: strings.TrimSpace(q.Get("before")), Query: strings.TrimSpace(q.Get("q"))}
	f := service.DeliveryFilter{AccountID: accountFilter(rq), EndpointID: p.Endpoint, Status: p.Status}
	switch {
	case strings.HasPrefix(p.Query, hook.PrefixDelivery):
		http.Redirect(w, r, "/ui/deliveries/"+url.PathEscape(p.Query), http.StatusSeeOther)
		return nil
	case strings.HasPrefix(p.Query, hook.PrefixEvent):
		f.EventID = p.Query
	case p.Query != "":
		p.Error = "Search for an event id (evt_…) or a delivery id (dlv_…)."
	}
	page := service.Page{Limit: deliveriesPageSize}
	if after := q.Get("after"); hook.ValidID(hook.PrefixDelivery, after) {
		page.After = after
	} else if p.Before != "" {
		t, err := parseTime(p.Before)
		if err != nil {
			p.Error = "Enter the time as 2026-12-03T09:14:00Z (UTC)."
		} else {
			page.After = idAt(hook.PrefixDelivery, t)
		}
	}
	es, _, err := u.svc.ListEndpoints(ctx, rq.actor, rq.account, service.Page{Limit: 100})
	if err != nil {
		return err
	}
	p.Endpoints, p.Types = es, u.typeChoices(nil)
	events := map[string]string{}
	scanned := 0
	for p.Error == "" {
		ds, more, err := u.svc.ListDeliveries(ctx, rq.actor, f, page)
		var he *hook.Error
		if errors.As(err, &he) && he.Code == hook.ENotFound {
			p.Error = "Nothing matches: " + he.Message
			break
		}
		if err != nil {
			return err
		}
		for _, d := range ds {
			typ, ok := events[d.EventID]
			if !ok {
				if ev, err := u.svc.GetEvent(ctx, rq.actor, d.EventID); err == nil {
					typ = ev.Type
				}
				events[d.EventID] = typ
			}
			page.After = d.ID
			if p.Type == "" || typ == p.Type {
				p.Rows = append(p.Rows, deliveryRow{D: d, Type: typ})
				if len(p.Rows) == deliveriesPageSize {
					break
				}
			}
		}
		scanned += len(ds)
		if !more || len(p.Rows) == deliveriesPageSize || scanned >= scanLimit {
			if more || len(p.Rows) == deliveriesPageSize {
				nq := url.Values{}
				for _, k := range []string{"status", "type", "endpoint", "q"} {
					if v := q.Get(k); v != "" {
						nq.Set(k, v)
					}
				}
				nq.Set("after", page.After)
				p.Next = nq.Encode()
			}
			break
		}
	}
	u.render(w, r, rq, http.StatusOK, "deliveries", "Deliveries", p)
	return nil
}

// accountFilter is the account an admin's list is filtered by.
func accountFilter(rq *request) string {
	if rq.actor.Admin {
		return rq.account
	}
	return ""
}

type deliveryPage struct {
	D        *hook.Delivery
	Type     string
	Endpoint *hook.Endpoint
	Attempts []*hook.Attempt
	Payload  string
	Flash    string
}

func (u *UI) delivery(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	d, err := u.svc.GetDelivery(ctx, rq.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	as, _, err := u.svc.ListAttempts(ctx, rq.actor, d.ID, 0, 500)
	if err != nil {
		return err
	}
	p := &deliveryPage{D: d, Attempts: as}
	if r.URL.Query().Get("redelivered") != "" {
		p.Flash = "Redelivery queued: this is the new delivery. Its request carries the same webhook-id as the first."
	}
	if ev, err := u.svc.GetEvent(ctx, rq.actor, d.EventID); err == nil {
		p.Type = ev.Type
		var b bytes.Buffer
		if json.Indent(&b, ev.Body, "", "  ") == nil {
			p.Payload = b.String()
		} else {
			p.Payload = string(ev.Body)
		}
	}
	if e, err := u.svc.GetEndpoint(ctx, rq.actor, d.EndpointID); err == nil {
		p.Endpoint = e
	}
	u.render(w, r, rq, http.StatusOK, "delivery", "Delivery", p)
	return nil
}

func (u *UI) redeliver(w http.ResponseWriter, r *http.Request, rq *request) error {
	d, err := u.svc.Redeliver(r.Context(), rq.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/deliveries/"+d.ID+"?redelivered=1", http.StatusSeeOther)
	return nil
}

type eventTypeView struct {
	Event, Label, Description string
	Schema, Example           string
}

func (u *UI) eventTypes(w http.ResponseWriter, r *http.Request, rq *request) error {
	var out []eventTypeView
	for _, t := range u.svc.EventTypes() {
		out = append(out, eventTypeView{Event: t.Event, Label: typeLabel(t.Event), Description: typeBlurb(t.Event, t.Description),
			Schema: indent(t.Schema), Example: indent(t.Example)})
	}
	u.render(w, r, rq, http.StatusOK, "eventtypes", "Event types", out)
	return nil
}

func indent(b []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return string(b)
	}
	return out.String()
}

type adminPage struct {
	Accounts      []*hook.Account
	Query         string
	Problems      []*hook.Endpoint
	Names         map[string]string
	Pending       int
	PendingMore   bool
	OldestPending *hook.Delivery
}

func (u *UI) admin(w http.ResponseWriter, r *http.Request, rq *request) error {
	if !rq.actor.Admin {
		return hook.Errorf(hook.EForbidden, "The overview is for the admin token.")
	}
	ctx := r.Context()
	p := &adminPage{Query: strings.TrimSpace(r.URL.Query().Get("q")), Names: map[string]string{}}
	as, _, err := u.svc.ListAccounts(ctx, rq.actor, service.Page{Limit: 500})
	if err != nil {
		return err
	}
	for _, a := range as {
		p.Names[a.ID] = a.Name
		if p.Query == "" || strings.Contains(strings.ToLower(a.Name), strings.ToLower(p.Query)) || a.ID == p.Query {
			p.Accounts = append(p.Accounts, a)
		}
	}
	es, _, err := u.svc.ListEndpoints(ctx, rq.actor, "", service.Page{Limit: 500})
	if err != nil {
		return err
	}
	for _, e := range es {
		if !e.Enabled || e.ConsecutiveFailures > 0 {
			p.Problems = append(p.Problems, e)
		}
	}
	ds, more, err := u.svc.ListDeliveries(ctx, rq.actor, service.DeliveryFilter{Status: hook.StatusPending}, service.Page{Limit: scanLimit})
	if err != nil {
		return err
	}
	p.Pending, p.PendingMore = len(ds), more
	if len(ds) > 0 && !more {
		p.OldestPending = ds[len(ds)-1]
	}
	u.render(w, r, rq, http.StatusOK, "admin", "Overview", p)
	return nil
}

func (u *UI) pickAccount(w http.ResponseWriter, r *http.Request, rq *request) error {
	if !rq.actor.Admin {
		return hook.Errorf(hook.EForbidden, "Only the admin picks an account.")
	}
	id := r.PostFormValue("account_id")
	if _, err := u.svc.GetAccount(r.Context(), rq.actor, id); err != nil {
		return err
	}
	setCookie(w, r, accountCookie, id, rq.session.ExpiresAt)
	http.Redirect(w, r, "/ui/webhooks", http.StatusSeeOther)
	return nil
}
