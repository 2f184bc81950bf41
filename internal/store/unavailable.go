package store

import (
	"errors"
	"fmt"
)

// Unavailable is the classification every backend applies at its
// boundary: err comes back wrapped in ErrUnavailable when outage, the
// backend's reading of its driver's errors, says the database cannot
// serve for now; any other error (a constraint, a bug) and nil come back
// as they are, and so does an error already wrapped.
func Unavailable(err error, outage func(error) bool) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !outage(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
