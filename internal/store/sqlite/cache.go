package sqlite

import (
	"errors"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// endpointCache holds endpoints as the writer last read them, so that the
// hot paths (fan-out, claim, complete) do not read and parse endpoint rows
// for every event. It belongs to the writer goroutine, so it needs no
// lock. Any write to an endpoint drops it whole, and so does any failed op
// or commit (the cache may then hold state that was rolled back); endpoint
// writes are rare next to events. ConsecutiveFailures in it is not
// maintained: read the row for that.
type endpointCache struct {
	byID      map[string]*hook.Endpoint   // nil value: deleted or unknown
	byAccount map[string][]*hook.Endpoint // an account's enabled endpoints
}

func (w *wtx) cache() *endpointCache {
	if w.s.epCache == nil {
		w.s.epCache = &endpointCache{byID: map[string]*hook.Endpoint{}, byAccount: map[string][]*hook.Endpoint{}}
	}
	return w.s.epCache
}

// endpointsChanged drops the cache after a write to endpoints.
func (w *wtx) endpointsChanged() { w.s.epCache = nil }

// cachedEndpoint returns the endpoint, or nil if it does not exist or
// was deleted.
func (w *wtx) cachedEndpoint(id string) (*hook.Endpoint, error) {
	c := w.cache()
	if e, ok := c.byID[id]; ok {
		return e, nil
	}
	e, err := w.endpointGet(id)
	if errors.Is(err, store.ErrNotFound) {
		e, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.byID[id] = e
	return e, nil
}

// accountEndpoints returns the account's enabled endpoints, in id order.
func (w *wtx) accountEndpoints(accountID string) ([]*hook.Endpoint, error) {
	c := w.cache()
	if es, ok := c.byAccount[accountID]; ok {
		return es, nil
	}
	rows, err := w.query(`SELECT `+endpointColumns+` FROM endpoints WHERE account_id = ? AND enabled = 1 AND deleted_at IS NULL ORDER BY id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	es := []*hook.Endpoint{}
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	c.byAccount[accountID] = es
	for _, e := range es {
		c.byID[e.ID] = e
	}
	return es, nil
}
