package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/metrics"
	"github.com/hookd/hookd/internal/startstop"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/webhook"
)

// Config configures a Dispatcher.
//
// Every setting that a flag of hookd serve controls must be given: its
// default lives in internal/config, the one place defaults are written,
// and New rejects a missing value instead of guessing one. The fields no
// flag controls (BatchSize, PollInterval, OpenKey, Now, Logger, Metrics)
// are optional; their zero value means what their doc says.
type Config struct {
	Store  Store
	Sender *Sender
	// Policy is the retry schedule (--max-retries, --retry-base,
	// --retry-factor; Jitter is RetryJitter).
	Policy RetryPolicy
	// Workers is how many attempts may run at once on this node
	// (--concurrency).
	Workers int
	// EndpointConcurrency bounds in-flight attempts per endpoint on this
	// node (--endpoint-concurrency).
	EndpointConcurrency int
	// AccountConcurrency bounds in-flight attempts per account on this
	// node (--account-concurrency), so that one account's slow endpoints
	// cannot take every worker; Workers means no account limit. See
	// DefaultAccountConcurrency.
	AccountConcurrency int
	// DisableAfter is --disable-after: an endpoint is disabled after this
	// many consecutive failed deliveries; 0 means never (as in hook.Decide).
	DisableAfter int
	// Lease is how long claimed work belongs to this node (--lease); at
	// least MinLease of the Sender's timeout.
	Lease time.Duration
	// BatchSize bounds one claim and one result write; 0 means
	// DefaultBatchSize.
	BatchSize int
	// PollInterval is the longest the dispatcher sleeps without a signal;
	// 0 means DefaultPollInterval. It bounds how late it notices work
	// another node's lease left behind, and how late operator messages go
	// out.
	PollInterval time.Duration
	// OpenKey turns a stored key into a signing key (whsec_/whsk_);
	// nil means keys are stored as they are.
	OpenKey func(stored string) (string, error)

	// OperatorURL receives operator events; empty means none.
	OperatorURL    string
	OperatorSigner *webhook.Signer
	// OperatorSender sends operator events (no SSRF guard).
	OperatorSender *Sender

	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives attempt outcomes (see attemptLog) and trouble; nil
	// discards.
	Logger *slog.Logger
	// Metrics records; nil means a registry of its own.
	Metrics *metrics.Metrics
}

// Defaults of the settings no flag controls.
const (
	DefaultBatchSize    = 256
	DefaultPollInterval = time.Second
)

// MinLease is the shortest lease for an attempt timeout: twice the
// timeout, so that a node finishes an attempt (and records it) well before
// another node may take the work. internal/config checks --lease with it
// and New checks Config.Lease: one rule, written once.
func MinLease(attemptTimeout time.Duration) time.Duration { return 2 * attemptTimeout }

// idleRecheck is how long the claim loop waits, after a pass that found
// only work of endpoints at their limit, before looking again without a
// reason (see claimLoop).
const idleRecheck = 50 * time.Millisecond

// resultLinger is how long the result writer waits for more results
// before writing a batch.
const resultLinger = 5 * time.Millisecond

// DefaultAccountConcurrency is the per-account in-flight limit used when
// none is set: a quarter of the workers, so that it takes at least four
// accounts with hanging endpoints to hold every worker, but never less
// than one endpoint's limit (an account with one endpoint is not held
// back by it) nor more than the workers.
func DefaultAccountConcurrency(workers, endpointConcurrency int) int {
	return min(workers, max(workers/4, endpointConcurrency, 1))
}

// Dispatcher delivers due work. It is a startstop.Service: Start it once,
// Stop it once.
type Dispatcher struct {
	cfg Config
	log *attemptLog

	mu       sync.Mutex
	inflight map[string]int // endpoint id → attempts under way here
	accounts map[string]int // account id → attempts under way here
	busy     int            // claimed and not yet handed to the result writer
	// reservations are handoffs in progress; Stop waits for them before
	// closing jobs, and stopping refuses new ones.
	reservations   int
	stopping       bool
	noReservations *sync.Cond
	// backlog: the last claim took all it asked for and no endpoint was at
	// its limit, so more due work is likely waiting for workers; new
	// events then queue behind it (see handoff).
	backlog bool

	jobs      chan job
	results   chan *hook.Result
	slotFreed chan struct{}
	// fullFreed: a slot freed where work may be waiting for exactly it (an
	// endpoint that was at its limit, or a worker when all were busy).
	fullFreed chan struct{}
	opWake    chan struct{}
	signers   signerCache

	// cancel ends the context of every store call and attempt: at Stop's
	// deadline (abandoning what is under way) or after a graceful stop.
	cancel      context.CancelFunc
	stopClaims  chan struct{}
	claimsDone  chan struct{}
	workersDone chan struct{}
	writerDone  chan struct{}
	started     bool
	// What a stop at the deadline left behind, for its log line.
	abandoned  atomic.Int64 // attempts canceled under way
	unrecorded atomic.Int64 // results that could not be written
}

