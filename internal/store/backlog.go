package store

import "time"

// BacklogParams asks for the delivery backlog at Now.
type BacklogParams struct {
	Now time.Time
	// Limit caps the count of due deliveries, so that the work per call
	// stays bounded however long the queue is. 0 or less means
	// DefaultBacklogLimit.
	Limit int
}

// DefaultBacklogLimit is the count cap of BacklogParams.Limit when it is 0.
const DefaultBacklogLimit = 10_000

// Backlog is the delivery queue as DeliveryBacklog sees it. A delivery is
// due when it is pending, its next attempt time has come, and no node holds
// a live lease on it: it waits for a worker. Deliveries waiting for a retry
// (next attempt in the future) and leased ones are not due.
type Backlog struct {
	// Due is the number of due deliveries, at most the limit.
	Due int
	// Capped is true when there are at least as many as the limit: Due is
	// then a lower bound.
	Capped bool
	// OldestDue is when the longest-waiting due delivery became due; the
	// zero time when none is due.
	OldestDue time.Time
}

// EndpointCounts counts endpoints that are not deleted.
type EndpointCounts struct {
	Enabled  int
	Disabled int
}

// PoolStats describes a database connection pool. A backend with a pool of
// its own (PostgreSQL) reports it with a PoolStats() PoolStats method.
type PoolStats struct {
	// Max is the pool's size; Total = Acquired + Idle + Constructing.
	Max, Total, Acquired, Idle, Constructing int
	// Acquires counts connections taken from the pool; EmptyAcquires
	// those that found none free and waited; AcquireWait is the time
	// spent waiting, in all. They only grow.
	Acquires, EmptyAcquires int64
	AcquireWait             time.Duration
}
