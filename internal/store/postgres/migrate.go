package postgres

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/store/migrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrateLockKey is the pg_advisory_xact_lock key that serializes
// migrations between nodes starting at once ("hookd" in ASCII).
const migrateLockKey = 0x686f6f6b64

// Migrate creates or upgrades the schema of the database at url and
// returns; Open does the same before it starts. It fails if the database
// schema is newer than this binary knows.
//
// All pending migrations run in one transaction that first takes an
// advisory lock, so nodes that start at once apply them once: the others
// wait for the lock and then find nothing to do.
func Migrate(ctx context.Context, url string, opts Options) error {
	opts = opts.withDefaults()
	ms, err := migrate.Load(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("parse database url: %w", err)
	}
	// A migration may run for long on a big database, and the other
	// nodes wait for its lock: no statement timeout here.
	setRuntimeParams(cfg, opts, 0)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLockKey)); err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, opts.Schema).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			if _, err := tx.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{opts.Schema}.Sanitize()); err != nil {
				return fmt.Errorf("create schema %s: %w", opts.Schema, err)
			}
		}
		return migrate.Run(ctx, dialect{tx}, ms)
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// dialect keeps PostgreSQL's schema version for internal/store/migrate,
// inside Migrate's one transaction.
type dialect struct{ tx pgx.Tx }

func (d dialect) Current(ctx context.Context) (int, error) {
	if _, err := d.tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		applied_at timestamptz NOT NULL
	)`); err != nil {
		return 0, err
	}
	var current int
	err := d.tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current)
	return current, err
}

// Apply runs m inside the transaction of all the pending migrations:
// a failure rolls all of them back.
func (d dialect) Apply(ctx context.Context, m migrate.Migration) error {
	if _, err := d.tx.Exec(ctx, m.SQL); err != nil {
		return err
	}
	_, err := d.tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, m.Version, time.Now().UTC())
	return err
}
