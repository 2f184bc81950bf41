// Package bench is hookd-bench: it measures hookd the way it runs, as a
// separate process on loopback, driven only through the public API.
//
// "hookd-bench run" builds hookd (or takes --hookd), starts the receiver
// ("hookd-bench receive", this program re-executed) and one or more
// "hookd serve" processes on temporary SQLite data or a fresh PostgreSQL
// database, measures the raw ceiling (a minimal client posting signed
// envelopes of the same sizes to the same receiver with hookd's transport
// settings and concurrency), then runs a scenario: max, steady, backlog,
// isolation or pg. Deliveries are counted and timed at the receiver;
// memory and CPU come from /proc. It prints progress every second, a table
// at the end, and writes a JSON file.
//
// The receiver answers 200 at once (paths under /hang/ after 6 s), and
// keeps per-path counts, duplicates by (path, webhook-id) and a
// log-linear latency histogram of accept→arrival, the envelope's
// "timestamp" to arrival. Its control port serves GET /stats and
// POST /reset.
//
// Linux only in practice: the sampler reads /proc, and children are tied to
// the run with a parent-death signal.
package bench
