package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/filter"
	"github.com/hookd/hookd/internal/hook"
)

// Endpoint controls (docs/delivery.md): custom headers, payload filters
// and the delivery rate limit.

// parseHeaders validates a "headers" member and seals the values.
func (s *Service) parseHeaders(raw json.RawMessage) ([]hook.Header, error) {
	hs, err := hook.ParseHeaders(raw)
	if err != nil {
		return nil, err
	}
	for i := range hs {
		if hs[i].Value, err = s.seal(hs[i].Value); err != nil {
			return nil, err
		}
	}
	return hs, nil
}

// parseFilter validates a "filter" member; it returns the filter's text
// to store (compacted, members in the order written), nil for null.
func parseFilter(raw json.RawMessage) ([]byte, error) {
	f, err := filter.Parse(raw)
	if err != nil {
		var fe *filter.Error
		if errors.As(err, &fe) {
			if fe.Path == "" {
				return nil, hook.FieldErrorf(hook.EInvalidFilter, "filter", "The filter is not valid: %s.", fe.Reason)
			}
			return nil, hook.FieldErrorf(hook.EInvalidFilter, "filter", "The filter is not valid at %s: %s.", fe.Path, fe.Reason)
		}
		return nil, err
	}
	if f == nil {
		return nil, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, hook.FieldErrorf(hook.EInvalidFilter, "filter", "The filter is not valid JSON.")
	}
	return b.Bytes(), nil
}

// parseRateLimit validates a "rate_limit" member: null (0: none) or a
// whole number of deliveries per second within the bounds.
func parseRateLimit(raw json.RawMessage) (int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil || n < hook.MinRateLimit || n > hook.MaxRateLimit {
		return 0, hook.FieldErrorf(hook.EInvalidParameter, "rate_limit",
			"rate_limit is a whole number of deliveries per second from %d to %d, or null for no limit.",
			hook.MinRateLimit, hook.MaxRateLimit)
	}
	return n, nil
}

// filterCache keeps compiled filters by their text, so that the fan-out of
// each event matches pre-compiled trees.
type filterCache struct {
	mu sync.Mutex
	m  map[string]*filter.Filter
}

