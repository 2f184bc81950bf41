// Package postgres is hookd's scale-out storage backend: any number of hookd
// processes share one PostgreSQL database (docs/deployment.md) and split the work.
//
// It implements store.Store with the same semantics as the SQLite backend;
// the differences come from several writers running at once:
//
//   - Claiming. DeliveryClaim walks the partial queue index in due order
//     with FOR UPDATE SKIP LOCKED, so concurrent claimers on any node skip
//     each other's rows instead of waiting, asks the caller's Reserve about
//     each row in Go, and leases the rows it keeps in the same transaction.
//     A leased delivery's next_attempt_at is the end of its lease: when a
//     node dies, its work falls due again then. Leases are never released
//     at Open (unlike SQLite): other nodes may hold them.
//
//   - Lock order. Writers lock endpoint rows before delivery rows, each set
//     in id order, so they do not deadlock (a deadlock or serialization
//     failure that still happens is retried). DeliveryComplete locks the
//     endpoints of its results FOR NO KEY UPDATE, so two nodes count an
//     endpoint's consecutive failures one after the other and disable it
//     once. Writes that create pending deliveries (EventCreate, redeliver,
//     recover) hold their endpoints FOR KEY SHARE until they commit, and
//     every disable or delete takes the endpoint FOR UPDATE before it
//     cancels the pending deliveries, so it waits for them and cancels
//     what they added: no pending delivery survives its endpoint's disable.
//     A transaction is not run again once the caller has reserved workers
//     in it (Handoff, DeliveryClaim's Reserve): a failed call voids its
//     reservations, and a second run would make new ones.
//
//   - Plans. The hot statements are written so that their plans stay
//     index-driven whatever the statistics say (cached generic plans are
//     made when tables are small): the claim walks the queue index and
//     checks the endpoint in a per-row subquery rather than a join, and
//     statements on many rows join an unnest of their ids.
//
//   - Round trips. Hot paths send their statements in pipelined batches;
//     BEGIN travels with the first batch and COMMIT with the last, so a
//     claim, a batch of results or an event with its fan-out costs two
//     round trips. Claims and results commit with synchronous_commit off:
//     a crash of the database server can lose the last of them, which
//     at-least-once delivery tolerates (the work is attempted again), just
//     as the SQLite backend commits them without fsync. Events commit
//     durably.
//
//   - Waking other nodes. Writes that make work due signal WorkAvailable at
//     once on this node and ask a notifier goroutine to NOTIFY the others
//     after the commit. The notifier sends at most one NOTIFY per
//     notifyGap, coalescing the rest: a NOTIFY inside the writing
//     transaction would serialize every such commit in the cluster on
//     PostgreSQL's notify lock, halving event throughput. A dedicated
//     connection LISTENs, reconnects with backoff when it drops, and
//     signals once after reconnecting, since notifications may have been
//     missed. The channel is per schema, so schemas sharing a database do
//     not wake each other.
//
// The schema is created and upgraded by versioned migrations embedded from
// migrations/*.sql, applied at Open (or by Migrate) in one transaction that
// holds an advisory lock, so nodes starting together apply them once.
// Open refuses a database whose schema is newer than this binary.
package postgres
