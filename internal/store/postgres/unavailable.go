package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookd/hookd/internal/store"
)

// unavailable classifies err at the backend's boundary: an error that
// says the database cannot serve for now comes back wrapped in
// store.ErrUnavailable; any other error (a constraint, a bug) comes back
// as it is. Outages are: a server that cannot be reached, refuses or
// drops connections, or ends this session (pg_terminate_backend, a
// shutdown); a statement cancelled by statement_timeout; a server out of
// resources (disk full, out of memory, too many connections); a
// read-only server (a standby, default_transaction_read_only); a pool
// that has no connection before the caller's deadline or is closed.
func unavailable(err error) error { return store.Unavailable(err, isUnavailable) }

func isUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),       // insufficient resources: disk full, out of memory, too many connections
			strings.HasPrefix(pe.Code, "57"),       // operator intervention: query_canceled (statement_timeout), admin_shutdown, cannot_connect_now
			strings.HasPrefix(pe.Code, "58"),       // system error: I/O error
			pe.Code == "25006",                     // read_only_sql_transaction
			pe.Code == "25P03", pe.Code == "25P04", // the session ended by idle_in_transaction_session_timeout or transaction_timeout
			pe.Code == "55P03",                     // lock_not_available (lock_timeout)
			pe.Code == "40P01", pe.Code == "40001": // deadlock or serialization failure left after the retries
			return true
		}
		return false
	}
	var (
		netErr  net.Error
		connErr *pgconn.ConnectError
	)
	return errors.As(err, &connErr) || errors.As(err, &netErr) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded)
}

// WriteProbe makes one small write and reports whether it committed:
// readiness, since a server can answer reads while it refuses writes (a
// read-only standby, a full disk). It rewrites the newest row of
// schema_migrations as it is, a one-row update that needs a transaction
// id and a WAL record like any other commit.
func (s *Store) WriteProbe(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `UPDATE schema_migrations SET applied_at = applied_at
		WHERE version = (SELECT max(version) FROM schema_migrations)`)
	if err != nil {
		return unavailable(fmt.Errorf("write probe: %w", err))
	}
	return nil
}
