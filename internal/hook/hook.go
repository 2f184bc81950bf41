package hook

import (
	"slices"
	"time"
)

// Account is a customer of the platform; its token scopes API calls to it.
type Account struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Signing schemes of an endpoint (docs/receiving.md).
const (
	SigningHMAC    = "hmac-sha256"
	SigningEd25519 = "ed25519"
)

// Reasons an endpoint is disabled.
const (
	ReasonConsecutiveFailures = "consecutive_failures"
	ReasonGone                = "gone"
	ReasonManual              = "manual"
)

// Automatic reports whether reason is one hookd set on its own, whose
// disable and re-enable the operator hears about.
func Automatic(reason string) bool {
	return reason == ReasonConsecutiveFailures || reason == ReasonGone
}

// AllEventTypes is the event-type filter that matches every catalogue type.
const AllEventTypes = "*"

// Key is one signing key of an endpoint: a whsec_ secret for HMAC endpoints
// or a whsk_ private key for ed25519 ones, possibly sealed (encrypted) at
// rest. An endpoint has one current key (ExpiresAt zero) and, after a
// rotation, older keys that keep signing until they expire.
type Key struct {
	Value     string    `json:"value"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// LiveKeys returns the keys of ks that still sign at now, newest first.
func LiveKeys(ks []Key, now time.Time) []Key {
	out := make([]Key, 0, len(ks))
	for _, k := range ks {
		if k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt) {
			out = append(out, k)
		}
	}
	return out
}

// Endpoint is a customer URL that receives the events it subscribes to.
type Endpoint struct {
	ID          string
	AccountID   string
	URL         string
	Description string
	EventTypes  []string
	Signing     string
	// Keys are the signing keys, newest first. They never leave hookd
	// except through the secret routes of the API.
	Keys []Key
	// PublicKey is the whpk_ key of an ed25519 endpoint's current key.
	PublicKey string
	// Headers are sent with every delivery and test (values sealed at
	// rest like keys); nil: none.
	Headers []Header
	// Filter is the payload filter's JSON text (internal/filter); nil:
	// every event of the subscribed types.
	Filter []byte
	// RateLimit is the most deliveries per second to this endpoint,
	// across all nodes; 0: no limit.
	RateLimit           int
	Enabled             bool
	DisabledReason      string // empty while enabled
	DisabledAt          time.Time
	ConsecutiveFailures int
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Subscribes reports whether the endpoint's filter takes events of type t.
func (e *Endpoint) Subscribes(t string) bool {
	return slices.Contains(e.EventTypes, AllEventTypes) || slices.Contains(e.EventTypes, t)
}

// Event is an accepted event; Body is its envelope exactly as it is sent.
type Event struct {
	ID        string
	AccountID string
	Type      string
	Body      []byte
	CreatedAt time.Time
}

// Delivery triggers (docs/delivery.md).
const (
	TriggerScheduled = "scheduled"
	TriggerTest      = "test"
	TriggerRedeliver = "redeliver"
	TriggerRecover   = "recover"
)

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusCanceled  = "canceled"
)

// Delivery is the work of getting one event to one endpoint: a first
// attempt and its retries.
type Delivery struct {
	ID         string
	EventID    string
	EndpointID string
	AccountID  string
	Trigger    string
	Status     string
	Attempts   int
	// NextAttemptAt is when the next attempt may start; zero unless pending.
	NextAttemptAt  time.Time
	LastStatusCode int // 0: no response yet, or none at all
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Attempt is one HTTP request of a delivery and what came of it.
type Attempt struct {
	ID         string
	DeliveryID string
	Number     int
	Trigger    string
	StartedAt  time.Time
	Duration   time.Duration
	StatusCode int    // 0 when no response was received
	Error      string // empty on success; else "code: detail" (docs/delivery.md)
	// ResponseBody is the start of the response body (at most 4 KiB).
	ResponseBody string
	// RequestHeaders are the headers sent, with signatures redacted.
	RequestHeaders map[string]string
}

// Attempt error codes: the stable prefix of Attempt.Error.
const (
	ErrCodeTimeout       = "timeout"
	ErrCodeDNS           = "dns"
	ErrCodeConnect       = "connect"
	ErrCodeTLS           = "tls"
	ErrCodeRedirect      = "redirect"
	ErrCodeHTTPStatus    = "http_status"
	ErrCodeBlockedTarget = "blocked_target"
	ErrCodeCanceled      = "canceled"
)

// CanceledDisabled is the last_error of a delivery canceled because its
// endpoint was disabled or deleted.
const (
	CanceledDisabled = "canceled: endpoint disabled"
	CanceledDeleted  = "canceled: endpoint deleted"
)

// RotateKeys returns the keys after a rotation to next at now: next first,
// then the keys that were current, now expiring after overlap, then older
// keys still live. Expired keys are dropped.
func RotateKeys(keys []Key, next Key, overlap time.Duration, now time.Time) []Key {
	out := []Key{next}
	for _, k := range LiveKeys(keys, now) {
		if k.ExpiresAt.IsZero() {
			k.ExpiresAt = now.Add(overlap)
		}
		if now.Before(k.ExpiresAt) {
			out = append(out, k)
		}
	}
	return out
}
