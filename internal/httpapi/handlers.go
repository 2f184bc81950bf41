package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/service"
)

func (a *API) createAccount(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	var in struct {
		Name *string `json:"name"`
	}
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return hook.FieldErrorf(hook.EInvalidParameter, "name", "name is required.")
	}
	acc, tok, err := a.svc.CreateAccount(r.Context(), actor, *in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, accountView(acc, tok))
	return nil
}

func (a *API) getAccount(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	acc, err := a.svc.GetAccount(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, accountView(acc, ""))
	return nil
}

func (a *API) rotateAccountToken(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	tok, err := a.svc.RotateAccountToken(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": tok})
	return nil
}

type submitEventJSON struct {
	ID         string                `json:"id"`
	Deliveries []submitEventDelivery `json:"deliveries"`
}

type submitEventDelivery struct {
	ID         string `json:"id"`
	EndpointID string `json:"endpoint_id"`
}

func (a *API) submitEvent(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	var in struct {
		AccountID      string          `json:"account_id"`
		Event          string          `json:"event"`
		Data           json.RawMessage `json:"data"`
		IdempotencyKey *string         `json:"idempotency_key"`
	}
	if err := decode(w, r, a.cfg.MaxEventBytes, &in); err != nil {
		return err
	}
	key := r.Header.Get("Idempotency-Key")
	if in.IdempotencyKey != nil {
		if key != "" && key != *in.IdempotencyKey {
			return hook.FieldErrorf(hook.EInvalidParameter, "idempotency_key",
				"The Idempotency-Key header and the idempotency_key field differ; send one of them.")
		}
		key = *in.IdempotencyKey
	}
	res, err := a.svc.SubmitEvent(r.Context(), actor, service.SubmitEventInput{
		AccountID: in.AccountID, Event: in.Event, Data: in.Data, IdempotencyKey: key})
	if err != nil {
		return err
	}
	out := submitEventJSON{ID: res.Event.ID, Deliveries: make([]submitEventDelivery, len(res.Deliveries))}
	for i, d := range res.Deliveries {
		out.Deliveries[i] = submitEventDelivery{ID: d.ID, EndpointID: d.EndpointID}
	}
	status := http.StatusAccepted
	if res.Replayed {
		status = http.StatusOK
	}
	writeJSON(w, status, out)
	return nil
}

func (a *API) getEvent(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	ev, err := a.svc.GetEvent(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, ev.Body)
	return nil
}

func (a *API) eventTypes(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	after, err := decodeCursor("et", r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	types := a.svc.EventTypes() // sorted by name
	start := 0
	if after != "" {
		start = len(types)
		for i, t := range types {
			if t.Event > after {
				start = i
				break
			}
		}
	}
	page := types[start:]
	next := ""
	if len(page) > limit {
		page = page[:limit]
		next = encodeCursor("et", page[len(page)-1].Event)
	}
	writeJSON(w, http.StatusOK, newList(page, next))
	return nil
}

func (a *API) createEndpoint(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	var in struct {
		AccountID   string   `json:"account_id"`
		URL         string   `json:"url"`
		EventTypes  []string `json:"event_types"`
		Enabled     *bool    `json:"enabled"`
		Description string   `json:"description"`
		Signing     string   `json:"signing"`
		// The endpoint controls keep their JSON for the service to check.
		Headers   json.RawMessage `json:"headers"`
		Filter    json.RawMessage `json:"filter"`
		RateLimit json.RawMessage `json:"rate_limit"`
	}
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		return err
	}
	e, secret, err := a.svc.CreateEndpoint(r.Context(), actor, service.CreateEndpointInput{
		AccountID: in.AccountID, URL: in.URL, EventTypes: in.EventTypes, Enabled: in.Enabled,
		Description: in.Description, Signing: in.Signing, Headers: in.Headers, Filter: in.Filter, RateLimit: in.RateLimit})
	if err != nil {
		return err
	}
	v := endpointView(e)
	v.Secret = secret
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) listEndpoints(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	after, limit, err := pageParams(r, "ep", hook.PrefixEndpoint)
	if err != nil {
		return err
	}
	es, more, err := a.svc.ListEndpoints(r.Context(), actor, r.URL.Query().Get("account_id"), service.Page{After: after, Limit: limit})
	if err != nil {
		return err
	}
	views := make([]endpointJSON, len(es))
	for i, e := range es {
		views[i] = endpointView(e)
	}
	next := ""
	if more {
		next = encodeCursor("ep", es[len(es)-1].ID)
	}
	writeJSON(w, http.StatusOK, newList(views, next))
	return nil
}

func (a *API) getEndpoint(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	e, err := a.svc.GetEndpoint(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, endpointView(e))
	return nil
}

func (a *API) updateEndpoint(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	var in struct {
		URL         *string   `json:"url"`
		EventTypes  *[]string `json:"event_types"`
		Description *string   `json:"description"`
		Enabled     *bool     `json:"enabled"`
		// Absent: unchanged; null: removed.
		Headers   json.RawMessage `json:"headers"`
		Filter    json.RawMessage `json:"filter"`
		RateLimit json.RawMessage `json:"rate_limit"`
	}
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		return err
	}
	e, err := a.svc.UpdateEndpoint(r.Context(), actor, r.PathValue("id"), service.UpdateEndpointInput{
		URL: in.URL, EventTypes: in.EventTypes, Description: in.Description, Enabled: in.Enabled,
		Headers: in.Headers, Filter: in.Filter, RateLimit: in.RateLimit})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, endpointView(e))
	return nil
}

