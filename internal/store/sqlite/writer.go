package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// errClosed is returned for writes queued after Close.
var errClosed = errors.New("sqlite store closed")

// errInjected is the commit failure tests ask for (failNextCommit).
var errInjected = errors.New("injected commit failure")

// writeOp is one write, run by the writer goroutine inside the current
// batch's transaction.
type writeOp struct {
	ctx context.Context
	fn  func(w *wtx) error
	// durable asks for the batch's commit to be fsync'd.
	durable bool
	// wake signals WorkAvailable after the commit; woke is set by the op
	// itself (wtx.wakeDispatcher) when what it wrote calls for it.
	wake bool
	woke bool
	err  error
	done chan struct{}
}

// writeMode says how a write commits.
type writeMode uint8

const (
	// relaxed: the commit is not fsync'd (synchronous=NORMAL) and does
	// not signal WorkAvailable by itself (an op may still ask, with
	// wtx.wakeDispatcher).
	relaxed writeMode = 0
	// durable: the batch's commit is fsync'd (synchronous=FULL).
	durable writeMode = 1 << iota
	// wake: WorkAvailable is signalled after the commit.
	wake
)

// write queues fn and waits until its transaction has committed (or
// failed). fn runs on the writer goroutine and must not call write.
func (s *Store) write(ctx context.Context, mode writeMode, fn func(w *wtx) error) error {
	op := &writeOp{ctx: ctx, fn: fn, durable: mode&durable != 0, wake: mode&wake != 0, done: make(chan struct{})}
	select {
	case s.ops <- op:
	case <-s.stop:
		return unavailable(errClosed)
	case <-ctx.Done():
		return unavailable(ctx.Err())
	}
	// Once queued, wait for the outcome even if ctx ends: the caller must
	// not report failure for a write that then commits.
	select {
	case <-op.done:
		return s.health.note(unavailable(op.err))
	case <-s.stopped:
		// The writer drained the queue and exited; an op queued after
		// that (racing with Close) never runs.
		select {
		case <-op.done:
			return s.health.note(unavailable(op.err))
		default:
			return unavailable(errClosed)
		}
	}
}

// writer is the writer goroutine as a startstop.Service; Open starts it
// and Close stops it (once). Stop finishes the batch under way and then
// the ops still queued, but for those whose caller gave up (an op whose
// context has ended is skipped). When ctx ends first, the ops still
// queued are refused (their callers get an unavailable error: nothing of
// them was written) and Stop returns once the batch under way has
// committed or rolled back, which SQLite cannot abandon midway.
type writer struct{ s *Store }

func (w writer) Start(context.Context) error {
	go w.s.writeLoop()
	return nil
}

func (w writer) Stop(ctx context.Context) error {
	close(w.s.stop)
	select {
	case <-w.s.stopped:
		return nil
	case <-ctx.Done():
		w.s.abandon.Store(true)
		<-w.s.stopped
		return ctx.Err()
	}
}

