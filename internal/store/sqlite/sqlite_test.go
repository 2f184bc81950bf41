package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/sqlite"
	"github.com/hookd/hookd/internal/store/storetest"
)

func mustOpen(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Exercise(t, func(t *testing.T) store.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "hookd.db"))
	})
}

func TestOneProcessPerDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookd.db")
	mustOpen(t, path)
	if s, err := sqlite.Open(context.Background(), path, sqlite.Options{}); err == nil {
		s.Close()
		t.Fatal("second Open of the same database succeeded, want an error")
	}
}

// A write that races with Close fails; it never hangs.
func TestWriteAfterClose(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	done := make(chan error, 1)
	go func() {
		done <- s.AccountCreate(context.Background(), &hook.Account{ID: "acc_x", Name: "x", CreatedAt: time.Now()}, []byte("h"))
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("write after Close succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("write after Close hangs")
	}
}
