package hook

import (
	"errors"
	"fmt"
)

// Error codes. They are the stable strings of the API's error body
// ({"error":{"code",…}}); internal/httpapi maps each to an HTTP status.
const (
	EInvalidJSON         = "invalid_json"
	EInvalidParameter    = "invalid_parameter"
	EInvalidReference    = "invalid_reference"
	EInvalidLimit        = "invalid_limit"
	EInvalidURL          = "invalid_url"
	EInvalidEventTypes   = "invalid_event_types"
	EInvalidEvent        = "invalid_event"
	EInvalidFilter       = "invalid_filter"
	EUnknownEventType    = "unknown_event_type"
	EUnknownField        = "unknown_field"
	EUnauthorized        = "unauthorized"
	EForbidden           = "forbidden"
	ENotFound            = "not_found"
	EMethodNotAllowed    = "method_not_allowed"
	EPayloadTooLarge     = "payload_too_large"
	EIdempotencyConflict = "idempotency_conflict"
	EEndpointDisabled    = "endpoint_disabled"
	EAlreadyPending      = "already_pending"
	ENotRedeliverable    = "not_redeliverable"
	ERateLimited         = "rate_limited"
	EUnavailable         = "unavailable"
	EInternal            = "internal"
)

// Error is a failure a user can act on: a stable code, a message for
// people, and, where one input is to blame, the name of that field.
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return e.Code + ": " + e.Message
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an *Error that names the field at fault.
func FieldErrorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// EInternal for any other non-nil error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// NotFound returns the ENOTFOUND error for a kind of object ("endpoint").
func NotFound(kind string) *Error {
	return Errorf(ENotFound, "No such %s.", kind)
}
