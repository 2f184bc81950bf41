package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hookd/hookd/internal/store"
)

// unavailable classifies err at the backend's boundary: an error that
// says the database cannot serve for now (the disk is full, the file is
// read-only or cannot be opened, an I/O error, the lock is held past the
// busy timeout, the store is closing) comes back wrapped in
// store.ErrUnavailable; any other error, a bug or a constraint, comes back
// as it is.
func unavailable(err error) error { return store.Unavailable(err, isUnavailable) }

func isUnavailable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN,
			sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL:
			return true
		}
		return false
	}
	// A deadline that passes before the writer takes the write: the writer
	// is stuck (a lock held past the busy timeout, a slow disk).
	return errors.Is(err, errClosed) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EIO)
}

// outageMemory is how long a write that failed for an outage keeps
// WriteProbe failing, whatever the probe itself does.
const outageMemory = 2 * time.Second

// writeHealth remembers the last write that failed for an outage.
type writeHealth struct {
	mu       sync.Mutex
	failedAt time.Time
	err      error
}

// note records err, the outcome of a write, and returns it.
func (h *writeHealth) note(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		h.mu.Lock()
		h.failedAt, h.err = time.Now(), err
		h.mu.Unlock()
	}
	return err
}

// recent returns the error of a write that failed for an outage within
// outageMemory, or nil.
func (h *writeHealth) recent() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil && time.Since(h.failedAt) < outageMemory {
		return h.err
	}
	return nil
}

// WriteProbe reports whether writes commit: readiness, since reads keep
// working on a full disk or a read-only file while every write fails. It
// fails while a write failed for an outage within the last outageMemory,
// and else makes one small write through the writer: it rewrites the
// newest row of schema_migrations as it is. A nearly full disk can take
// that small commit but not an event's, hence the memory of real writes.
// Unlike other writes the probe gives up waiting when ctx ends (an
// abandoned probe that then commits changes nothing), so a writer stuck on
// a busy lock does not hold up the caller.
func (s *Store) WriteProbe(ctx context.Context) error {
	if err := s.health.recent(); err != nil {
		return err
	}
	op := &writeOp{ctx: ctx, done: make(chan struct{}), fn: func(w *wtx) error {
		_, err := w.exec(`UPDATE schema_migrations SET applied_at = applied_at
			WHERE version = (SELECT MAX(version) FROM schema_migrations)`)
		return err
	}}
	select {
	case s.ops <- op:
	case <-s.stop:
		return unavailable(errClosed)
	case <-ctx.Done():
		return fmt.Errorf("%w: the writer is busy: %w", store.ErrUnavailable, ctx.Err())
	}
	select {
	case <-op.done:
		return unavailable(op.err)
	case <-s.stopped:
		return unavailable(errClosed)
	case <-ctx.Done():
		return fmt.Errorf("%w: no commit within the probe's time: %w", store.ErrUnavailable, ctx.Err())
	}
}