// get returns the compiled filter of text raw, nil if it does not compile
// (a stored filter is valid when stored; nil then matches everything, so
// nothing is dropped).
func (c *filterCache) get(raw []byte, logger *slog.Logger) *filter.Filter {
	c.mu.Lock()
	f, ok := c.m[string(raw)]
	c.mu.Unlock()
	if ok {
		return f
	}
	f, err := filter.Parse(raw)
	if err != nil {
		logger.Error("stored endpoint filter does not compile; it matches every event", slog.Any("error", err))
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= 10_000 {
		c.m = make(map[string]*filter.Filter)
	}
	c.m[string(raw)] = f
	c.mu.Unlock()
	return f
}

// eventMatcher returns the store's Match for one event: the envelope is
// decoded once, on the first endpoint with a filter, and only then.
func (s *Service) eventMatcher(body []byte) func([]byte) bool {
	var (
		doc     *filter.Doc
		decoded bool
	)
	return func(raw []byte) bool {
		f := s.filters.get(raw, s.cfg.Logger)
		if f == nil {
			return true
		}
		if !decoded {
			decoded = true
			var err error
			if doc, err = filter.Decode(body); err != nil {
				s.cfg.Logger.Error("decode event for filters; it matches every filter", slog.Any("error", err))
			}
		}
		return doc == nil || f.Match(doc)
	}
}

// bodyMatcher is the store's Match for recover: each event against the
// endpoint's current filter.
func (s *Service) bodyMatcher(raw, body []byte) bool {
	f := s.filters.get(raw, s.cfg.Logger)
	if f == nil {
		return true
	}
	doc, err := filter.Decode(body)
	if err != nil {
		return true
	}
	return f.Match(doc)
}

// EndpointHeaders returns the endpoint's custom headers with their values
// in full (GET /v1/endpoints/{id}/headers).
func (s *Service) EndpointHeaders(ctx context.Context, actor Actor, id string) ([]hook.Header, error) {
	e, err := s.GetEndpoint(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	return s.openHeaders(e.Headers)
}

// openHeaders returns the headers with their values in plain text.
func (s *Service) openHeaders(hs []hook.Header) ([]hook.Header, error) {
	out := make([]hook.Header, len(hs))
	for i, h := range hs {
		v, err := s.OpenKey(h.Value)
		if err != nil {
			return nil, err
		}
		out[i] = hook.Header{Name: h.Name, Value: v, Masked: h.Masked}
	}
	return out, nil
}

// FilterTestInput asks whether a filter takes an event. Filter absent
// (nil) means the endpoint's current filter; JSON null means none. Event
// is a stored event's id; Data a data object of type EventType (default:
// the endpoint's first event type); with neither, the catalogue's example
// of that type.
type FilterTestInput struct {
	Filter    json.RawMessage
	Event     string
	Data      json.RawMessage
	EventType string
}

// FilterTestResult is the answer of a filter test.
type FilterTestResult struct {
	Matches     bool
	Explanation []string
	// EventID is the stored event tested, or empty; EventType its type.
	EventID   string
	EventType string
}

// FilterTest matches a filter against an event without storing anything
// (POST /v1/endpoints/{id}/filter-test).
func (s *Service) FilterTest(ctx context.Context, actor Actor, id string, in FilterTestInput) (*FilterTestResult, error) {
	e, err := s.GetEndpoint(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	raw := e.Filter
	if in.Filter != nil {
		if raw, err = parseFilter(in.Filter); err != nil {
			return nil, err
		}
	}
	var f *filter.Filter
	if raw != nil {
		if f, err = filter.Parse(raw); err != nil {
			return nil, hook.FieldErrorf(hook.EInvalidFilter, "filter", "The endpoint's filter is not valid: %v.", err)
		}
	}
	if in.Event != "" && in.Data != nil {
		return nil, hook.FieldErrorf(hook.EInvalidParameter, "event", "Give event (a stored event's id) or data, not both.")
	}
	out := &FilterTestResult{}
	var body []byte
	if in.Event != "" {
		ev, err := s.GetEvent(ctx, actor, in.Event)
		if err != nil {
			if hook.ErrorCode(err) == hook.ENotFound {
				return nil, hook.FieldErrorf(hook.EInvalidReference, "event", "No event of this account has this id.")
			}
			return nil, err
		}
		if ev.AccountID != e.AccountID {
			return nil, hook.FieldErrorf(hook.EInvalidReference, "event", "No event of this endpoint's account has this id.")
		}
		body, out.EventID, out.EventType = ev.Body, ev.ID, ev.Type
	} else {
		t := in.EventType
		if t == "" {
			t = e.EventTypes[0]
			if t == hook.AllEventTypes {
				t = s.cfg.Catalog.Types()[0].Event
			}
		}
		et, ok := s.cfg.Catalog.Lookup(t)
		if !ok || !s.cfg.Catalog.Subscribable(t) {
			return nil, hook.FieldErrorf(hook.EUnknownEventType, "event_type", "%q is not an event type endpoints can subscribe to.", truncate(t, 64))
		}
		data := []byte(et.Example)
		if in.Data != nil {
			if data, err = s.cfg.Catalog.Validate(t, in.Data); err != nil {
				var ce *catalog.Error
				if errors.As(err, &ce) {
					return nil, &hook.Error{Code: ce.Code, Field: ce.Field, Message: sentence(ce.Field, ce.Message)}
				}
				return nil, err
			}
		}
		now := s.now()
		evID := hook.NewIDAt(hook.PrefixEvent, now)
		body, out.EventType = hook.EncodeEnvelope(evID, t, now, e.AccountID, data), t
	}
	doc, err := filter.Decode(body)
	if err != nil {
		return nil, err
	}
	out.Matches, out.Explanation = f.Explain(doc)
	return out, nil
}