type job struct {
	claim *store.Claim
	op    *store.OperatorMessage
}

// New returns a Dispatcher; it does nothing until Start. It checks cfg
// and names the first field that is missing or out of range.
func New(cfg Config) (*Dispatcher, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	d := &Dispatcher{
		cfg:         cfg,
		log:         newAttemptLog(cfg.Logger, cfg.Now),
		inflight:    make(map[string]int),
		accounts:    make(map[string]int),
		jobs:        make(chan job, cfg.Workers),
		results:     make(chan *hook.Result, cfg.BatchSize),
		slotFreed:   make(chan struct{}, 1),
		fullFreed:   make(chan struct{}, 1),
		opWake:      make(chan struct{}, 1),
		stopClaims:  make(chan struct{}),
		claimsDone:  make(chan struct{}),
		workersDone: make(chan struct{}),
		writerDone:  make(chan struct{}),
	}
	d.noReservations = sync.NewCond(&d.mu)
	return d, nil
}

// check reports the first setting that is missing or out of range.
func (cfg *Config) check() error {
	switch {
	case cfg.Store == nil || cfg.Sender == nil:
		return errors.New("Store and Sender are required")
	case cfg.Workers < 1:
		return fmt.Errorf("Workers %d: want at least 1", cfg.Workers)
	case cfg.EndpointConcurrency < 1:
		return fmt.Errorf("EndpointConcurrency %d: want at least 1", cfg.EndpointConcurrency)
	case cfg.AccountConcurrency < 1:
		return fmt.Errorf("AccountConcurrency %d: want at least 1", cfg.AccountConcurrency)
	case cfg.DisableAfter < 0:
		return fmt.Errorf("DisableAfter %d: want 0 (never) or more", cfg.DisableAfter)
	case cfg.Lease < MinLease(cfg.Sender.Timeout()):
		return fmt.Errorf("Lease %s: want at least %s, twice the attempt timeout", cfg.Lease, MinLease(cfg.Sender.Timeout()))
	case cfg.BatchSize < 0:
		return fmt.Errorf("BatchSize %d: want 0 (the default) or more", cfg.BatchSize)
	case cfg.PollInterval < 0:
		return fmt.Errorf("PollInterval %s: want 0 (the default) or more", cfg.PollInterval)
	case cfg.OperatorURL != "" && (cfg.OperatorSigner == nil || cfg.OperatorSender == nil):
		return errors.New("an operator webhook needs OperatorSigner and OperatorSender")
	}
	return cfg.Policy.check()
}

// Start launches the claim loop, the workers and the result writer, and
// returns. ctx's values reach store calls; Stop, not ctx, ends the
// dispatcher.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.mu.Lock()
	if d.started || d.stopping {
		d.mu.Unlock()
		return fmt.Errorf("delivery: dispatcher %w", startstop.ErrStarted)
	}
	d.started = true
	d.mu.Unlock()
	ctx, d.cancel = context.WithCancel(context.WithoutCancel(ctx))
	var workers sync.WaitGroup
	for range d.cfg.Workers {
		workers.Go(func() { d.worker(ctx) })
	}
	go func() {
		workers.Wait()
		close(d.workersDone)
	}()
	go d.resultWriter(ctx)
	go d.claimLoop(ctx)
	return nil
}

