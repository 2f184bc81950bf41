package service

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/keyseal"
	"github.com/hookd/hookd/internal/store"
)

// Resealer is a KeySealer that can bring a stored key under its current
// sealing key (keyseal.Box).
type Resealer interface {
	KeySealer
	// Reseal returns stored sealed by the current key and whether that
	// took a change; keyseal.ErrWrongKey if it cannot open stored.
	Reseal(stored string) (out string, changed bool, err error)
}

var _ Resealer = (*keyseal.Box)(nil)

// ResealReport says what ResealKeys did.
type ResealReport struct {
	Endpoints int // endpoints looked at, deleted ones included
	Changed   int // endpoints whose stored keys were rewritten
	Keys      int // key values sealed anew
	// Unreadable lists endpoints with a key sealed by a key that was not
	// given: they cannot sign until hookd runs with that key again.
	Unreadable []string
	Scrubbed   bool // Scrub ran
}

// ErrScrub wraps a failure of the scrub that follows a reseal: the keys
// are sealed, but what they replaced may still be in the database's files.
var ErrScrub = errors.New("keys sealed, but the old values may remain in the database files")

// resealBatch is how many endpoints one transaction re-seals.
const resealBatch = 200

// ResealKeys brings every stored signing key (HMAC secrets, ed25519
// private keys, current and rotated-out, of every endpoint including
// deleted ones) under the sealer's current key, and then, if it rewrote
// anything or rewrite is set, scrubs the store so that what it replaced
// (plaintext or values sealed by an older key) is gone from the
// database's files as far as the backend can (see store.KeyStore).
// A sealer that does not seal (no --secret-key) changes nothing.
//
// It runs in batches, each in its own transaction, so it can run while
// the store serves; an endpoint rotated meanwhile is sealed by the
// rotation itself.
func ResealKeys(ctx context.Context, st store.Store, sealer KeySealer, rewrite bool) (*ResealReport, error) {
	rep := &ResealReport{}
	rs, ok := sealer.(Resealer)
	if ok {
		p := &store.EndpointKeysResealParams{Limit: resealBatch}
		for {
			// A batch's transaction may run twice (PostgreSQL retries a
			// serialization failure): what an endpoint's last run did counts.
			type outcome struct {
				keys int
				bad  bool
			}
			done := map[string]outcome{}
			p.Reseal = func(id string, in []hook.Key) ([]hook.Key, bool, error) {
				out := make([]hook.Key, len(in))
				var o outcome
				for i, k := range in {
					out[i] = k
					v, changed, err := rs.Reseal(k.Value)
					if errors.Is(err, keyseal.ErrWrongKey) {
						o.bad = true
						continue
					}
					if err != nil {
						return nil, false, fmt.Errorf("endpoint %s: %w", id, err)
					}
					if changed {
						out[i].Value = v
						o.keys++
					}
				}
				done[id] = o
				return out, o.keys > 0, nil
			}
			p.ResealHeaders = func(id string, in []hook.Header) ([]hook.Header, bool, error) {
				out := slices.Clone(in)
				o, changed := done[id], false
				for i, h := range in {
					v, ch, err := rs.Reseal(h.Value)
					if errors.Is(err, keyseal.ErrWrongKey) {
						o.bad = true
						continue
					}
					if err != nil {
						return nil, false, fmt.Errorf("endpoint %s header %s: %w", id, h.Name, err)
					}
					if ch {
						out[i].Value, changed = v, true
					}
				}
				done[id] = o
				return out, changed, nil
			}
			res, err := st.EndpointKeysReseal(ctx, p)
			if err != nil {
				return rep, err
			}
			if res.Seen == 0 {
				break
			}
			rep.Endpoints += res.Seen
			rep.Changed += res.Changed
			for id, o := range done {
				rep.Keys += o.keys
				if o.bad {
					rep.Unreadable = append(rep.Unreadable, id)
				}
			}
			p.After = res.Last
		}
	}
	slices.Sort(rep.Unreadable)
	if rep.Changed > 0 || rewrite {
		if err := st.Scrub(ctx, &store.ScrubParams{Rewrite: rewrite}); err != nil {
			return rep, fmt.Errorf("%w: %w", ErrScrub, err)
		}
		rep.Scrubbed = true
	}
	return rep, nil
}
