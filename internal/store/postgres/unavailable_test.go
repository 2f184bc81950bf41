package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookd/hookd/internal/store"
)

// The classifier wraps outages in store.ErrUnavailable and leaves errors
// that a retry would not fix (constraints, bad SQL, not found) alone.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	pg := func(code string) error { return fmt.Errorf("insert: %w", &pgconn.PgError{Code: code, Message: "x"}) }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"admin_shutdown (pg_terminate_backend)", pg("57P01"), true},
		{"query_canceled (statement_timeout)", pg("57014"), true},
		{"disk_full", pg("53100"), true},
		{"too_many_connections", pg("53300"), true},
		{"connection_failure", pg("08006"), true},
		{"read_only_sql_transaction", pg("25006"), true},
		{"idle_in_transaction_session_timeout", pg("25P03"), true},
		{"io_error", pg("58030"), true},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"conn closed", fmt.Errorf("exec: %w", pgconn.ErrConnClosed), true},
		{"deadline (no pooled connection in time)", context.DeadlineExceeded, true},
		{"unique_violation", pg("23505"), false},
		{"undefined_column", pg("42703"), false},
		{"no rows", pgx.ErrNoRows, false},
		{"canceled by the caller", context.Canceled, false},
		{"other", errors.New("scan: cannot scan NULL into *string"), false},
	} {
		got := unavailable(tc.err)
		if errors.Is(got, store.ErrUnavailable) != tc.want {
			t.Errorf("%s: unavailable(%v) = %v, want ErrUnavailable: %v", tc.name, tc.err, got, tc.want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("%s: unavailable(%v) = %v, which does not wrap the cause", tc.name, tc.err, got)
		}
	}
	if unavailable(nil) != nil {
		t.Error("unavailable(nil) != nil")
	}
}
