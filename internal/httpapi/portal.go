package httpapi

import (
	"net/http"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/service"
)

// The routes the customer portal adds (docs/api.md, docs/portal.md).

func (a *API) createPortalLink(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	var in struct {
		TTL         string `json:"ttl"`
		ReadOnly    bool   `json:"read_only"`
		ReturnURL   string `json:"return_url"`
		AccentColor string `json:"accent_color"`
		LogoURL     string `json:"logo_url"`
		Theme       string `json:"theme"`
	}
	if r.ContentLength != 0 { // no body: every default
		if err := decode(w, r, maxBodyBytes, &in); err != nil {
			return err
		}
	}
	tok, expires, err := a.svc.CreatePortalLink(r.Context(), actor, r.PathValue("id"), service.PortalLinkInput{
		TTL: in.TTL, ReadOnly: in.ReadOnly, ReturnURL: in.ReturnURL, AccentColor: in.AccentColor,
		LogoURL: in.LogoURL, Theme: in.Theme})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{
		"url":        baseURL(r) + "/ui/link/" + tok,
		"expires_at": hook.FormatTime(expires),
	})
	return nil
}

// baseURL is the scheme and host the request came to; a proxy that ends
// TLS in front of hookd says so with X-Forwarded-Proto.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (a *API) listAccounts(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	after, limit, err := pageParams(r, "acc", hook.PrefixAccount)
	if err != nil {
		return err
	}
	as, more, err := a.svc.ListAccounts(r.Context(), actor, service.Page{After: after, Limit: limit})
	if err != nil {
		return err
	}
	views := make([]accountJSON, len(as))
	for i, acc := range as {
		views[i] = accountView(acc, "")
	}
	next := ""
	if more {
		next = encodeCursor("acc", as[len(as)-1].ID)
	}
	writeJSON(w, http.StatusOK, newList(views, next))
	return nil
}

type statsJSON struct {
	Window  string            `json:"window"`
	Buckets []statsBucketJSON `json:"buckets"`
}

type statsBucketJSON struct {
	Start     string `json:"start"`
	Succeeded int    `json:"succeeded"`
	Failed    int    `json:"failed"`
}

func (a *API) endpointStats(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	window := r.URL.Query().Get("window")
	bs, err := a.svc.EndpointStats(r.Context(), actor, r.PathValue("id"), window)
	if err != nil {
		return err
	}
	if window == "" {
		window = service.Window24h
	}
	out := statsJSON{Window: window, Buckets: make([]statsBucketJSON, len(bs))}
	for i, b := range bs {
		out.Buckets[i] = statsBucketJSON{Start: hook.FormatTime(b.Start), Succeeded: b.Succeeded, Failed: b.Failed}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
