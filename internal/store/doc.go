// Package store is hookd's storage contract: the Store interface that every
// backend (internal/store/sqlite, internal/store/postgres) implements, the
// parameter types of its methods, and the errors they return.
//
// The contract is backed by a conformance suite, internal/store/storetest,
// that every backend must pass; extend the suite rather than asserting a
// behaviour in one backend's tests only. Only hookd's own packages
// implement Store.
//
// Reservations (DeliveryClaimParams.Reserve, EventCreateParams.Handoff)
// are the caller's bookkeeping: a backend asks once per delivery it
// leases, and a call that fails voids all of its reservations, so a
// backend must not re-run a transaction in which it already asked.
//
// # What a backend decides
//
// Nothing of the domain: the rules live once, as pure functions, and a
// backend reads the rows they need, calls them and stores what they
// return. hook.Decide (with the row values of its Transition) turns an
// attempt's result into the delivery's and the endpoint's new state;
// hook.ApplyPatch applies an endpoint update; hook.AutoDisable,
// hook.RedeliverRefusal, hook.AlreadyPending, hook.RecoverRefusal,
// hook.IdempotencyLive and hook.IdempotencyConflict say the rest, and
// hook.NewDelivery makes every new delivery. In this package,
// DeliveryListParams.Where names a list's filters,
// EndpointKeysResealParams.Apply is the re-seal loop,
// EndpointStatsParams.Add counts a stats row and Unavailable classifies
// an error once a backend has said whether its driver reports an outage.
//
// What stays written twice is deliberate, because it is SQL or driver
// glue that differs by dialect: row scanning, placeholders ($1 against ?),
// the two schemas (migrations/*.sql), and conditions that must stay in the
// statement to be atomic across nodes (a session or portal link is live
// while expires_at > now, a link is used once by one conditional UPDATE,
// a claim walks only due pending rows). A duplicate-code scan of
// internal/store finds those pairs and no domain decision.
//
// Backends own the transactional rules of docs/delivery.md: an event is stored with
// its deliveries in one transaction, a disable cancels pending deliveries in
// the transaction that disables, and a result moves a delivery and its
// endpoint together (see hook.Decide). Callers pass the current time in
// every parameter struct that needs it; backends never read the clock.
package store
