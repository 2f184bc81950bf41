package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/hookd/hookd/internal/store"
)

// The classifier wraps what the driver says about an outage in
// store.ErrUnavailable, and leaves other errors as they are.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	rw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if _, err := rw.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	_, constraint := rw.ExecContext(ctx, `INSERT INTO t VALUES (1), (1)`)
	ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, readOnly := ro.ExecContext(ctx, `INSERT INTO t VALUES (2)`)
	_, missing := rw.ExecContext(ctx, `SELECT nope FROM t`)

	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"read-only database", readOnly, true},
		{"closed store", errClosed, true},
		{"deadline before the writer took the write", context.DeadlineExceeded, true},
		{"constraint", constraint, false},
		{"bad statement", missing, false},
		{"canceled by the caller", context.Canceled, false},
	} {
		if tc.err == nil {
			t.Fatalf("%s: no error to classify", tc.name)
		}
		got := unavailable(tc.err)
		if errors.Is(got, store.ErrUnavailable) != tc.want {
			t.Errorf("unavailable(%s: %v) = %v, want ErrUnavailable: %v", tc.name, tc.err, got, tc.want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("unavailable(%v) = %v, which does not wrap the cause", tc.err, got)
		}
	}
	if unavailable(nil) != nil {
		t.Error("unavailable(nil) != nil")
	}
}

// A write probe fails once the store is closed, and while a write failed
// for an outage moments ago.
func TestWriteProbe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteProbe(ctx); err != nil {
		t.Fatalf("WriteProbe on a healthy store: %v", err)
	}
	s.health.note(unavailable(errClosed))
	if err := s.WriteProbe(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("WriteProbe after a write failed for an outage = %v, want ErrUnavailable", err)
	}
	s.health.mu.Lock()
	s.health.failedAt = s.health.failedAt.Add(-outageMemory)
	s.health.mu.Unlock()
	if err := s.WriteProbe(ctx); err != nil {
		t.Errorf("WriteProbe once the failure is older than %v: %v", outageMemory, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteProbe(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("WriteProbe on a closed store = %v, want ErrUnavailable", err)
	}
}
