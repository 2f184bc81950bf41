package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/metrics"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/webhook"
)

// Config configures a Dispatcher. Zero fields take the defaults given.
type Config struct {
	Store  store.Store
	Sender *Sender
	Policy RetryPolicy
	// Workers is how many attempts may run at once on this node
	// (--concurrency, default 256).
	Workers int
	// EndpointConcurrency bounds in-flight attempts per endpoint on this
	// node (--endpoint-concurrency, default 10).
	EndpointConcurrency int
	// AccountConcurrency bounds in-flight attempts per account on this
	// node (--account-concurrency), so that one account's slow endpoints
	// cannot take every worker. Default: a quarter of Workers, at least
	// EndpointConcurrency, at most Workers (64 with 256 workers); Workers
	// or more means no account limit.
	AccountConcurrency int
	// DisableAfter is --disable-after (default 3; negative never).
	DisableAfter int
	// Lease is how long claimed work belongs to this node (--lease,
	// default 30s). It must exceed the attempt timeout.
	Lease time.Duration
	// BatchSize bounds one claim and one result write (default 256).
	BatchSize int
	// PollInterval is the longest the dispatcher sleeps without a signal
	// (default 1s): it bounds how late it notices work another node's
	// lease left behind, and how late operator messages go out.
	PollInterval time.Duration
	// OpenKey turns a stored key into a signing key (whsec_/whsk_);
	// nil means keys are stored as they are.
	OpenKey func(stored string) (string, error)

	// OperatorURL receives operator events; empty means none.
	OperatorURL    string
	OperatorSigner *webhook.Signer
	// OperatorSender sends operator events (no SSRF guard).
	OperatorSender *Sender

	Now     func() time.Time
	Logger  *slog.Logger
	Metrics *metrics.Metrics
}

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

// Dispatcher delivers due work. Start it once; Stop it once.
type Dispatcher struct {
	cfg Config

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
	// events then queue behind it (see Handoff).
	backlog bool

	jobs      chan job
	results   chan *hook.Result
	slotFreed chan struct{}
	// fullFreed: a slot freed where work may be waiting for exactly it (an
	// endpoint that was at its limit, or a worker when all were busy).
	fullFreed chan struct{}
	opWake    chan struct{}
	signers   signerCache

	stopClaims chan struct{}
	claimsDone chan struct{}
	workersWG  sync.WaitGroup
	writerDone chan struct{}
	stopOnce   sync.Once
	started    bool
}

type job struct {
	claim *store.Claim
	op    *store.OperatorMessage
}

