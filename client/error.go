package client

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date;
// zero if absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Error codes of the API (docs/api.md). Error.Code is one of these for every
// answer that carries hookd's error body; answers without one get
// "http_<status>", such as "http_502" from a proxy.
const (
	CodeInvalidJSON         = "invalid_json"         // 400: the request body is not valid JSON
	CodeInvalidParameter    = "invalid_parameter"    // 400: a bad query parameter or body field, named in Field
	CodeInvalidReference    = "invalid_reference"    // 400: an id in the body that does not exist, named in Field
	CodeInvalidLimit        = "invalid_limit"        // 400: a limit outside 1–500
	CodeInvalidURL          = "invalid_url"          // 400: an endpoint URL hookd does not accept
	CodeInvalidEventTypes   = "invalid_event_types"  // 400: an endpoint's event_types is not a valid filter
	CodeInvalidFilter       = "invalid_filter"       // 400: an endpoint's payload filter is not valid
	CodeInvalidEvent        = "invalid_event"        // 400: event data does not match its schema; Field is the dotted path
	CodeUnknownEventType    = "unknown_event_type"   // 400: an event type not in the catalogue
	CodeUnknownField        = "unknown_field"        // 400: a body field the API does not know
	CodeUnauthorized        = "unauthorized"         // 401: a missing or wrong token
	CodeForbidden           = "forbidden"            // 403: an admin-only route called with an account token
	CodeNotFound            = "not_found"            // 404: no such object (or not the account's)
	CodeMethodNotAllowed    = "method_not_allowed"   // 405
	CodeIdempotencyConflict = "idempotency_conflict" // 409: an idempotency key reused with another event or data
	CodeEndpointDisabled    = "endpoint_disabled"    // 409: recover or redeliver to a disabled endpoint
	CodeAlreadyPending      = "already_pending"      // 409: the event already has a pending delivery to the endpoint
	CodeNotRedeliverable    = "not_redeliverable"    // 409: test deliveries cannot be redelivered
	CodePayloadTooLarge     = "payload_too_large"    // 413: the request body is too large
	CodeURITooLong          = "uri_too_long"         // 414: the path and query are over 8 KiB
	CodeHeadersTooLarge     = "headers_too_large"    // 431: the request headers are over 64 KiB
	CodeRateLimited         = "rate_limited"         // 429
	CodeUnavailable         = "unavailable"          // 503: the database is out for now; see Error.RetryAfter
	CodeInternal            = "internal"             // 500
)

// Error is an answer from the server with a status other than 2xx.
type Error struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code is the stable error code, one of the Code constants, or
	// "http_<status>" if the body was not hookd's JSON error.
	Code string
	// Message describes the problem for people. For a body that was not
	// hookd's JSON error, it is a short snippet of that body, or the
	// status text if the body was empty.
	Message string
	// Field names the input at fault, if one is: a body field, a query
	// parameter, or a dotted path into event data ("data.from.number").
	Field string
	// RetryAfter is how long the answer's Retry-After header asks to wait
	// before trying again (429, 503); zero without one.
	RetryAfter time.Duration
}

// Error returns the status, code, message and field, e.g.
// "hookd: 400 invalid_url: The URL must use https. (field url)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("hookd: ")
	if e.StatusCode != 0 { // 0: one event's error in a batch's answer
		b.WriteString(strconv.Itoa(e.StatusCode))
		b.WriteByte(' ')
	}
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Field != "" {
		b.WriteString(" (field ")
		b.WriteString(e.Field)
		b.WriteByte(')')
	}
	return b.String()
}

// ErrorCode returns the code of err if it is, or wraps, an *Error, and ""
// otherwise (nil, a network error, a canceled context).
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// maxSnippet bounds the Message taken from a body that is not hookd's
// JSON error.
const maxSnippet = 200

// newError turns a non-2xx answer into an *Error.
func newError(status int, body []byte) *Error {
	var eb struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &eb) == nil && eb.Error != nil && eb.Error.Code != "" {
		return &Error{StatusCode: status, Code: eb.Error.Code, Message: eb.Error.Message, Field: eb.Error.Field}
	}
	msg := snippet(body)
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &Error{StatusCode: status, Code: "http_" + strconv.Itoa(status), Message: msg}
}

// snippet returns the start of body as one line of valid UTF-8 with no
// control characters, cut at maxSnippet bytes.
func snippet(body []byte) string {
	if len(body) > 4*maxSnippet {
		body = body[:4*maxSnippet]
	}
	s := strings.ToValidUTF8(string(body), "")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r < 0x20 || r == 0x7f || r == utf8.RuneError
	}), " ")
	if len(s) <= maxSnippet {
		return s
	}
	cut := maxSnippet
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
