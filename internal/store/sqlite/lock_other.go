//go:build !linux && !windows && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package sqlite

import (
	"errors"
	"io"
	"os"
	"runtime"
)

// lockDB fails: hookd knows no way to lock a database file on this
// system, and two processes writing one SQLite database lose deliveries.
func lockDB(*os.File, string) (io.Closer, error) {
	return nil, errors.New("hookd cannot lock a SQLite database on " + runtime.GOOS + "; use PostgreSQL")
}

func links(*os.File) (int, error) { return 1, nil }
