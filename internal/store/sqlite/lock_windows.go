package sqlite

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/windows"
)

// lockDB takes an exclusive LockFileEx lock on a lock file beside the
// database's resolved path. It does not lock the database file itself:
// Windows byte-range locks are mandatory and SQLite locks ranges of that
// file too. Every spelling of the path resolves to the same name, and
// links (called by dbFiles) refuses a database with a second hard link.
// Windows releases the lock when the handle closes or the process ends.
func lockDB(_ *os.File, real string) (io.Closer, error) {
	f, err := os.OpenFile(real+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	ol := new(windows.Overlapped)
	err = windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if err != nil {
		f.Close()
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
			return nil, errInUse
		}
		return nil, err
	}
	return f, nil
}

// links returns how many hard links the file has.
func links(f *os.File) (int, error) {
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &info); err != nil {
		return 0, err
	}
	return int(info.NumberOfLinks), nil
}
