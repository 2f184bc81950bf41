package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/cli"
)

// TestBackupWhileServing copies the database while events keep arriving:
// the copy passes SQLite's integrity check and holds every event that was
// accepted before the backup began.
func TestBackupWhileServing(t *testing.T) {
	t.Parallel()
	b := start(t)
	acc, _ := b.account()
	submit := func() string {
		res, err := b.admin.SubmitEvent(b.ctx, client.SubmitEventParams{AccountID: acc.ID, Event: "sms.received", Data: example("sms.received")})
		if err != nil {
			t.Errorf("SubmitEvent: %v", err)
			return ""
		}
		return res.ID
	}
	var (
		mu       sync.Mutex
		accepted []string // in the order their 202s arrived
		busy     = make(chan struct{})
		once     sync.Once
	)
	for range 100 {
		accepted = append(accepted, submit())
	}
	// Keep submitting from four producers while the backup runs.
	ctx, stop := context.WithCancel(b.ctx)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if id := submit(); id != "" {
					mu.Lock()
					accepted = append(accepted, id)
					if len(accepted) >= 200 {
						once.Do(func() { close(busy) })
					}
					mu.Unlock()
				}
			}
		})
	}
	<-busy // the producers are under way
	mu.Lock()
	before := append([]string(nil), accepted...)
	mu.Unlock()
	dest := filepath.Join(t.TempDir(), "copy.db")
	var stdout, stderr bytes.Buffer
	code := cli.Run(b.ctx, []string{"backup", "--data-dir", b.cfg.DataDir, dest},
		cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
	stop()
	wg.Wait()
	if code != 0 {
		t.Fatalf("hookd backup exited %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "integrity check ok") {
		t.Errorf("hookd backup printed %q, want it to report the integrity check", stdout.String())
	}
	fi, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("the backup's mode is %v, want 0600 (it holds signing secrets)", mode)
	}

	db, err := sql.Open("sqlite", "file:"+dest+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check of the copy = %q, %v; want ok", check, err)
	}
	var n int
	for _, id := range before {
		if err := db.QueryRow(`SELECT COUNT(*) FROM events WHERE id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("event %s, accepted before the backup began, is not in the copy", id)
		}
	}
	var total int
	if err := db.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	t.Logf("the copy holds %d events; %d were accepted before the backup began, %d by the time it ended", total, len(before), len(accepted))

	// A second backup to the same name is refused, and the copy stays.
	stderr.Reset()
	if code := cli.Run(b.ctx, []string{"backup", "--data-dir", b.cfg.DataDir, dest},
		cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}); code == 0 ||
		!strings.Contains(stderr.String(), "already exists") {
		t.Errorf("a backup over an existing file: exit %d, %q; want a refusal saying it exists", code, stderr.String())
	}
	if _, err := os.Stat(dest); err != nil {
		t.Errorf("the refused backup removed the existing copy: %v", err)
	}
}

func TestBackupRefusesWhatItCannotCopy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"backup"}, "give one destination file"},
		{[]string{"backup", "--db", "postgres://localhost/hookd", filepath.Join(dir, "a.db")}, "pg_dump"},
		{[]string{"backup", "--data-dir", filepath.Join(dir, "none"), filepath.Join(dir, "b.db")}, "no such file"},
	} {
		var stdout, stderr bytes.Buffer
		code := cli.Run(context.Background(), tc.args, cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
		if code == 0 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("hookd %s: exit %d, %q; want a failure saying %q", strings.Join(tc.args, " "), code, stderr.String(), tc.want)
		}
	}
}
