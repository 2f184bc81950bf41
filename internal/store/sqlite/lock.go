package sqlite

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
)

// errInUse is wrapped by the error of an Open that finds the database
// held by another Store, in this process or another.
var errInUse = errors.New("in use by another hookd process")

// dbFiles prepares the database at path for Open: it creates the file
// (mode 0600) if it does not exist, so that SQLite, which gives its WAL
// and shared-memory files the database file's mode, never creates any of
// them group- or world-readable whatever the umask; it resolves the path
// SQLite will use (symbolic links and relative spellings followed); it
// takes the one-writer lock on the file itself (see lockDB, per platform)
// and refuses a file with more than one hard link (SQLite names the WAL
// after the name it was opened by, so a second name could skip or replay
// a WAL that belongs to the other); and it narrows to 0600 an existing
// database, WAL or shared-memory file that others could read.
//
// The returned closer releases the lock.
func dbFiles(path string) (real string, lock io.Closer, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, fmt.Errorf("database path %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return "", nil, fmt.Errorf("create database directory: %w", err)
	}
	var l io.Closer // the lock, once taken
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", nil, fmt.Errorf("open database %s: %w", path, err)
	}
	defer func() {
		if err != nil && l == nil {
			f.Close()
		}
	}()
	if real, err = filepath.EvalSymlinks(abs); err != nil {
		return "", nil, fmt.Errorf("open database %s: %w", path, err)
	}
	name := path
	if real != abs {
		name = fmt.Sprintf("%s (%s)", path, real)
	}
	l, err = lockDB(f, real)
	if err != nil {
		if errors.Is(err, errInUse) {
			return "", nil, fmt.Errorf("database %s is %w", name, errInUse)
		}
		return "", nil, fmt.Errorf("lock database %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			l.Close() // f too, when the lock is f
			if l != io.Closer(f) {
				f.Close()
			}
		}
	}()
	if n, err := links(f); err != nil {
		return "", nil, fmt.Errorf("open database %s: %w", name, err)
	} else if n > 1 {
		return "", nil, fmt.Errorf("database %s has %d hard links: SQLite keys its WAL on the file's name, "+
			"so hookd opens a database only by its one name; remove the other links", name, n)
	}
	if runtime.GOOS != "windows" {
		for _, p := range []string{real, real + "-wal", real + "-shm"} {
			if err := narrow(p); err != nil {
				return "", nil, err
			}
		}
	}
	if l != io.Closer(f) {
		// The lock is held elsewhere (a lock file): f has done its job.
		if err := f.Close(); err != nil {
			return "", nil, fmt.Errorf("open database %s: %w", name, err)
		}
	}
	return real, l, nil
}

// narrow makes the file at p, if it exists, readable and writable by its
// owner only. It fails, naming the file, when it cannot: the file may
// hold signing secrets.
func narrow(p string) error {
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("database file %s: %w", p, err)
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(p, 0o600); err != nil {
		return fmt.Errorf("database file %s has mode %04o and hookd cannot make it 0600 (it may hold signing secrets): %w",
			p, fi.Mode().Perm(), err)
	}
	return nil
}