func (a *API) deleteEndpoint(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	if err := a.svc.DeleteEndpoint(r.Context(), actor, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) testEndpoint(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	res, err := a.svc.TestEndpoint(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, testView(res))
	return nil
}

func (a *API) rotateSecret(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	sec, err := a.svc.RotateSecret(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, secretJSON{Secret: sec.Secret, PublicKey: sec.PublicKey})
	return nil
}

func (a *API) getSecret(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	sec, err := a.svc.GetSecret(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, secretJSON{Secret: sec.Secret, PublicKey: sec.PublicKey})
	return nil
}

func (a *API) recoverEvents(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	var in struct {
		Since *string `json:"since"`
	}
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		return err
	}
	if in.Since == nil {
		return hook.FieldErrorf(hook.EInvalidParameter, "since", "since is required: an RFC 3339 time such as 2026-11-27T12:00:00Z.")
	}
	since, err := time.Parse(time.RFC3339Nano, *in.Since)
	if err != nil {
		return hook.FieldErrorf(hook.EInvalidParameter, "since", "since must be an RFC 3339 time such as 2026-11-27T12:00:00Z.")
	}
	n, err := a.svc.Recover(r.Context(), actor, r.PathValue("id"), since)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"queued": n})
	return nil
}

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	after, limit, err := pageParams(r, "dlv", hook.PrefixDelivery)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	ds, more, err := a.svc.ListDeliveries(r.Context(), actor, service.DeliveryFilter{
		AccountID: q.Get("account_id"), EndpointID: q.Get("endpoint_id"), EventID: q.Get("event_id"), Status: q.Get("status"),
	}, service.Page{After: after, Limit: limit})
	if err != nil {
		return err
	}
	views := make([]deliveryJSON, len(ds))
	for i, d := range ds {
		views[i] = deliveryView(d)
	}
	next := ""
	if more {
		next = encodeCursor("dlv", ds[len(ds)-1].ID)
	}
	writeJSON(w, http.StatusOK, newList(views, next))
	return nil
}

func (a *API) getDelivery(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	d, err := a.svc.GetDelivery(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deliveryView(d))
	return nil
}

func (a *API) listAttempts(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	pos, err := decodeCursor("att", r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	after := 0
	if pos != "" {
		if after, err = strconv.Atoi(pos); err != nil || after < 1 {
			return hook.FieldErrorf(hook.EInvalidParameter, "cursor", "This cursor was not issued for this list.")
		}
	}
	as, more, err := a.svc.ListAttempts(r.Context(), actor, r.PathValue("id"), after, limit)
	if err != nil {
		return err
	}
	views := make([]attemptJSON, len(as))
	for i, at := range as {
		views[i] = attemptView(at)
	}
	next := ""
	if more {
		next = encodeCursor("att", strconv.Itoa(as[len(as)-1].Number))
	}
	writeJSON(w, http.StatusOK, newList(views, next))
	return nil
}

func (a *API) redeliver(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	d, err := a.svc.Redeliver(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, deliveryView(d))
	return nil
}

func (a *API) listEvents(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	after, limit, err := pageParams(r, "evt", hook.PrefixEvent)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := service.EventFilter{AccountID: q.Get("account_id"), Event: q.Get("event")}
	if f.Since, err = timeParam(r, "since"); err != nil {
		return err
	}
	if f.Until, err = timeParam(r, "until"); err != nil {
		return err
	}
	evs, more, err := a.svc.ListEvents(r.Context(), actor, f, service.Page{After: after, Limit: limit})
	if err != nil {
		return err
	}
	// Each item is the stored envelope, as GET /v1/events/{id} answers it.
	views := make([]json.RawMessage, len(evs))
	for i, ev := range evs {
		views[i] = ev.Body
	}
	next := ""
	if more {
		next = encodeCursor("evt", evs[len(evs)-1].ID)
	}
	writeJSON(w, http.StatusOK, newList(views, next))
	return nil
}

// timeParam reads an optional RFC 3339 query parameter.
func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil && strings.Contains(v, " ") {
		// An offset's + sent unencoded arrives as a space.
		t, err = time.Parse(time.RFC3339Nano, strings.Replace(v, " ", "+", 1))
	}
	if err != nil {
		return time.Time{}, hook.FieldErrorf(hook.EInvalidParameter, name,
			"%s must be an RFC 3339 time such as 2026-11-27T12:00:00Z (in a query, write + as %%2B).", name)
	}
	return t, nil
}

func (a *API) getHeaders(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	hs, err := a.svc.EndpointHeaders(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make(map[string]string, len(hs))
	for _, h := range hs {
		out[h.Name] = h.Value
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]map[string]string{"headers": out})
	return nil
}

type filterTestJSON struct {
	Matches     bool     `json:"matches"`
	Explanation []string `json:"explanation"`
	EventID     *string  `json:"event_id"`
	EventType   string   `json:"event_type"`
}

func (a *API) filterTest(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	var in struct {
		Filter    json.RawMessage `json:"filter"`
		Event     string          `json:"event"`
		EventType string          `json:"event_type"`
		Data      json.RawMessage `json:"data"`
	}
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		return err
	}
	if string(in.Data) == "null" {
		in.Data = nil
	}
	res, err := a.svc.FilterTest(r.Context(), actor, r.PathValue("id"), service.FilterTestInput{
		Filter: in.Filter, Event: in.Event, EventType: in.EventType, Data: in.Data})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, filterTestJSON{Matches: res.Matches, Explanation: res.Explanation,
		EventID: optString(res.EventID), EventType: res.EventType})
	return nil
}
