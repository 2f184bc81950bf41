//go:build unix

package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hookd/hookd/internal/config"
)

// With umask 022, hookd serve still makes its data directory 0700 and
// every file in it (database, WAL, shared memory, generated admin token)
// 0600. Not parallel: the umask belongs to the whole process.
func TestDataDirModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "hookd-data")
	b, stop := startStoppable(t, func(c *config.Config) { c.DataDir, c.AdminToken = dir, "" })
	tok, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	admin := b.as(strings.TrimSpace(string(tok)))
	if _, err := admin.CreateAccount(b.ctx, "Acme"); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	check := func(when string, want ...string) {
		t.Helper()
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o700 {
			t.Errorf("%s: data dir has mode %04o, want 0700", when, got)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range entries {
			seen[e.Name()] = true
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("%s: %s has mode %04o, want 0600", when, e.Name(), got)
			}
		}
		for _, name := range want {
			if !seen[name] {
				t.Errorf("%s: %s missing from the data dir (found %v)", when, name, seen)
			}
		}
	}
	check("running", "hookd.db", "hookd.db-wal", "hookd.db-shm", "admin-token")
	stop()
	check("stopped", "hookd.db", "admin-token")
}
