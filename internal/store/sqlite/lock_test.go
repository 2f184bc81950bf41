package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/store/sqlite"
)

// TestOpenLockFollowsFile: no spelling of the database's path lets a
// second Store open a database that one already holds.
func TestOpenLockFollowsFile(t *testing.T) {
	t.Parallel()
	spellings := []struct {
		name string
		// other returns another path that names the database at path.
		other func(t *testing.T, path string) string
	}{
		{"same path", func(t *testing.T, path string) string { return path }},
		{"symbolic link", func(t *testing.T, path string) string {
			link := filepath.Join(t.TempDir(), "link.db")
			if err := os.Symlink(path, link); err != nil {
				t.Skipf("cannot make a symbolic link here: %v", err)
			}
			return link
		}},
		{"symbolic link to the directory", func(t *testing.T, path string) string {
			link := filepath.Join(t.TempDir(), "data")
			if err := os.Symlink(filepath.Dir(path), link); err != nil {
				t.Skipf("cannot make a symbolic link here: %v", err)
			}
			return filepath.Join(link, filepath.Base(path))
		}},
		{"hard link", func(t *testing.T, path string) string {
			link := filepath.Join(filepath.Dir(path), "hard.db")
			if err := os.Link(path, link); err != nil {
				t.Skipf("cannot make a hard link here: %v", err)
			}
			return link
		}},
		{"relative path", func(t *testing.T, path string) string {
			wd, err := os.Getwd()
			if err != nil {
				t.Fatal(err)
			}
			rel, err := filepath.Rel(wd, path)
			if err != nil {
				t.Skipf("no relative path from %s to %s: %v", wd, path, err)
			}
			return rel
		}},
		{"dot segments", func(t *testing.T, path string) string {
			return filepath.Join(filepath.Dir(path), ".", "..", filepath.Base(filepath.Dir(path))) + string(filepath.Separator) + "." + string(filepath.Separator) + filepath.Base(path)
		}},
	}
	for _, sp := range spellings {
		t.Run(sp.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "hookd.db")
			first := mustOpen(t, path)
			other := sp.other(t, path)
			second, err := sqlite.Open(context.Background(), other, sqlite.Options{})
			if err == nil {
				second.Close()
				t.Fatalf("Open(%q) while %q is open succeeded, want an error saying the database is in use", other, path)
			}
			if !strings.Contains(err.Error(), "in use by another hookd process") || !strings.Contains(err.Error(), other) {
				t.Fatalf("Open(%q) error = %q, want it to name %q as in use by another hookd process", other, err, other)
			}
			// The first store is unharmed.
			if err := first.Ping(context.Background()); err != nil {
				t.Fatalf("Ping of the first store: %v", err)
			}
		})
	}
}

// TestOpenRefusesHardLinks: SQLite names a database's WAL after the name
// it was opened by, so a database reachable by two names could lose or
// replay a WAL: Open refuses it and says why.
func TestOpenRefusesHardLinks(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	s := mustOpen(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "other.db")
	if err := os.Link(path, link); err != nil {
		t.Skipf("cannot make a hard link here: %v", err)
	}
	for _, p := range []string{path, link} {
		s, err := sqlite.Open(context.Background(), p, sqlite.Options{})
		if err == nil {
			s.Close()
			t.Fatalf("Open(%q) of a database with two hard links succeeded, want an error", p)
		}
		if !strings.Contains(err.Error(), "has 2 hard links") {
			t.Fatalf("Open(%q) error = %q, want it to say the database has 2 hard links", p, err)
		}
	}
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, path)
}

// TestOpenAfterClose: the lock goes with the store.
func TestOpenAfterClose(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	for range 3 {
		s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatalf("Open after Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if runtime.GOOS == "linux" {
		// The lock is on the database file itself: no lock file.
		if _, err := os.Stat(path + ".lock"); !os.IsNotExist(err) {
			t.Errorf("stat %s.lock: %v, want no lock file", path, err)
		}
	}
}

// TestOpenLockAcrossProcesses: a second process opening the database
// through a symbolic link (the spelling that once got past the lock) or a
// relative path is refused while the first holds it, and gets it once the
// first closes.
func TestOpenLockAcrossProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "hookd.db")
	link := filepath.Join(t.TempDir(), "link.db")
	if err := os.Symlink(path, link); err != nil {
		t.Skipf("cannot make a symbolic link here: %v", err)
	}
	child := func(p string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "HOOKD_LOCK_HELPER_DB="+p)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	s := mustOpen(t, path)
	seed(t, s, 1)
	for _, p := range []string{link, path} {
		out, err := child(p)
		if err == nil || !strings.Contains(out, "in use by another hookd process") {
			t.Errorf("second process opening %s while the first holds it: %v, output %q; want it refused as in use", p, err, out)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := child(link); err != nil {
		t.Errorf("second process opening %s after the first closed: %v, output %q", link, err, out)
	}
}

// TestLockHelperProcess is the second process of
// TestOpenLockAcrossProcesses; it does nothing in a normal run.
func TestLockHelperProcess(t *testing.T) {
	p := os.Getenv("HOOKD_LOCK_HELPER_DB")
	if p == "" {
		return
	}
	s, err := sqlite.Open(context.Background(), p, sqlite.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	s.Close()
}

// TestOpenPathWithURICharacters: '?', '#' and '%' are ordinary characters
// in a file name; the database, its lock and a backup use the file so named,
// not a shorter or decoded one.
func TestOpenPathWithURICharacters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "a#b?c%41.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at the path given: %v", err)
	}
	for _, other := range []string{filepath.Join(dir, "a"), filepath.Join(dir, "aA.db"), filepath.Join(dir, "a#b")} {
		if _, err := os.Stat(other); err == nil {
			t.Errorf("a database file was made at %s", other)
		}
	}
	if _, err := sqlite.Open(ctx, path, sqlite.Options{}); err == nil {
		t.Error("a second Open of the same file succeeded: the lock is not on it")
	}
	dest := filepath.Join(t.TempDir(), "copy#1?.db")
	if err := sqlite.Backup(ctx, path, dest); err != nil {
		t.Fatalf("backup to %s: %v", dest, err)
	}
	if _, err := os.Stat(dest); err != nil {
		t.Fatalf("the backup is not at the path given: %v", err)
	}
}
