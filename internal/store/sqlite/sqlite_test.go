package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

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
