package sqlite

import (
	"io"
	"os"
)

// lockDB takes an exclusive flock on the database file itself, so the
// lock belongs to the file (its inode), not to a name: a symbolic link, a
// hard link, a bind mount or a relative path all meet the same lock. On
// Linux flock locks and the fcntl (POSIX) locks SQLite takes are
// independent, so this lock never gets in SQLite's way; it is released
// when f is closed, and by the kernel if the process dies.
//
// One caveat of POSIX locks remains: closing any descriptor of a file
// drops every fcntl lock the process holds on it. A second Open of a held
// database in the same process closes its descriptor after the refusal,
// so the first store's SQLite locks are dropped; no other process can
// take the database meanwhile (the flock stays), and hookd opens a
// database once per process.
func lockDB(f *os.File, _ string) (io.Closer, error) {
	if err := flock(f); err != nil {
		return nil, err
	}
	return f, nil
}
