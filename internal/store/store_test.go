package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
)

func TestUnavailable(t *testing.T) {
	t.Parallel()
	outage := errors.New("disk full")
	bug := errors.New("constraint")
	isOutage := func(err error) bool { return errors.Is(err, outage) }
	if Unavailable(nil, isOutage) != nil {
		t.Error("nil is not an outage")
	}
	if err := Unavailable(bug, isOutage); err != bug {
		t.Errorf("a bug came back as %v", err)
	}
	err := Unavailable(fmt.Errorf("insert: %w", outage), isOutage)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, outage) {
		t.Errorf("an outage came back as %v", err)
	}
	if again := Unavailable(err, isOutage); again != err {
		t.Errorf("wrapped twice: %v", again)
	}
}

func TestResealApply(t *testing.T) {
	t.Parallel()
	k := func(v string) []hook.Key { return []hook.Key{{Value: v}} }
	batch := []EndpointKeys{{ID: "ep_1", Keys: k("a")}, {ID: "ep_2", Keys: k("sealed:b"),
		Headers: []hook.Header{{Name: "X-A", Value: "h"}}}, {ID: "ep_3", Keys: k("c")}}
	p := &EndpointKeysResealParams{Reseal: func(id string, keys []hook.Key) ([]hook.Key, bool, error) {
		if keys[0].Value == "sealed:b" {
			return keys, false, nil
		}
		return k("sealed:" + keys[0].Value), true, nil
	}}
	var written []string
	write := func(id string, keys []hook.Key, hs []hook.Header) error {
		w := id + "=" + keys[0].Value
		for _, h := range hs {
			w += "," + h.Name + ":" + h.Value
		}
		written = append(written, w)
		return nil
	}
	res, err := p.Apply(batch, write)
	if err != nil || res.Last != "ep_3" || res.Seen != 3 || res.Changed != 2 ||
		!slices.Equal(written, []string{"ep_1=sealed:a", "ep_3=sealed:c"}) {
		t.Errorf("Apply = %+v, %v; wrote %v", res, err, written)
	}
	// Header values are resealed too; an endpoint whose only change is a
	// header value is written with its keys as they were.
	p.ResealHeaders = func(id string, hs []hook.Header) ([]hook.Header, bool, error) {
		out := slices.Clone(hs)
		out[0].Value = "sealed:" + hs[0].Value
		return out, true, nil
	}
	written = nil
	if res, err := p.Apply(batch, write); err != nil || res.Changed != 3 ||
		!slices.Equal(written, []string{"ep_1=sealed:a", "ep_2=sealed:b,X-A:sealed:h", "ep_3=sealed:c"}) {
		t.Errorf("Apply with headers = %+v, %v; wrote %v", res, err, written)
	}
	p.ResealHeaders = nil
	if res, err := p.Apply(nil, nil); err != nil || res.Last != "" || res.Seen != 0 {
		t.Errorf("empty batch: %+v, %v", res, err)
	}
	failing := errors.New("wrong key")
	p.Reseal = func(string, []hook.Key) ([]hook.Key, bool, error) { return nil, false, failing }
	if _, err := p.Apply(batch, nil); !errors.Is(err, failing) {
		t.Errorf("a failing Reseal: %v", err)
	}
}

func TestStatsAdd(t *testing.T) {
	t.Parallel()
	p := &EndpointStatsParams{Start: time.Unix(0, 0), Step: time.Hour, Buckets: 3}
	out := p.Empty()
	p.Add(out, 0, hook.StatusSucceeded, 2)
	p.Add(out, 2, hook.StatusFailed, 1)
	p.Add(out, 2, hook.StatusSucceeded, 4)
	p.Add(out, -1, hook.StatusSucceeded, 9)
	p.Add(out, 3, hook.StatusFailed, 9)
	want := []StatsBucket{{Start: p.Start, Succeeded: 2}, {Start: p.Start.Add(time.Hour)}, {Start: p.Start.Add(2 * time.Hour), Succeeded: 4, Failed: 1}}
	if !slices.Equal(out, want) {
		t.Errorf("buckets = %+v, want %+v", out, want)
	}
}
