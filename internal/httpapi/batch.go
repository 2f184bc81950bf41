package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/service"
)

// defaultMaxBatchBytes bounds POST /v1/events/batch bodies when
// Config.MaxBatchBytes is not set.
const defaultMaxBatchBytes = 8 << 20

// batchResultJSON is one item's answer in a batch: the event's id and
// deliveries (replayed set for a known idempotency key), or its error.
type batchResultJSON struct {
	ID         string                `json:"id,omitempty"`
	Deliveries []submitEventDelivery `json:"deliveries,omitzero"` // [] when none, as for POST /v1/events
	Replayed   bool                  `json:"replayed,omitempty"`
	Error      *errorJSON            `json:"error,omitempty"`
}

type batchEventJSON struct {
	AccountID      string          `json:"account_id"`
	Event          string          `json:"event"`
	Data           json.RawMessage `json:"data"`
	IdempotencyKey string          `json:"idempotency_key"`
}

// submitEvents is POST /v1/events/batch (docs/api.md): up to 500 events,
// each checked and answered on its own, in order, with 200; the request
// fails as a whole only when it cannot be read.
func (a *API) submitEvents(w http.ResponseWriter, r *http.Request, actor service.Actor) error {
	var in struct {
		Events []json.RawMessage `json:"events"`
	}
	limit := a.cfg.MaxBatchBytes
	if limit <= 0 {
		limit = defaultMaxBatchBytes
	}
	if err := decode(w, r, limit, &in); err != nil {
		return err
	}
	if r.Header.Get("Idempotency-Key") != "" {
		return hook.FieldErrorf(hook.EInvalidParameter, "Idempotency-Key",
			"The Idempotency-Key header applies to single events; give each event of a batch its own idempotency_key.")
	}
	if in.Events == nil {
		return hook.FieldErrorf(hook.EInvalidParameter, "events",
			"events is required: a list of at most %d events.", service.MaxBatchEvents)
	}
	if len(in.Events) > service.MaxBatchEvents {
		return hook.FieldErrorf(hook.EInvalidParameter, "events",
			"A batch holds at most %d events; this one has %d. Split it.", service.MaxBatchEvents, len(in.Events))
	}
	out := struct {
		Results []batchResultJSON `json:"results"`
	}{Results: make([]batchResultJSON, len(in.Events))}
	var (
		ins   []service.SubmitEventInput
		index []int // ins[j] is item index[j]
	)
	for i, raw := range in.Events {
		var ev batchEventJSON
		if err := decodeItem(raw, &ev); err != nil {
			out.Results[i].Error = itemError(err)
			continue
		}
		ins = append(ins, service.SubmitEventInput{AccountID: ev.AccountID, Event: ev.Event, Data: ev.Data,
			IdempotencyKey: ev.IdempotencyKey})
		index = append(index, i)
	}
	res, err := a.svc.SubmitEvents(r.Context(), actor, ins)
	if err != nil {
		return err
	}
	for j, item := range res {
		o := &out.Results[index[j]]
		if item.Err != nil {
			o.Error = itemError(item.Err)
			continue
		}
		o.ID, o.Replayed = item.Result.Event.ID, item.Result.Replayed
		o.Deliveries = make([]submitEventDelivery, len(item.Result.Deliveries))
		for k, d := range item.Result.Deliveries {
			o.Deliveries[k] = submitEventDelivery{ID: d.ID, EndpointID: d.EndpointID}
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// decodeItem decodes one event of a batch as strictly as a single event's
// body.
func decodeItem(raw json.RawMessage, dst *batchEventJSON) error {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return hook.Errorf(hook.EInvalidJSON, "Each event of a batch must be a JSON object.")
	}
	return decodeObject(raw, dst)
}

// itemError is the error body of one item. Only *hook.Error reaches it:
// the service fails the whole batch for any other error.
func itemError(err error) *errorJSON {
	var he *hook.Error
	if !errors.As(err, &he) {
		he = hook.Errorf(hook.EInternal, "Internal error; it has been logged.")
	}
	return &errorJSON{Code: he.Code, Message: he.Message, Field: he.Field}
}
