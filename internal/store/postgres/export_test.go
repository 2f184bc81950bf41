package postgres

// FailNextCommit makes the next transaction fail at its commit: it is
// rolled back and the call gets the error.
func (s *Store) FailNextCommit() { s.failCommit.Store(true) }
