// Package delivery sends events: the Sender makes one signed, guarded,
// time-boxed HTTP attempt and classifies what happened; the Dispatcher
// claims due deliveries from the store in batches, runs their attempts on a
// fixed pool of workers with a per-endpoint in-flight limit, and writes the
// results back in batches, which is where retries and auto-disable are
// decided (hook.Decide).
package delivery
