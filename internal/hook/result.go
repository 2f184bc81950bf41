package hook

import "time"

// Result is what the dispatcher learned from one attempt of a claimed
// delivery. Storage backends turn it into state with Decide.
type Result struct {
	DeliveryID string
	// EndpointID is the delivery's endpoint, when the caller knows it
	// (backends may then decide before reading the delivery).
	EndpointID string
	// Lease identifies the claim the attempt was made under; a result whose
	// lease no longer matches the delivery's is recorded but changes
	// nothing (another node took the work after the lease ran out).
	Lease   int64
	Attempt Attempt
	OK      bool      // 2xx within the timeout
	Gone    bool      // the receiver answered 410 Gone
	RetryAt time.Time // when to try again; zero when no retry remains
}

// DeliveryState is the part of a stored delivery that Decide reads.
type DeliveryState struct {
	Status string
	Lease  int64
}

// EndpointState is the part of a stored endpoint that Decide reads.
type EndpointState struct {
	Found               bool // false once deleted
	Enabled             bool
	ConsecutiveFailures int
}

// Transition is what one Result does to its delivery and its endpoint.
type Transition struct {
	// Status is the delivery's new status; NextAttemptAt is set when it
	// stays pending.
	Status        string
	NextAttemptAt time.Time
	// LastStatusCode and LastError are the delivery's new
	// last_status_code and last_error (0 and "": NULL), unless
	// KeepLastError: then the row keeps its status, lease and last
	// values, and only its attempt count grows.
	LastStatusCode int
	LastError      string
	KeepLastError  bool
	// Failures is the endpoint's new consecutive failure count, and
	// SetFailures whether to write it.
	Failures    int
	SetFailures bool
	// Disable, when not empty, is the reason to disable the endpoint with.
	Disable string
}

// Decide applies docs/delivery.md to one attempt result: retries, the end of a
// delivery, the consecutive-failure count and auto-disable. disableAfter
// is --disable-after (0 never disables on failures).
//
// An attempt that was under way when its endpoint was disabled or its
// delivery canceled is recorded but changes nothing, except that a success
// marks the delivery succeeded: the receiver has the event, and recover
// must not send it again.
func Decide(d DeliveryState, ep EndpointState, r Result, disableAfter int) Transition {
	t := decide(d, ep, r, disableAfter)
	if t.KeepLastError {
		return t
	}
	t.LastStatusCode, t.LastError = r.Attempt.StatusCode, r.Attempt.Error
	if t.Status == StatusCanceled {
		t.LastError = CanceledDisabled
		if !ep.Found {
			t.LastError = CanceledDeleted
		}
	}
	return t
}

func decide(d DeliveryState, ep EndpointState, r Result, disableAfter int) Transition {
	owned := d.Status == StatusPending && d.Lease == r.Lease
	if !owned {
		if r.OK && d.Status == StatusCanceled {
			return Transition{Status: StatusSucceeded}
		}
		return Transition{Status: d.Status, KeepLastError: true}
	}
	if !ep.Found || !ep.Enabled {
		if r.OK {
			return Transition{Status: StatusSucceeded}
		}
		return Transition{Status: StatusCanceled}
	}
	switch {
	case r.OK:
		return Transition{Status: StatusSucceeded, Failures: 0, SetFailures: ep.ConsecutiveFailures != 0}
	case r.Gone:
		return Transition{Status: StatusFailed, Failures: ep.ConsecutiveFailures + 1, SetFailures: true, Disable: ReasonGone}
	case !r.RetryAt.IsZero():
		return Transition{Status: StatusPending, NextAttemptAt: r.RetryAt}
	default:
		t := Transition{Status: StatusFailed, Failures: ep.ConsecutiveFailures + 1, SetFailures: true}
		if disableAfter > 0 && t.Failures >= disableAfter {
			t.Disable = ReasonConsecutiveFailures
		}
		return t
	}
}
