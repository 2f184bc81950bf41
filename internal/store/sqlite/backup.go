package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// Backup writes a consistent copy of the database at path to dest, which
// must not exist. It reads through a connection of its own, without the
// lock Open takes, so it works while a hookd process serves from the
// database: the copy is the database as of one read transaction (SQLite's
// VACUUM INTO), which a concurrent writer neither blocks nor changes, and
// the copy is compact and has no WAL of its own. dest is created 0600:
// it holds signing secrets.
func Backup(ctx context.Context, path, dest string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("database %s: %w", path, err)
	}
	// VACUUM INTO accepts an empty file: making it first sets its mode
	// whatever the umask, and refuses to overwrite anything.
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("backup %s already exists; choose a new name", dest)
		}
		return fmt.Errorf("create backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create backup: %w", err)
	}
	err = vacuumInto(ctx, path, dest)
	if err != nil {
		os.Remove(dest)
	}
	return err
}

func vacuumInto(ctx context.Context, path, dest string) error {
	// mode=ro: this connection never writes to the database, so it needs
	// no lock and cannot disturb the serving process.
	db, err := sql.Open("sqlite", fileURI(path)+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'events'`).Scan(&tables); err != nil {
		return fmt.Errorf("read database %s: %w", path, err)
	}
	if tables == 0 {
		return fmt.Errorf("%s is not a hookd database (no events table)", path)
	}
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	// Check the copy before calling it a backup.
	cp, err := sql.Open("sqlite", fileURI(dest)+"?mode=ro")
	if err != nil {
		return fmt.Errorf("open backup: %w", err)
	}
	defer cp.Close()
	var result string
	if err := cp.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&result); err != nil {
		return fmt.Errorf("check backup: %w", err)
	}
	if result != "ok" {
		return fmt.Errorf("check backup: integrity_check says %q", result)
	}
	return nil
}
