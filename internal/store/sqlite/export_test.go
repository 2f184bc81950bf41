package sqlite

// Checkpoint runs one pass of the checkpointer and returns the WAL's size
// in pages as it found it.
func (s *Store) Checkpoint() int { return s.checkpoint() }

// SetWALRestart sets the WAL size, in pages, past which the checkpointer
// makes the log start over.
func (s *Store) SetWALRestart(pages int) { s.walRestart.Store(int64(pages)) }

// FailNextCommit makes the writer's next commit fail: the transaction is
// rolled back and every op of its batch gets the error.
func (s *Store) FailNextCommit() { s.failCommit.Store(true) }
