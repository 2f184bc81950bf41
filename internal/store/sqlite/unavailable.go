package sqlite

import (
	"context"
	"errors"
	"fmt"
	"syscall"

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
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	if isUnavailable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

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

// WriteProbe makes one small write through the writer and reports whether
// it committed: readiness, since reads keep working on a full disk or a
// read-only file while every write fails. It rewrites the newest row of
// schema_migrations as it is, which dirties a page and so appends to the
// WAL like any other commit. Unlike other writes it gives up waiting when
// ctx ends (an abandoned probe that then commits changes nothing), so a
// writer stuck on a busy lock does not hold up the caller.
func (s *Store) WriteProbe(ctx context.Context) error {
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
