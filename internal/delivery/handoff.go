package delivery

import (
	"time"

	"github.com/hookd/hookd/internal/store"
)

// Handoff lets one event submission give its new deliveries straight to
// this node's workers, in the transaction that stores them, instead of
// leaving them for the claim loop: the common path then costs no claim
// transaction and no second read of the event. A delivery is only handed
// off when a worker and a slot of its endpoint and of its account are
// free; the rest are claimed as usual.
//
// The claim loop takes work the same way: each delivery is reserved, in
// the store's transaction, just before it is leased, so that a claim and
// a handoff can never both count on the same free slot.
type Handoff struct {
	d        *Dispatcher
	reserved []slot // one per reservation
	refused  int    // reservations refused because the endpoint or account was full
	claim    bool   // made by the claim loop, not for a new event
}

// slot is one reservation: an attempt to the endpoint of the account.
type slot struct{ endpointID, accountID string }

// NewHandoff starts a handoff for one store.EventCreate call. Pass
// Params to the store, then call Done with the outcome.
func (d *Dispatcher) NewHandoff() *Handoff { return &Handoff{d: d} }

// Params are the store's side of the handoff.
func (h *Handoff) Params(now time.Time) *store.Handoff {
	return &store.Handoff{Reserve: h.reserve, Until: now.Add(h.d.cfg.Lease)}
}

// reserve takes a worker, an endpoint slot and an account slot, if free.
// It runs inside the store's transaction: quick, and never calls the
// store.
func (h *Handoff) reserve(endpointID, accountID string) bool {
	d := h.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.started || d.stopping || d.busy >= d.cfg.Workers {
		return false
	}
	if !h.claim && d.backlog {
		// Older due work is waiting: a new delivery queues behind it
		// instead of jumping ahead (first come, first served).
		return false
	}
	if d.inflight[endpointID] >= d.cfg.EndpointConcurrency || d.accounts[accountID] >= d.cfg.AccountConcurrency {
		h.refused++
		return false
	}
	d.busy++
	d.take(endpointID, accountID)
	d.reservations++
	h.reserved = append(h.reserved, slot{endpointID, accountID})
	return true
}

// Done queues the claims the store handed off, or, if the store call
// failed, gives the reservations back.
func (h *Handoff) Done(claims []*store.Claim, err error) {
	d := h.d
	if len(h.reserved) == 0 {
		return
	}
	if err != nil {
		claims = nil
	}
	d.mu.Lock()
	// Reservations the store did not use (it failed) are given back.
	used := make(map[slot]int, len(claims))
	for _, c := range claims {
		used[slot{c.Delivery.EndpointID, c.Delivery.AccountID}]++
	}
	for _, sl := range h.reserved {
		if used[sl] > 0 {
			used[sl]--
			continue
		}
		d.busy--
		d.untake(sl.endpointID, sl.accountID)
	}
	d.mu.Unlock()
	d.cfg.Metrics.InFlight.Add(float64(len(claims)))
	d.cfg.Metrics.Claimed.Add(float64(len(claims)))
	for _, c := range claims {
		d.jobs <- job{claim: c} // never blocks: a worker was reserved for it
	}
	d.mu.Lock()
	d.reservations -= len(h.reserved)
	if d.reservations == 0 {
		d.noReservations.Broadcast()
	}
	d.mu.Unlock()
	h.reserved = nil
}
