// Package delivery sends events: the Sender makes one signed, guarded,
// time-boxed HTTP attempt and classifies what happened; the Dispatcher
// claims due deliveries from the store in batches, runs their attempts on a
// fixed pool of workers with a per-endpoint in-flight limit, and writes the
// results back in batches, which is where retries and auto-disable are
// decided (hook.Decide).
//
// # Settings
//
// One rule: a setting that a flag of hookd serve controls has its default
// in internal/config and nowhere else, and is passed down explicitly.
// New and NewSender reject a missing or out-of-range value instead of
// putting a default of their own in its place, so a zero never means two
// things. In particular DisableAfter 0 means "never disable", as the flag
// and hook.Decide say. The rules that relate two settings are written
// here once and used by internal/config too: MinLease (a lease is at
// least twice the attempt timeout) and DefaultAccountConcurrency. What no
// flag controls (RetryJitter, DefaultBatchSize, DefaultPollInterval,
// MaxRetryAfter) is a constant of this package.
//
// # Lifecycle
//
// The Dispatcher is a startstop.Service. Stop drains: no new claims,
// claimed but unstarted work given back, attempts under way finished and
// recorded. At Stop's deadline it cancels the rest; those deliveries stay
// leased and are attempted again when their lease ends.
//
// # Logging
//
// A failed attempt is logged at info, a successful one at debug; failures
// are rate-limited per endpoint (see attemptLog). No log line holds an
// endpoint's URL, a header sent, a signature or a response body.
package delivery