func (s *Store) writeLoop() {
	defer close(s.stopped)
	batch := make([]*writeOp, 0, maxBatch)
	lastDurable := 0 // durable ops in the last batch that had any
	for {
		var first *writeOp
		select {
		case first = <-s.ops:
		case <-s.stop:
			// Finish what is already queued, then stop.
			for {
				select {
				case op := <-s.ops:
					if s.abandon.Load() {
						op.err = errClosed
						close(op.done)
						continue
					}
					s.runBatch(append(batch[:0], op))
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	gather:
		for len(batch) < maxBatch {
			select {
			case op := <-s.ops:
				batch = append(batch, op)
			default:
				break gather
			}
		}
		durable := countDurable(batch)
		if durable > 0 && lastDurable > 1 {
			// Events are arriving together: wait a moment for more to
			// share this commit. Under load, the pages written per event
			// (WAL frames) fall sharply with batch size; a lone event
			// does not wait.
			t := time.NewTimer(linger)
		wait:
			for len(batch) < maxBatch {
				select {
				case op := <-s.ops:
					batch = append(batch, op)
				case <-t.C:
					break wait
				}
			}
			t.Stop()
			durable = countDurable(batch)
		}
		if durable > 0 {
			lastDurable = durable
		}
		s.runBatch(batch)
	}
}

// linger is how long a durable batch waits for more ops when the last
// one was shared (see writeLoop).
const linger = 2 * time.Millisecond

func countDurable(ops []*writeOp) int {
	n := 0
	for _, op := range ops {
		if op.durable {
			n++
		}
	}
	return n
}

// runBatch runs ops in one transaction and reports each op's outcome.
func (s *Store) runBatch(ops []*writeOp) {
	live := ops[:0:0]
	for _, op := range ops {
		if err := op.ctx.Err(); err != nil {
			op.err = err
			close(op.done)
			continue
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	durable := false
	for _, op := range live {
		durable = durable || op.durable
	}
	// Statements run to completion once the batch starts: a caller that
	// gives up must not break the transaction the others share.
	ctx := context.Background()
	w := &wtx{s: s, ctx: ctx}
	// All ops in one transaction, without savepoints: the common case.
	// If one fails, nothing of the batch is kept, and each op runs again
	// in a transaction of its own, so that its failure is its own. Ops
	// may thus run twice and ask their callers' Reserve twice; the
	// storage contract allows it (callers give back what their answer
	// does not use). A failed commit fails every op of the batch.
	// A RESTART checkpoint holds SQLite's write lock; waiting for it here
	// rather than in SQLite's busy handler (which sleeps 1, 2, 5, 10 ms…)
	// resumes commits as soon as it is over (see Store.checkpoint).
	s.restartMu.Lock()
	defer s.restartMu.Unlock()
	err := s.inTx(ctx, durable, func() error {
		for _, op := range live {
			if err := s.runOp(w, op); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errOpFailed) && len(live) > 1 {
		s.epCache = nil
		for _, op := range live {
			op.err = nil
			if err := s.inTx(ctx, op.durable, func() error { return s.runOp(w, op) }); err != nil && !errors.Is(err, errOpFailed) {
				op.err = err
			}
		}
	} else if err != nil && !errors.Is(err, errOpFailed) {
		for _, op := range live {
			op.err = err
		}
	}
	wake := false
	for _, op := range live {
		if op.err != nil {
			s.epCache = nil // it may hold what was rolled back
		}
		if op.err == nil && (op.wake || op.woke) {
			wake = true
		}
		close(op.done)
	}
	if wake {
		s.signalWork()
	}
}

// errOpFailed rolls a transaction back because an op failed; the op's
// own error is recorded on it.
var errOpFailed = errors.New("op failed")

// runOp runs one op in the current transaction.
func (s *Store) runOp(w *wtx, op *writeOp) error {
	w.op = op
	op.woke = false
	if err := op.fn(w); err != nil {
		op.err = err
		return errOpFailed
	}
	return nil
}

// inTx runs fn between BEGIN IMMEDIATE and COMMIT on the writer
// connection; a single-op batch whose op fails is rolled back.
func (s *Store) inTx(ctx context.Context, durable bool, fn func() error) (err error) {
	c := s.wconn
	if durable {
		if _, err := c.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
			return fmt.Errorf("set synchronous: %w", err)
		}
		defer func() {
			// After a commit the batch is done, whatever happens here: a
			// failure only leaves the next commits fsync'd as well.
			_, _ = c.ExecContext(ctx, "PRAGMA synchronous = NORMAL")
		}()
	}
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(); err != nil {
		if _, rbErr := c.ExecContext(ctx, "ROLLBACK"); rbErr != nil {
			return errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	if s.failCommit.CompareAndSwap(true, false) {
		_, _ = c.ExecContext(ctx, "ROLLBACK")
		return fmt.Errorf("commit: %w", errInjected)
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = c.ExecContext(ctx, "ROLLBACK")
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// wtx gives an op its statements on the writer connection, prepared once
// and reused.
type wtx struct {
	s   *Store
	ctx context.Context
	op  *writeOp
}

// wakeDispatcher asks for WorkAvailable to be signalled once the op has
// committed.
func (w *wtx) wakeDispatcher() { w.op.woke = true }

func (w *wtx) stmt(q string) (*sql.Stmt, error) {
	if st, ok := w.s.wstmts[q]; ok {
		return st, nil
	}
	st, err := w.s.wconn.PrepareContext(w.ctx, q)
	if err != nil {
		return nil, err
	}
	w.s.wstmts[q] = st
	return st, nil
}

func (w *wtx) exec(q string, args ...any) (sql.Result, error) {
	st, err := w.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(w.ctx, args...)
}

func (w *wtx) query(q string, args ...any) (*sql.Rows, error) {
	st, err := w.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(w.ctx, args...)
}

func (w *wtx) queryRow(q string, args ...any) *row {
	st, err := w.stmt(q)
	if err != nil {
		return &row{err: err}
	}
	return &row{r: st.QueryRowContext(w.ctx, args...)}
}
