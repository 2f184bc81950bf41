package migrate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// book is a Dialect that keeps its version in memory and records what
// it applied.
type book struct {
	version int
	applied []string
	fail    string // a migration name whose Apply fails
}

func (b *book) Current(context.Context) (int, error) { return b.version, nil }

func (b *book) Apply(_ context.Context, m Migration) error {
	if m.Name == b.fail {
		return errors.New("syntax error")
	}
	b.applied = append(b.applied, m.Name)
	b.version = m.Version
	return nil
}

func TestRun(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"migrations/0002_more.sql": {Data: []byte("B")},
		"migrations/0001_init.sql": {Data: []byte("A")},
		"migrations/0010_late.sql": {Data: []byte("C")},
		"migrations/README":        {Data: []byte("not a migration")},
	}
	ms, err := Load(fsys, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if got := []int{ms[0].Version, ms[1].Version, ms[2].Version}; len(ms) != 3 || !slices.Equal(got, []int{1, 2, 10}) || ms[1].SQL != "B" {
		t.Fatalf("Load = %+v", ms)
	}
	for _, tc := range []struct {
		from    int
		applied []string
		err     string
	}{
		{0, []string{"0001_init.sql", "0002_more.sql", "0010_late.sql"}, ""},
		{2, []string{"0010_late.sql"}, ""},
		{10, nil, ""},
		{11, nil, "database schema version 11 is newer than this hookd knows (10)"},
	} {
		b := &book{version: tc.from}
		err := Run(context.Background(), b, ms)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("from %d: error %v, want %q", tc.from, err, tc.err)
		}
		if !slices.Equal(b.applied, tc.applied) {
			t.Errorf("from %d: applied %v, want %v", tc.from, b.applied, tc.applied)
		}
	}
	b := &book{fail: "0002_more.sql"}
	if err := Run(context.Background(), b, ms); err == nil || !strings.Contains(err.Error(), "0002_more.sql: syntax error") {
		t.Errorf("a failing migration: %v", err)
	}
	if !slices.Equal(b.applied, []string{"0001_init.sql"}) {
		t.Errorf("applied after a failure: %v, want only the first", b.applied)
	}
}

func TestLoadRefusesBadNames(t *testing.T) {
	t.Parallel()
	for _, files := range []fstest.MapFS{
		{"m/init.sql": {}},
		{"m/0000_zero.sql": {}},
		{"m/0001_a.sql": {}, "m/1_b.sql": {}},
	} {
		if _, err := Load(files, "m"); err == nil {
			t.Errorf("Load(%v) accepted them", files)
		}
	}
}
