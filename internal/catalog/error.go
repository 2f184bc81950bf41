package catalog

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Error codes of Error, as the HTTP API reports them (docs/api.md).
const (
	// CodeInvalidEvent means the data does not match the event type's schema
	// or is not acceptable JSON.
	CodeInvalidEvent = "invalid_event"
	// CodeUnknownEventType means the event type is not in the catalogue or is
	// one of hookd's own.
	CodeUnknownEventType = "unknown_event_type"
)

// Error is why Validate rejected an event.
type Error struct {
	// Code is CodeInvalidEvent or CodeUnknownEventType.
	Code string
	// Field is the dotted path of the offending value from the envelope root:
	// "event", "data", "data.from.number", "data.transcript.0.text". For a
	// missing property it is the path the property should have.
	Field string
	// Message says what is wrong with Field in plain words, without naming
	// it: "is required", "must be one of inbound, outbound".
	Message string
}

// Error returns the code, the field and the message, such as
// "invalid_event: data.from.number is required".
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Code + ": " + e.Message
	}
	return e.Code + ": " + e.Field + " " + e.Message
}

// Messages for the schemas' patterns and formats, which say more than the
// library's ("does not match pattern ...").
const (
	msgPhoneNumber = "must be an E.164 phone number such as +14155550123"
	msgTimestamp   = "must be an RFC 3339 timestamp such as 2026-11-27T12:30:00.000Z"
	msgURL         = "must be an absolute https URL"
)

// patternMessages maps the schemas' patterns to their messages.
var patternMessages = map[string]string{
	`^\+[1-9][0-9]{1,14}$`:            msgPhoneNumber,
	`^https://[^\s/?#@]+([/?#]\S*)?$`: msgURL,
}

// formatMessages maps the schemas' formats to their messages.
var formatMessages = map[string]string{
	"date-time": msgTimestamp,
	"uri":       msgURL,
}

// schemaError turns the error of jsonschema's Validate into an *Error about
// the most specific problem: the leaf error with the deepest instance
// location, ties broken by path (array indexes in numeric order) and then by
// message, so the same input always gets the same answer.
func schemaError(err error) *Error {
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return &Error{Code: CodeInvalidEvent, Field: "data", Message: "is invalid: " + err.Error()}
	}
	type candidate struct {
		path []string
		msg  string
	}
	var candidates []candidate
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		p, msg := describe(e)
		candidates = append(candidates, candidate{p, msg})
	}
	walk(verr)
	if len(candidates) == 0 {
		return &Error{Code: CodeInvalidEvent, Field: "data", Message: "is invalid"}
	}
	best := slices.MinFunc(candidates, func(a, b candidate) int {
		if c := cmp.Compare(len(b.path), len(a.path)); c != 0 {
			return c // deeper first
		}
		if c := comparePaths(a.path, b.path); c != 0 {
			return c
		}
		return strings.Compare(a.msg, b.msg)
	})
	return &Error{Code: CodeInvalidEvent, Field: fieldPath(best.path), Message: best.msg}
}

// describe returns the instance path and message of a leaf error.
func describe(e *jsonschema.ValidationError) ([]string, string) {
	p := e.InstanceLocation
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		// Point at the missing property, not at the object lacking it.
		return append(slices.Clip(p), k.Missing[0]), "is required"
	case *kind.Type:
		return p, "must be " + typeNames(k.Want)
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		return p, "must be one of " + strings.Join(want, ", ")
	case *kind.Pattern:
		if msg, ok := patternMessages[k.Want]; ok {
			return p, msg
		}
		return p, "must match the pattern " + k.Want
	case *kind.Format:
		if msg, ok := formatMessages[k.Want]; ok {
			return p, msg
		}
		return p, "must be a valid " + k.Want
	case *kind.MinLength:
		if k.Want == 1 {
			return p, "must not be empty"
		}
		return p, fmt.Sprintf("must be at least %d characters long", k.Want)
	case *kind.Minimum:
		return p, "must be " + k.Want.RatString() + " or greater"
	}
	return p, e.ErrorKind.LocalizedString(english)
}

// english prints the library's messages for kinds the schemas do not use.
var english = message.NewPrinter(language.English)

// typeNames spells JSON types for a message: "a string", "a JSON object or
// null" (null last, whatever the schema's order).
func typeNames(types []string) string {
	types = slices.Clone(types)
	isNull := func(t string) int {
		if t == "null" {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(types, func(a, b string) int {
		return cmp.Compare(isNull(a), isNull(b))
	})
	names := make([]string, len(types))
	for i, t := range types {
		switch t {
		case "object":
			names[i] = "a JSON object"
		case "array":
			names[i] = "an array"
		case "integer":
			names[i] = "an integer"
		case "null":
			names[i] = "null"
		default:
			names[i] = "a " + t
		}
	}
	return strings.Join(names, " or ")
}

// comparePaths orders instance paths segment by segment, numeric segments
// (array indexes) by value.
func comparePaths(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] == b[i] {
			continue
		}
		x, errX := strconv.Atoi(a[i])
		y, errY := strconv.Atoi(b[i])
		if errX == nil && errY == nil && x != y {
			return cmp.Compare(x, y)
		}
		return strings.Compare(a[i], b[i])
	}
	return cmp.Compare(len(a), len(b))
}

// fieldPath is the dotted path of an instance location from the envelope
// root: "data", "data.from.number".
func fieldPath(segments []string) string {
	var b strings.Builder
	b.WriteString("data")
	for _, s := range segments {
		b.WriteByte('.')
		b.WriteString(s)
	}
	return b.String()
}
