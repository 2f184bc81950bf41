//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package sqlite

import (
	"fmt"
	"io"
	"os"
)

// lockDB takes an exclusive flock on a lock file beside the database's
// resolved path. Unlike on Linux it cannot lock the database file
// itself: on the BSDs (macOS included) flock and the fcntl locks SQLite
// takes are one mechanism and would conflict. Every spelling of the path
// resolves to the same name, and links (called by dbFiles) refuses a
// database with a second hard link, so no other name can bypass it.
func lockDB(_ *os.File, real string) (io.Closer, error) {
	f, err := os.OpenFile(real+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := flock(f); err != nil {
		f.Close()
		return nil, err
	}
	if err := narrow(real + ".lock"); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
