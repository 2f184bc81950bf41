// Package store is hookd's storage contract: the Store interface that every
// backend (internal/store/sqlite, internal/store/postgres) implements, the
// parameter types of its methods, and the errors they return.
//
// The contract is backed by a conformance suite, internal/store/storetest,
// that every backend must pass; extend the suite rather than asserting a
// behaviour in one backend's tests only. Only hookd's own packages
// implement Store.
//
// # Transactions and reservations
//
// Every method that writes does so in one transaction: it commits all of
// its writes or none (PostgreSQL's SessionCreate and PortalLinkCreate drop
// the expired rows in a statement of their own first, which stays done if
// the insert then fails). A method that returns an error committed
// nothing, with two exceptions: a commit whose answer was lost (the
// connection dropped after COMMIT was sent), and a PostgreSQL claim whose
// rows cannot be read back after its commit (an endpoint's keys that do
// not decode). Writes are safe against both by their keys (an attempt id
// is recorded once, an idempotency key replays) and by leases (a delivery
// leased to no one falls due again when its lease ends).
//
// Reservations (DeliveryClaimParams.Reserve, Handoff.Reserve) are the
// caller's bookkeeping of its own capacity, asked inside the transaction
// before a delivery is leased to it. The rules, as both backends behave:
//
//   - Reserve may be asked more than once for the same delivery in one
//     call. The SQLite writer commits the queued writes of many callers
//     together (group commit); when one of them fails, the batch is
//     rolled back and every other write runs again, in a transaction of
//     its own, asking Reserve again. The PostgreSQL backend never runs a
//     transaction again once Reserve has accepted something in it (it
//     retries deadlocks and serialization failures only before that).
//   - Only the reservations behind the Claims of a successful answer are
//     used, one per claim; the caller gives back every other one it
//     accepted, and all of them when the call fails, as the dispatcher
//     of internal/delivery does.
//   - Apart from those two exceptions, a delivery is leased to the caller
//     if and only if it comes back in the answer's Claims: nothing of a
//     failed call is leased, so no delivery is attempted twice on account
//     of a failure.
//
// The conformance suite proves these rules with a failed commit injected
// into each backend (storetest.CommitFailer), alone and among concurrent
// calls: no event gets two deliveries to an endpoint, and the
// reservations held afterwards are exactly those behind returned claims.
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
