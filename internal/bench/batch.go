package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd/client"
)

// scenarioBatch measures hookd's intake ceiling twice on an API-only node
// (nothing is delivered, so intake has the machine): single events
// (POST /v1/events) and then batches of --batch-size (POST
// /v1/events/batch), with the same --events and --submitters, and
// reports the batch rate as a ratio of the single-event rate.
func (r *runner) scenarioBatch(ctx context.Context) error {
	single, err := r.intakePhase(ctx, "intake-single", 0)
	if err != nil {
		return err
	}
	batch, err := r.intakePhase(ctx, "intake-batch", r.cfg.BatchSize)
	if err != nil {
		return err
	}
	if single.IntakePerS > 0 {
		r.res.setRatio("batch_intake_vs_single", batch.IntakePerS/single.IntakePerS)
	}
	if single.CPUMsPerEvent > 0 && batch.CPUMsPerEvent > 0 {
		r.res.setRatio("batch_cpu_per_event_vs_single", batch.CPUMsPerEvent/single.CPUMsPerEvent)
	}
	return nil
}

// intakePhase submits --events (singly, or in batches of batchSize) to an
// API-only node as fast as it takes them.
func (r *runner) intakePhase(ctx context.Context, base string, batchSize int) (_ *PhaseResult, err error) {
	name := r.phaseName(base, 1)
	r.printf("[%s] starting an API-only hookd node (--deliver=false)\n", name)
	cl, err := r.startCluster(ctx, name, 1, false)
	if err != nil {
		return nil, err
	}
	defer func() {
		if stopErr := r.stopCluster(ctx, cl); stopErr != nil {
			err = fmt.Errorf("%s: %w", name, stopErr)
		}
	}()
	top, err := r.createTopology(ctx, cl.nodes[0].api, nil, nil)
	if err != nil {
		return nil, err
	}
	sub := newSubmitter(cl.clients(), top.accounts, r.payloads, nil)
	u0 := r.usage(cl)
	if batchSize > 0 {
		go sub.runBatches(ctx, r.cfg.Events, batchSize, r.cfg.Submitters)
	} else {
		go sub.runClosed(ctx, r.cfg.Events, r.cfg.Submitters)
	}
	prof := r.profile(ctx, cl, name)
	st, _, err := r.watch(ctx, watchOptions{name: name, cl: cl, sub: sub, keep: counts(nil)})
	if err != nil {
		return nil, err
	}
	u1 := r.usage(cl)
	<-prof
	nodes := cl.nodes
	if err := r.stopNodes(cl); err != nil {
		return nil, fmt.Errorf("stop the API-only node: %w", err)
	}
	res := r.phaseResult(name, nodes, sub, st, counts(nil), u0, u1)
	res.DeliveriesPerS, res.PctOfCeiling, res.CPUMsPerDelivery, res.WallS = 0, 0, 0, 0
	if res.Events > 0 {
		res.CPUMsPerEvent = round(res.HookdCPUS*1000/float64(res.Events), 4)
	}
	how := "single events (POST /v1/events)"
	if batchSize > 0 {
		how = fmt.Sprintf("batches of %d (POST /v1/events/batch); submit latency is per batch", batchSize)
	}
	res.Notes = append(res.Notes, fmt.Sprintf("API-only node, %d submitters, %s", r.cfg.Submitters, how))
	r.res.Phases = append(r.res.Phases, *res)
	if st.Deliveries > 0 {
		return nil, fmt.Errorf("the API-only node delivered %d requests", st.Deliveries)
	}
	return res, nil
}

// runBatches submits events 0..n-1 in batches of size from workers
// goroutines, closed loop.
func (s *submitter) runBatches(ctx context.Context, n, size, workers int) {
	s.runClosedSteps(ctx, n, size, workers, func(from, to int) { s.submitBatch(ctx, from, to) })
}

// submitBatch sends events from..to-1 (as submit would send each) in one
// request, retrying transient failures of the whole request like submit.
func (s *submitter) submitBatch(ctx context.Context, from, to int) {
	a := len(s.accounts)
	events := make([]client.SubmitEventParams, 0, to-from)
	for i := from; i < to; i++ {
		event, data := s.payloads.eventAt(i / a)
		events = append(events, client.SubmitEventParams{AccountID: s.accounts[i%a], Event: event, Data: data})
	}
	c := s.clients[from/max(to-from, 1)%len(s.clients)]
	start := time.Now()
	var (
		res []client.BatchItem
		err error
	)
	for try := 0; try < 4; try++ {
		if res, err = c.SubmitEvents(ctx, events); err == nil || !transient(err) || ctx.Err() != nil {
			break
		}
		sleepCtx(ctx, time.Duration(try+1)*100*time.Millisecond)
	}
	if err != nil {
		if ctx.Err() == nil {
			s.failed.Add(int64(len(events)))
			s.firstErr.CompareAndSwap(nil, errBox{err})
		}
		return
	}
	s.latency.Record(time.Since(start))
	for _, it := range res {
		if it.Err != nil {
			s.failed.Add(1)
			s.firstErr.CompareAndSwap(nil, errBox{it.Err})
			continue
		}
		n := int64(len(it.Result.Deliveries))
		s.deliveries.Add(n)
		s.counted.Add(n)
		s.submitted.Add(1)
	}
}

// errBox holds a submitter's first error: atomic.Value takes values of one
// concrete type only, and errors come in several.
type errBox struct{ err error }

func (e errBox) Error() string { return e.err.Error() }
func (e errBox) Unwrap() error { return e.err }
