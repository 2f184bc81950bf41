//go:build unix

package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
)

// TestFileModes: whatever the umask, the database's directory is 0700
// and every file SQLite or hookd makes in it is 0600; an existing
// database that others could read is narrowed at open. Not parallel: the
// umask belongs to the whole process.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)

	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "hookd.db")
	s := mustOpen(t, path)
	seed(t, s, 2) // writes: WAL and shared memory exist now
	want := map[string]bool{"hookd.db": true, "hookd.db-wal": true, "hookd.db-shm": true}
	checkModes(t, dir, want)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A database made loose by hand (or by an earlier hookd), with a WAL
	// and shared memory left beside it, is narrowed at open.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s = mustOpen(t, path)
	a := &hook.Account{ID: hook.NewIDAt(hook.PrefixAccount, time.Now()), Name: "x", CreatedAt: time.Now()}
	if err := s.AccountCreate(context.Background(), a, []byte("another token hash")); err != nil {
		t.Fatal(err)
	}
	checkModes(t, dir, want)
}

func checkModes(t *testing.T, dir string, want map[string]bool) {
	t.Helper()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("directory %s has mode %04o, want 0700", dir, got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		seen[e.Name()] = true
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", e.Name(), got)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("%s is missing from %s (found %v)", name, dir, seen)
		}
	}
}
