package delivery

import (
	"context"

	"github.com/hookd/hookd/internal/store"
)

// EventCreate stores an event through the store, as store.Store's
// EventCreate does, and hands its new deliveries straight to this
// dispatcher's workers in the transaction that stores them, instead of
// leaving them for the claim loop: the common path then costs no claim
// transaction and no second read of the event. A delivery is only handed
// off when a worker and a slot of its endpoint and of its account are
// free; the rest are claimed as usual. It is the one door to the handoff:
// the application layer (internal/service) sees a method that creates an
// event and nothing of reservations.
func (d *Dispatcher) EventCreate(ctx context.Context, p *store.EventCreateParams) (*store.EventCreateResult, error) {
	h := d.newHandoff()
	q := *p
	q.Handoff = &store.Handoff{Reserve: h.reserve, Until: p.Event.CreatedAt.Add(d.cfg.Lease)}
	res, err := d.cfg.Store.EventCreate(ctx, &q)
	var claims []*store.Claim
	if err == nil {
		claims = res.Claims
	}
	h.done(claims, err)
	return res, err
}

// EventCreateBatch stores a batch of events as store.Store's
// EventCreateBatch does, handing their new deliveries to this dispatcher's
// free workers as EventCreate does, with one set of reservations for the
// whole batch.
func (d *Dispatcher) EventCreateBatch(ctx context.Context, items []*store.EventCreateParams) ([]store.EventBatchItem, error) {
	h := d.newHandoff()
	qs := make([]*store.EventCreateParams, len(items))
	for i, p := range items {
		q := *p
		q.Handoff = &store.Handoff{Reserve: h.reserve, Until: p.Event.CreatedAt.Add(d.cfg.Lease)}
		qs[i] = &q
	}
	res, err := d.cfg.Store.EventCreateBatch(ctx, qs)
	var claims []*store.Claim
	if err == nil {
		for _, r := range res {
			if r.Result != nil {
				claims = append(claims, r.Result.Claims...)
			}
		}
	}
	h.done(claims, err)
	return res, err
}

// handoff is the reservations of one store call that may lease
// deliveries to this dispatcher: an EventCreate, or a claim of the claim
// loop. Each delivery is reserved, in the store's transaction, just before
// it is leased, so that a claim and a handoff can never both count on the
// same free slot.
type handoff struct {
	d        *Dispatcher
	reserved []slot // one per reservation
	refused  int    // reservations refused because the endpoint or account was full
	claim    bool   // made by the claim loop, not for a new event
}

// slot is one reservation: an attempt to the endpoint of the account.
type slot struct{ endpointID, accountID string }

func (d *Dispatcher) newHandoff() *handoff { return &handoff{d: d} }

// reserve takes a worker, an endpoint slot and an account slot, if free.
// It runs inside the store's transaction: quick, and never calls the
// store.
func (h *handoff) reserve(endpointID, accountID string) bool {
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

// done queues the claims the store call returned and gives back every
// reservation not behind one of them: all of them if the call failed, and
// those of a transaction the store ran again (the storage contract allows
// a backend to ask Reserve more than once; see internal/store).
func (h *handoff) done(claims []*store.Claim, err error) {
	d := h.d
	if len(h.reserved) == 0 {
		return
	}
	if err != nil {
		claims = nil
	}
	d.mu.Lock()
	// Reservations the store did not use are given back.
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
