// Package migrate is the schema migration runner of both storage
// backends: it reads a backend's embedded migrations/NNNN_name.sql files
// and applies, in version order, those newer than the database's version.
// What differs by database (the version table's types, transactions,
// PostgreSQL's advisory lock) is the backend's Dialect.
package migrate

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one schema change.
type Migration struct {
	Version int    // the NNNN of its file name, from 1
	Name    string // the file name
	SQL     string
}

// Load returns the migrations dir/*.sql of fsys in version order. A
// name that does not start with a positive version, or two files of one
// version, is an error.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Migration
	for _, name := range names {
		base := path.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad migration name %s", base)
		}
		if len(out) > 0 && out[len(out)-1].Version >= v {
			return nil, fmt.Errorf("migration %s: version %d out of order", base, v)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: base, SQL: string(body)})
	}
	return out, nil
}

// Dialect is how one database keeps its schema version and runs a
// migration.
type Dialect interface {
	// Current creates the version table if need be and returns the
	// newest version applied, 0 for none.
	Current(ctx context.Context) (int, error)
	// Apply runs m and records its version, both or neither.
	Apply(ctx context.Context, m Migration) error
}

// Run applies, in order, the migrations of ms newer than the database's
// version. It refuses a database whose version is newer than the last of
// ms: a newer hookd wrote it.
func Run(ctx context.Context, d Dialect, ms []Migration) error {
	current, err := d.Current(ctx)
	if err != nil {
		return err
	}
	if len(ms) > 0 {
		if last := ms[len(ms)-1].Version; current > last {
			return fmt.Errorf("database schema version %d is newer than this hookd knows (%d): upgrade hookd", current, last)
		}
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		if err := d.Apply(ctx, m); err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	return nil
}
