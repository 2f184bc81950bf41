package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/store/sqlite"
)

// runBackup copies the SQLite database to a new file, consistently, also
// while hookd serves from it. PostgreSQL has its own tools (pg_dump; see
// docs/operations.md).
func runBackup(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("hookd backup", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfg := &config.Config{}
	fs.StringVar(&cfg.DataDir, "data-dir", "./hookd-data", "the data directory hookd serve uses")
	fs.StringVar(&cfg.DB, "db", "", "the database hookd serve uses: empty for SQLite in --data-dir, or sqlite:PATH")
	// The destination is the last argument, after the flags.
	var rest []string
	if n := len(args); n > 0 && !strings.HasPrefix(args[n-1], "-") {
		args, rest = args[:n-1], args[n-1:]
	}
	if err := parseCommand(fs, "hookd backup [--data-dir DIR | --db sqlite:PATH] DEST", args, env, ""); err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError{errors.New("give one destination file: hookd backup [flags] DEST")}
	}
	kind, path := cfg.Backend()
	switch kind {
	case config.BackendSQLite:
	case config.BackendPostgres:
		return errors.New("--db is PostgreSQL: back it up with pg_dump (see docs/operations.md)")
	default:
		return fmt.Errorf("--db %q: want empty (SQLite in --data-dir) or sqlite:PATH", cfg.DB)
	}
	if err := sqlite.Backup(ctx, path, rest[0]); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "backed up %s to %s (integrity check ok)\n", path, rest[0])
	return nil
}