// New returns a Dispatcher; it does nothing until Start.
func New(cfg Config) (*Dispatcher, error) {
	if cfg.Store == nil || cfg.Sender == nil {
		return nil, errors.New("delivery: Store and Sender are required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 256
	}
	if cfg.EndpointConcurrency <= 0 {
		cfg.EndpointConcurrency = 10
	}
	if cfg.AccountConcurrency <= 0 {
		cfg.AccountConcurrency = DefaultAccountConcurrency(cfg.Workers, cfg.EndpointConcurrency)
	}
	if cfg.DisableAfter == 0 {
		cfg.DisableAfter = 3
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 256
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Policy.Base <= 0 {
		cfg.Policy = DefaultRetryPolicy
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
	if cfg.OperatorURL != "" && (cfg.OperatorSigner == nil || cfg.OperatorSender == nil) {
		return nil, errors.New("delivery: an operator webhook needs OperatorSigner and OperatorSender")
	}
	if cfg.Lease <= cfg.Sender.Timeout() {
		return nil, fmt.Errorf("delivery: lease %s must exceed the attempt timeout %s", cfg.Lease, cfg.Sender.Timeout())
	}
	d := &Dispatcher{
		cfg:        cfg,
		inflight:   make(map[string]int),
		accounts:   make(map[string]int),
		jobs:       make(chan job, cfg.Workers),
		results:    make(chan *hook.Result, cfg.BatchSize),
		slotFreed:  make(chan struct{}, 1),
		fullFreed:  make(chan struct{}, 1),
		opWake:     make(chan struct{}, 1),
		stopClaims: make(chan struct{}),
		claimsDone: make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	d.noReservations = sync.NewCond(&d.mu)
	return d, nil
}

// Start launches the claim loop, the workers and the result writer, and
// returns. ctx is used for store calls until Stop.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.mu.Lock()
	if d.started {
		d.mu.Unlock()
		return errors.New("delivery: dispatcher already started")
	}
	d.started = true
	d.mu.Unlock()
	ctx = context.WithoutCancel(ctx) // Stop, not ctx, ends the dispatcher
	for range d.cfg.Workers {
		d.workersWG.Add(1)
		go d.worker(ctx)
	}
	go d.resultWriter(ctx)
	go d.claimLoop(ctx)
	return nil
}

// Stop stops claiming, lets the attempts under way finish (each is bounded
// by the attempt timeout), gives back claimed work that was not started,
// writes the last results and returns.
func (d *Dispatcher) Stop() {
	d.stopOnce.Do(func() {
		d.mu.Lock()
		started := d.started
		d.stopping = true
		for d.reservations > 0 {
			d.noReservations.Wait()
		}
		d.mu.Unlock()
		if !started {
			return
		}
		close(d.stopClaims)
		<-d.claimsDone
		close(d.jobs) // workers release what they have not started
		d.workersWG.Wait()
		close(d.results)
		<-d.writerDone
	})
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
		if err != nil {
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
				d.cfg.Logger.Error("next due delivery", slog.Any("error", err))
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
	h := d.NewHandoff()
	h.claim = true
	claims, err := d.cfg.Store.DeliveryClaim(ctx, &store.DeliveryClaimParams{
		Now:          now,
		LeaseUntil:   now.Add(d.cfg.Lease),
		Limit:        asked,
		Reserve:      h.reserve,
		Full:         full,
		FullAccounts: fullAccounts,
	})
	h.Done(claims, err)
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
		d.cfg.Logger.Error("claim operator messages", slog.Any("error", err))
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
	defer d.workersWG.Done()
	for j := range d.jobs {
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
		r := d.attempt(ctx, j.claim)
		if r == nil {
			d.releaseAt(ctx, j.claim, d.cfg.Now().Add(keyErrorRetry))
			continue
		}
		d.endpointDone(j.claim.Delivery)
		d.results <- r
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
	d.busy--
	d.mu.Unlock()
	if wasFull {
		signal(d.fullFreed) // work may be waiting for any worker
	}
	if endpointID != "" {
		d.cfg.Metrics.InFlight.Dec()
	}
	d.Kick()
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
func (d *Dispatcher) releaseAt(ctx context.Context, c *store.Claim, t time.Time) {
	d.endpointDone(c.Delivery)
	err := d.cfg.Store.DeliveryRelease(ctx, &store.ReleaseParams{
		DeliveryIDs: []string{c.Delivery.ID}, Leases: []int64{c.Lease}, Now: t})
	if err != nil {
		d.cfg.Logger.Warn("release delivery", slog.String("delivery_id", c.Delivery.ID), slog.Any("error", err))
	}
	d.done(c.Delivery.EndpointID)
}

// keyErrorRetry is how long a delivery waits when its signing key cannot
// be used on this node.
const keyErrorRetry = time.Minute

// attempt makes one attempt of a claimed delivery and decides its retry.
// It returns nil if no attempt could be made (see keyErrorRetry).
func (d *Dispatcher) attempt(ctx context.Context, c *store.Claim) *hook.Result {
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
		return nil
	}
	headers, err := openHeaders(c.Headers, d.cfg.OpenKey)
	if err != nil {
		d.cfg.Logger.Error("endpoint header value unusable; delivery postponed", slog.String("endpoint_id", del.EndpointID),
			slog.String("delivery_id", del.ID), slog.Duration("retry_in", keyErrorRetry), slog.Any("error", err))
		return nil
	}
	o := d.cfg.Sender.Send(ctx, &Request{URL: c.URL, MsgID: del.EventID, Body: c.Body, Signer: signer, Headers: headers})
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
	d.cfg.Logger.Debug("attempt", slog.String("delivery_id", del.ID), slog.String("endpoint_id", del.EndpointID),
		slog.Int("number", del.Attempts+1), slog.Int("status_code", o.StatusCode), slog.String("error", o.Error),
		slog.Duration("duration", o.Duration))
	return r
}

// resultWriter writes results in batches: whatever has arrived while the
// previous batch was being written.
func (d *Dispatcher) resultWriter(ctx context.Context) {
	defer close(d.writerDone)
	batch := make([]*hook.Result, 0, d.cfg.BatchSize)
	linger := time.NewTimer(0)
	<-linger.C
	for r := range d.results {
		batch = append(batch[:0], r)
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

// writeResults stores a batch, retrying while the database is unavailable.
// If it cannot, the results are lost but not the work: the leases run out
// and the deliveries are attempted again (at least once).
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
		if d.cfg.Now().After(deadline) {
			d.cfg.Logger.Error("write attempt results: giving up; the deliveries will be attempted again",
				slog.Int("results", len(batch)), slog.Any("error", err))
			return
		}
		d.cfg.Logger.Warn("write attempt results", slog.Int("results", len(batch)), slog.Any("error", err))
		time.Sleep(backoff)
		backoff = min(backoff*2, 2*time.Second)
	}
}

func (d *Dispatcher) recordFinished(batch []*hook.Result, res *store.DeliveryCompleteResult) {
	for _, r := range batch {
		switch {
		case r.OK:
			d.cfg.Metrics.DeliveriesFinished.WithLabelValues(hook.StatusSucceeded).Inc()
		case r.RetryAt.IsZero():
			d.cfg.Metrics.DeliveriesFinished.WithLabelValues(hook.StatusFailed).Inc()
		}
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
	if err := d.cfg.Store.OperatorComplete(ctx, &store.OperatorCompleteParams{Results: []*store.OperatorResult{r}, Now: d.cfg.Now()}); err != nil {
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