// Stop stops claiming, gives back claimed work that was not started, lets
// the attempts under way finish (each is bounded by the attempt timeout)
// and writes their results, then returns.
//
// If ctx ends first, Stop abandons the rest: it cancels the attempts under
// way and the result writes, and returns ctx's error once its goroutines
// have returned. What it abandoned is not lost: those deliveries stay
// leased to this node until their lease ends, and then any node attempts
// them again (at least once; a receiver may see a request twice).
func (d *Dispatcher) Stop(ctx context.Context) error {
	d.mu.Lock()
	if !d.started || d.stopping {
		d.stopping = true
		d.mu.Unlock()
		return nil
	}
	d.stopping = true // refuses new reservations
	d.mu.Unlock()
	// Handoffs under way (an API request's transaction) end on their own;
	// if one outlives ctx, this goroutine ends with it.
	reservationsDone := make(chan struct{})
	go func() {
		d.mu.Lock()
		for d.reservations > 0 {
			d.noReservations.Wait()
		}
		d.mu.Unlock()
		close(reservationsDone)
	}()

	wait := func(c <-chan struct{}) bool {
		select {
		case <-c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	close(d.stopClaims)
	graceful := wait(d.claimsDone) && wait(reservationsDone)
	if graceful {
		close(d.jobs) // workers release what they have not started
		graceful = wait(d.workersDone)
	}
	if graceful {
		close(d.results)
		graceful = wait(d.writerDone)
	}
	d.cancel()
	if graceful {
		d.log.close()
		return nil
	}
	<-d.claimsDone
	<-d.workersDone
	<-d.writerDone
	d.log.close()
	d.cfg.Logger.Warn("shutdown timeout reached: work under way abandoned; its deliveries are attempted again once their leases end",
		slog.Int64("attempts_canceled", d.abandoned.Load()), slog.Int64("results_not_recorded", d.unrecorded.Load()),
		slog.Duration("lease", d.cfg.Lease))
	return fmt.Errorf("stop dispatcher: %w", ctx.Err())
}

// signal makes a non-blocking, coalesced send on c.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Kick makes the dispatcher look for work now (after a local commit that
// made work due; the store's WorkAvailable does the same).
func (d *Dispatcher) Kick() {
	select {
	case d.slotFreed <- struct{}{}:
	default:
	}
}

// claimLoop claims due work whenever there is free capacity and a reason
// to look: new work committed, a slot freed, a retry falling due, or the
// poll interval passing.
func (d *Dispatcher) claimLoop(ctx context.Context) {
	defer close(d.claimsDone)
	timer := time.NewTimer(0)
	defer timer.Stop()
	lastOp := time.Time{}
	for {
		now := d.cfg.Now()
		if d.cfg.OperatorURL != "" && (now.Sub(lastOp) >= d.cfg.PollInterval || d.takeOpWake()) {
			lastOp = now
			d.claimOperator(ctx, now)
		}
		claimed, asked, refused, full, err := d.claim(ctx, now)
		if err != nil && ctx.Err() == nil {
			d.cfg.Logger.Error("claim deliveries", slog.Any("error", err))
		}
		if err == nil && asked > 0 && (claimed == asked || refused > 0) {
			// Probably more due (or due work for other endpoints lies
			// behind one that just filled up, which the next pass skips):
			// go again, unless asked to stop.
			select {
			case <-d.stopClaims:
				return
			default:
				continue
			}
		}
		wait := d.cfg.PollInterval
		if err == nil {
			if next, ok, err := d.cfg.Store.DeliveryNextDue(ctx, now); err != nil {
				if ctx.Err() == nil {
					d.cfg.Logger.Error("next due delivery", slog.Any("error", err))
				}
			} else if ok {
				wait = min(wait, max(next.Sub(d.cfg.Now()), 0))
			}
		}
		if err == nil && claimed == 0 && full > 0 {
			// Nothing claimable, and some endpoints are at their limit:
			// what is due likely belongs to them (a hanging receiver's
			// backlog). New work and freed slots elsewhere would only
			// repeat this pass over their rows; wait for one of their
			// slots to free, or a short while.
			timer.Reset(min(wait, idleRecheck))
			select {
			case <-d.stopClaims:
				return
			case <-d.fullFreed:
			case <-timer.C:
			}
		} else {
			timer.Reset(wait)
			select {
			case <-d.stopClaims:
				return
			case <-d.cfg.Store.WorkAvailable():
			case <-d.slotFreed:
			case <-d.fullFreed:
			case <-timer.C:
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

func (d *Dispatcher) takeOpWake() bool {
	select {
	case <-d.opWake:
		return true
	default:
		return false
	}
}

// claim leases as much due work as there are free workers for, and queues
// it. It returns how many were claimed, how many were asked for, how
// many were refused because their endpoint or account was full, and how
// many endpoints and accounts were full when it began.
func (d *Dispatcher) claim(ctx context.Context, now time.Time) (claimed, asked, refused, nfull int, err error) {
	d.mu.Lock()
	free := d.cfg.Workers - d.busy
	var full, fullAccounts []string
	for id, n := range d.inflight {
		if n >= d.cfg.EndpointConcurrency {
			full = append(full, id)
		}
	}
	for id, n := range d.accounts {
		if n >= d.cfg.AccountConcurrency {
			fullAccounts = append(fullAccounts, id)
		}
	}
	d.mu.Unlock()
	nfull = len(full) + len(fullAccounts)
	asked = min(free, d.cfg.BatchSize)
	if asked <= 0 {
		return 0, 0, 0, nfull, nil
	}
	h := d.newHandoff()
	h.claim = true
	claims, err := d.cfg.Store.DeliveryClaim(ctx, &store.DeliveryClaimParams{
		Now:          now,
		LeaseUntil:   now.Add(d.cfg.Lease),
		Limit:        asked,
		Reserve:      h.reserve,
		Full:         full,
		FullAccounts: fullAccounts,
	})
	h.done(claims, err)
	if err != nil {
		return 0, asked, 0, nfull, err
	}
	// Only when workers, not some endpoints' or accounts' limits, are what
	// work waits for: work queued behind a hanging endpoint must not hold
	// up new events for the others (and every pass would read past its
	// backlog).
	d.mu.Lock()
	d.backlog = len(claims) == asked && nfull == 0
	d.mu.Unlock()
	return len(claims), asked, h.refused, nfull, nil
}

func (d *Dispatcher) claimOperator(ctx context.Context, now time.Time) {
	d.mu.Lock()
	free := d.cfg.Workers - d.busy
	d.mu.Unlock()
	if free <= 0 {
		return
	}
	msgs, err := d.cfg.Store.OperatorClaim(ctx, &store.OperatorClaimParams{
		Now: now, LeaseUntil: now.Add(d.cfg.Lease), Limit: min(free, 16)})
	if err != nil {
		if ctx.Err() == nil {
			d.cfg.Logger.Error("claim operator messages", slog.Any("error", err))
		}
		return
	}
	d.mu.Lock()
	d.busy += len(msgs)
	d.mu.Unlock()
	for _, m := range msgs {
		d.jobs <- job{op: m}
	}
}

func (d *Dispatcher) worker(ctx context.Context) {
	for {
		var j job
		select {
		case next, ok := <-d.jobs:
			if !ok {
				return
			}
			j = next
		case <-ctx.Done():
			// Stop's deadline: what is left in jobs stays leased.
			return
		}
		select {
		case <-d.stopClaims:
			d.release(ctx, j)
			continue
		default:
		}
		if j.op != nil {
			d.deliverOperator(ctx, j.op)
			d.done("")
			continue
		}
		r, err := d.attempt(ctx, j.claim)
		switch {
		case errors.Is(err, errKeyUnusable):
			d.releaseAt(ctx, j.claim, d.cfg.Now().Add(keyErrorRetry))
			continue
		case err != nil:
			// Canceled by Stop's deadline: no outcome to record, the
			// delivery stays leased.
			d.abandoned.Add(1)
			d.endpointDone(j.claim.Delivery)
			d.done(j.claim.Delivery.EndpointID)
			continue
		}
		d.endpointDone(j.claim.Delivery)
		select {
		case d.results <- r:
		case <-ctx.Done():
			d.unrecorded.Add(1)
		}
		d.done(j.claim.Delivery.EndpointID)
	}
}

// endpointDone frees the delivery's endpoint and account in-flight slots
// once its HTTP attempt is over.
func (d *Dispatcher) endpointDone(del *hook.Delivery) {
	d.mu.Lock()
	wasFull := d.untake(del.EndpointID, del.AccountID)
	d.mu.Unlock()
	if wasFull {
		signal(d.fullFreed)
	}
}

// take counts an attempt under way to the endpoint of the account. d.mu
// must be held.
func (d *Dispatcher) take(endpointID, accountID string) {
	d.inflight[endpointID]++
	d.accounts[accountID]++
}

// untake undoes take, and reports whether the endpoint or the account was
// at its limit. d.mu must be held.
func (d *Dispatcher) untake(endpointID, accountID string) (wasFull bool) {
	wasFull = d.inflight[endpointID] >= d.cfg.EndpointConcurrency || d.accounts[accountID] >= d.cfg.AccountConcurrency
	if d.inflight[endpointID]--; d.inflight[endpointID] <= 0 {
		delete(d.inflight, endpointID)
	}
	if d.accounts[accountID]--; d.accounts[accountID] <= 0 {
		delete(d.accounts, accountID)
	}
	return wasFull
}

// done frees a worker slot once its result is handed on.
func (d *Dispatcher) done(endpointID string) {
	d.mu.Lock()
	wasFull := d.busy >= d.cfg.Workers
	backlog := d.backlog
	d.busy--
	d.mu.Unlock()
	if wasFull {
		signal(d.fullFreed) // work may be waiting for any worker
	}
	if endpointID != "" {
		d.cfg.Metrics.InFlight.Dec()
	}
	if backlog {
		// The last claim took all it asked for: more may be due, waiting
		// for this worker. Otherwise a freed worker has nothing to look
		// for (new work is handed off or wakes the loop itself), and a
		// look per attempt would cost two queries per delivery.
		d.Kick()
	}
}

// release gives back work claimed but not started because of Stop.
func (d *Dispatcher) release(ctx context.Context, j job) {
	if j.claim != nil {
		d.releaseAt(ctx, j.claim, d.cfg.Now())
		return
	}
	d.done("") // an operator message's lease simply runs out
}

// releaseAt gives a claimed delivery back, due at t, without an attempt.
// If it cannot, the delivery falls due when its lease ends.
func (d *Dispatcher) releaseAt(ctx context.Context, c *store.Claim, t time.Time) {
	d.endpointDone(c.Delivery)
	err := d.cfg.Store.DeliveryRelease(ctx, &store.ReleaseParams{
		DeliveryIDs: []string{c.Delivery.ID}, Leases: []int64{c.Lease}, Now: t})
	if err != nil && ctx.Err() == nil {
		d.cfg.Logger.Warn("release delivery", slog.String("delivery_id", c.Delivery.ID), slog.Any("error", err))
	}
	d.done(c.Delivery.EndpointID)
}

// keyErrorRetry is how long a delivery waits when its signing key cannot
// be used on this node.
const keyErrorRetry = time.Minute

// errKeyUnusable: this node cannot sign with the endpoint's key.
var errKeyUnusable = errors.New("signing key unusable")

// attempt makes one attempt of a claimed delivery and decides its retry.
// It returns errKeyUnusable if no attempt could be made (see
// keyErrorRetry), and ctx's error if ctx ended the attempt (Stop's
// deadline): neither has an outcome to record.
func (d *Dispatcher) attempt(ctx context.Context, c *store.Claim) (*hook.Result, error) {
	del := c.Delivery
	r := &hook.Result{DeliveryID: del.ID, EndpointID: del.EndpointID, Lease: c.Lease}
	signer, err := d.signers.get(del.EndpointID, c.Keys, d.cfg.OpenKey)
	if err != nil {
		// A key this node cannot use (say, started without the right
		// --secret-key): an operator problem, not the receiver's. Send
		// nothing unsigned, record no attempt, count no failure: give the
		// delivery back for later and say so loudly.
		d.cfg.Logger.Error("endpoint signing key unusable; delivery postponed", slog.String("endpoint_id", del.EndpointID),
			slog.String("delivery_id", del.ID), slog.Duration("retry_in", keyErrorRetry), slog.Any("error", err))
		return nil, errKeyUnusable
	}
	headers, err := openHeaders(c.Headers, d.cfg.OpenKey)
	if err != nil {
		d.cfg.Logger.Error("endpoint header value unusable; delivery postponed", slog.String("endpoint_id", del.EndpointID),
			slog.String("delivery_id", del.ID), slog.Duration("retry_in", keyErrorRetry), slog.Any("error", err))
		return nil, errKeyUnusable
	}
	o := d.cfg.Sender.Send(ctx, &Request{URL: c.URL, MsgID: del.EventID, Body: c.Body, Signer: signer, Headers: headers})
	if o.Code == hook.ErrCodeCanceled && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	r.OK = o.OK()
	r.Gone = o.StatusCode == 410
	r.Attempt = hook.Attempt{
		ID:             hook.NewIDAt(hook.PrefixAttempt, o.StartedAt),
		Trigger:        del.Trigger,
		StartedAt:      o.StartedAt,
		Duration:       o.Duration,
		StatusCode:     o.StatusCode,
		Error:          o.Error,
		ResponseBody:   o.ResponseBody,
		RequestHeaders: o.RequestHeaders,
	}
	if !r.OK && !r.Gone {
		if wait, ok := d.cfg.Policy.Backoff(del.Attempts+1, o.RetryAfter); ok {
			r.RetryAt = d.cfg.Now().Add(wait)
		}
	}
	outcome := "success"
	if !r.OK {
		outcome = o.Code
	}
	d.cfg.Metrics.Attempts.WithLabelValues(outcome, del.Trigger).Inc()
	d.cfg.Metrics.AttemptDuration.Observe(o.Duration.Seconds())
	if r.OK && del.Trigger == hook.TriggerScheduled { // accepted → 2xx (docs/operations.md)
		d.cfg.Metrics.DeliveryLatency.Observe(o.StartedAt.Add(o.Duration).Sub(del.CreatedAt).Seconds())
	}
	d.log.attempt(ctx, del, o, r.RetryAt)
	return r, nil
}

// resultWriter writes results in batches: whatever has arrived while the
// previous batch was being written.
func (d *Dispatcher) resultWriter(ctx context.Context) {
	defer close(d.writerDone)
	batch := make([]*hook.Result, 0, d.cfg.BatchSize)
	linger := time.NewTimer(0)
	<-linger.C
	for {
		select {
		case r, ok := <-d.results:
			if !ok {
				return
			}
			batch = append(batch[:0], r)
		case <-ctx.Done():
			// Stop's deadline: results still queued stay unrecorded.
			d.unrecorded.Add(int64(len(d.results)))
			return
		}
		// Results are not urgent (the attempts are over, and their leases
		// run long): collect for a moment so that one transaction records
		// many, instead of one commit per result under load.
		linger.Reset(resultLinger)
	gather:
		for len(batch) < d.cfg.BatchSize {
			select {
			case r, ok := <-d.results:
				if !ok {
					break gather
				}
				batch = append(batch, r)
			case <-linger.C:
				break gather
			}
		}
		if !linger.Stop() {
			select {
			case <-linger.C:
			default:
			}
		}
		d.writeResults(ctx, batch)
	}
}

// writeResults stores a batch, retrying while the database is unavailable,
// until the lease would end or ctx ends (Stop's deadline). If it cannot,
// the results are lost but not the work: the leases run out and the
// deliveries are attempted again (at least once).
func (d *Dispatcher) writeResults(ctx context.Context, batch []*hook.Result) {
	d.cfg.Metrics.ResultBatch.Observe(float64(len(batch)))
	backoff := 50 * time.Millisecond
	deadline := d.cfg.Now().Add(d.cfg.Lease)
	for {
		res, err := d.cfg.Store.DeliveryComplete(ctx, &store.DeliveryCompleteParams{
			Results: batch, Now: d.cfg.Now(), DisableAfter: d.cfg.DisableAfter, OperatorEvents: d.cfg.OperatorURL != "",
		})
		if err == nil {
			d.recordFinished(batch, res)
			return
		}
		if ctx.Err() != nil {
			d.unrecorded.Add(int64(len(batch)))
			return
		}
		if d.cfg.Now().After(deadline) {
			d.cfg.Logger.Error("write attempt results: giving up; the deliveries will be attempted again",
				slog.Int("results", len(batch)), slog.Any("error", err))
			return
		}
		d.cfg.Logger.Warn("write attempt results", slog.Int("results", len(batch)), slog.Any("error", err))
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			d.unrecorded.Add(int64(len(batch)))
			return
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

func (d *Dispatcher) recordFinished(batch []*hook.Result, res *store.DeliveryCompleteResult) {
	retries := false
	for _, r := range batch {
		switch {
		case r.OK:
			d.cfg.Metrics.DeliveriesFinished.WithLabelValues(hook.StatusSucceeded).Inc()
		case r.RetryAt.IsZero():
			d.cfg.Metrics.DeliveriesFinished.WithLabelValues(hook.StatusFailed).Inc()
		default:
			retries = true
		}
	}
	if retries {
		// The claim loop's timer must learn of the retries' due times.
		d.Kick()
	}
	for _, e := range res.Disabled {
		d.cfg.Metrics.EndpointsDisabled.WithLabelValues(e.Reason).Inc()
		d.cfg.Logger.Warn("endpoint disabled", slog.String("endpoint_id", e.EndpointID),
			slog.String("account_id", e.AccountID), slog.String("reason", e.Reason))
	}
	if len(res.Disabled) > 0 {
		select {
		case d.opWake <- struct{}{}:
		default:
		}
		d.Kick()
	}
}

// deliverOperator makes one attempt of an operator message and records it.
func (d *Dispatcher) deliverOperator(ctx context.Context, m *store.OperatorMessage) {
	o := d.cfg.OperatorSender.Send(ctx, &Request{URL: d.cfg.OperatorURL, MsgID: m.ID, Body: m.Body, Signer: d.cfg.OperatorSigner})
	if o.Code == hook.ErrCodeCanceled && ctx.Err() != nil {
		return // Stop's deadline: the message's lease runs out and it goes again
	}
	r := &store.OperatorResult{ID: m.ID, Lease: m.Lease, OK: o.OK(), Error: o.Error}
	if !r.OK {
		if wait, ok := d.cfg.Policy.Backoff(m.Attempts+1, o.RetryAfter); ok {
			r.RetryAt = d.cfg.Now().Add(wait)
		}
	}
	outcome := "success"
	if !r.OK {
		outcome = o.Code
		d.cfg.Logger.Warn("operator webhook attempt failed", slog.String("event_id", m.ID), slog.String("error", o.Error),
			slog.Bool("will_retry", !r.RetryAt.IsZero()))
	}
	d.cfg.Metrics.OperatorMessages.WithLabelValues(outcome).Inc()
	if err := d.cfg.Store.OperatorComplete(ctx, &store.OperatorCompleteParams{Results: []*store.OperatorResult{r}, Now: d.cfg.Now()}); err != nil && ctx.Err() == nil {
		d.cfg.Logger.Error("record operator attempt", slog.String("event_id", m.ID), slog.Any("error", err))
	}
}

// openHeaders returns custom headers with their stored values opened
// (they are sealed like keys when hookd runs with --secret-key).
func openHeaders(hs []hook.Header, open func(string) (string, error)) ([]hook.Header, error) {
	if open == nil || len(hs) == 0 {
		return hs, nil
	}
	out := make([]hook.Header, len(hs))
	for i, h := range hs {
		v, err := open(h.Value)
		if err != nil {
			return nil, err
		}
		out[i] = hook.Header{Name: h.Name, Value: v, Masked: h.Masked}
	}
	return out, nil
}

// signerCache keeps one Signer per endpoint for as long as its keys stay
// the same, so the hot path does not decode keys on every attempt.
type signerCache struct {
	mu sync.Mutex
	m  map[string]cachedSigner
}

type cachedSigner struct {
	keys   string
	signer *webhook.Signer
}

func (c *signerCache) get(endpointID string, keys []hook.Key, open func(string) (string, error)) (*webhook.Signer, error) {
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k.Value)
		b.WriteByte(' ')
	}
	fp := b.String()
	c.mu.Lock()
	if s, ok := c.m[endpointID]; ok && s.keys == fp {
		c.mu.Unlock()
		return s.signer, nil
	}
	c.mu.Unlock()
	plain := make([]string, 0, len(keys))
	for _, k := range keys {
		v := k.Value
		if open != nil {
			var err error
			if v, err = open(v); err != nil {
				return nil, err
			}
		}
		plain = append(plain, v)
	}
	s, err := webhook.NewSigner(plain...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) > 100_000 {
		c.m = make(map[string]cachedSigner)
	}
	c.m[endpointID] = cachedSigner{keys: fp, signer: s}
	c.mu.Unlock()
	return s, nil
}
