package store

import (
	"context"

	"github.com/hookd/hookd/internal/hook"
)

// KeyStore is the part of the contract that re-seals signing keys at rest
// (hookd serve at start, hookd seal) and scrubs what they replaced.
type KeyStore interface {
	// EndpointKeysReseal passes the keys of up to p.Limit endpoints with
	// ids after p.After, in id order and deleted ones included, to
	// p.Reseal inside one transaction, and stores the keys it returns for
	// those it reports changed. What an endpoint's keys were replaced with
	// is zeroed where the backend can (SQLite: secure_delete).
	EndpointKeysReseal(ctx context.Context, p *EndpointKeysResealParams) (*EndpointKeysResealResult, error)
	// Scrub removes from the database's files what earlier writes replaced
	// or deleted, as far as the backend can: SQLite checkpoints its WAL
	// and truncates it (and, with p.Rewrite, VACUUMs the database first,
	// which also clears pages freed long ago); PostgreSQL, with p.Rewrite,
	// rewrites the endpoints table (VACUUM FULL), dropping old row
	// versions, and without it does nothing.
	Scrub(ctx context.Context, p *ScrubParams) error
}

// EndpointKeysResealParams asks for one batch of EndpointKeysReseal.
type EndpointKeysResealParams struct {
	After string // an endpoint id; empty for the first batch
	Limit int
	// Reseal returns the keys to store for an endpoint, and whether they
	// differ from keys. It runs inside the transaction: it must be quick
	// and must not call the store. An error fails the whole batch.
	Reseal func(endpointID string, keys []hook.Key) (out []hook.Key, changed bool, err error)
	// ResealHeaders does the same for the values of the endpoint's custom
	// headers, sealed like keys; nil leaves them as they are.
	ResealHeaders func(endpointID string, hs []hook.Header) (out []hook.Header, changed bool, err error)
}

// EndpointKeysResealResult is the outcome of one batch.
type EndpointKeysResealResult struct {
	// Last is the id of the last endpoint seen; empty when there was none
	// (the last batch).
	Last    string
	Seen    int // endpoints passed to Reseal
	Changed int // endpoints whose keys were rewritten
}

// ScrubParams tunes Scrub.
type ScrubParams struct {
	// Rewrite rebuilds storage rather than only flushing logs: slower and,
	// on PostgreSQL, locks the endpoints table while it runs.
	Rewrite bool
}

// EndpointKeys is one endpoint's keys as a backend reads them for
// EndpointKeysReseal.
type EndpointKeys struct {
	ID      string
	Keys    []hook.Key
	Headers []hook.Header
}

// Apply is the part of EndpointKeysReseal that is the same in every
// backend: it passes each endpoint of batch (read in id order) to
// p.Reseal (and p.ResealHeaders), calls write with the keys and headers
// to store for those that changed, and counts. The
// first error ends the batch; the backend then rolls it back.
func (p *EndpointKeysResealParams) Apply(batch []EndpointKeys, write func(id string, keys []hook.Key, headers []hook.Header) error) (*EndpointKeysResealResult, error) {
	res := &EndpointKeysResealResult{}
	for _, e := range batch {
		res.Last, res.Seen = e.ID, res.Seen+1
		out, changed, err := p.Reseal(e.ID, e.Keys)
		if err != nil {
			return nil, err
		}
		headers := e.Headers
		if p.ResealHeaders != nil && len(e.Headers) > 0 {
			var hchanged bool
			if headers, hchanged, err = p.ResealHeaders(e.ID, e.Headers); err != nil {
				return nil, err
			}
			changed = changed || hchanged
		}
		if !changed {
			continue
		}
		if err := write(e.ID, out, headers); err != nil {
			return nil, err
		}
		res.Changed++
	}
	return res, nil
}
