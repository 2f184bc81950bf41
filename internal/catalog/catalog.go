// Package catalog is hookd's catalogue of event types: their names, JSON
// Schemas (draft 2020-12) and examples, and the validation and normalisation
// of the `data` a producer submits (docs/api.md, POST /v1/events).
//
// The catalogue holds the subscribable types call.received and sms.received.
// webhook.test and the operator events endpoint.disabled and endpoint.enabled
// are hookd's own: they are not in the catalogue, producers cannot submit
// them and endpoints cannot subscribe to them.
//
// Validate parses `data` with its own strict JSON reader rather than
// encoding/json, because encoding/json silently keeps the last of duplicate
// keys, replaces invalid UTF-8 and re-escapes strings on output. The reader
// keeps every string and number token byte for byte, so extra properties pass
// through unchanged; it rejects duplicate keys (a receiver's parser might pick
// a different duplicate than the one that was validated) and nesting deeper
// than MaxDepth. The only values hookd rewrites are the timestamps of the known
// fields, which are converted to UTC with millisecond precision.
package catalog

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Event type names.
const (
	// CallReceived is sent when a call finished.
	CallReceived = "call.received"
	// SMSReceived is sent when an SMS or MMS message arrived.
	SMSReceived = "sms.received"
	// WebhookTest is the event hookd sends when an endpoint is tested. It is
	// hookd's own: not in the catalogue, not submittable, not subscribable.
	WebhookTest = "webhook.test"
	// EndpointDisabled is the operator event for an automatic disable. It is
	// hookd's own.
	EndpointDisabled = "endpoint.disabled"
	// EndpointEnabled is the operator event for re-enabling an endpoint that
	// was disabled automatically. It is hookd's own.
	EndpointEnabled = "endpoint.enabled"
)

// MaxDepth is how deeply objects and arrays may nest in `data`, counting the
// `data` object itself as level 1. Deeper input is rejected as invalid_event,
// so no input can exhaust the stack.
const MaxDepth = 64

// EventType describes one subscribable event type, as listed by
// GET /v1/event-types.
type EventType struct {
	Event       string          `json:"event"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`  // JSON Schema of data
	Example     json.RawMessage `json:"example"` // a valid data object
}

// clone returns a copy of t that shares no memory with it.
func (t EventType) clone() EventType {
	t.Schema = bytes.Clone(t.Schema)
	t.Example = bytes.Clone(t.Example)
	return t
}

// Catalog is the catalogue of event types with their compiled schemas. It is
// immutable after New and safe for concurrent use.
type Catalog struct {
	entries map[string]*entry
	names   []string // sorted
}

// entry is one catalogue type.
type entry struct {
	schema      *jsonschema.Schema
	timestampAt func(path []frame) bool // the known timestamp fields
	typ         EventType
}

// internalTypes are hookd's own event types.
var internalTypes = []string{EndpointDisabled, EndpointEnabled, WebhookTest}

// timestampFields says, per event type, which values of data are timestamps
// that Validate normalises. They match the "$ref": "#/$defs/timestamp"
// properties of the schemas (a test checks this).
var timestampFields = map[string]func(path []frame) bool{
	CallReceived: func(p []frame) bool {
		switch len(p) {
		case 1:
			return p[0].key == "started_at" || p[0].key == "ended_at"
		case 3:
			return p[0].key == "transcript" && p[1].index >= 0 && p[2].key == "at"
		}
		return false
	},
	SMSReceived: func(p []frame) bool {
		return len(p) == 1 && p[0].key == "received_at"
	},
}

//go:embed schemas/*.json examples/*.json
var files embed.FS

// New compiles the embedded schemas and checks the embedded examples against
// them. An error means the embedded files are broken, which tests catch.
func New() (*Catalog, error) {
	c := &Catalog{entries: make(map[string]*entry)}
	schemaFiles, err := files.ReadDir("schemas")
	if err != nil {
		return nil, fmt.Errorf("read schemas: %w", err)
	}
	for _, f := range schemaFiles {
		name := strings.TrimSuffix(f.Name(), ".json")
		e, err := load(name)
		if err != nil {
			return nil, fmt.Errorf("event type %s: %w", name, err)
		}
		c.entries[name] = e
		c.names = append(c.names, name)
	}
	slices.Sort(c.names)
	return c, nil
}

// load reads, compiles and checks one event type.
func load(name string) (*entry, error) {
	timestampAt, ok := timestampFields[name]
	if !ok {
		return nil, fmt.Errorf("no timestamp fields declared")
	}
	schemaJSON, err := files.ReadFile(path.Join("schemas", name+".json"))
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	exampleJSON, err := files.ReadFile(path.Join("examples", name+".json"))
	if err != nil {
		return nil, fmt.Errorf("read example: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	description, _ := doc.(map[string]any)["description"].(string)
	if description == "" {
		return nil, fmt.Errorf("schema has no description")
	}

	// The URL only names the schema inside the compiler; nothing is fetched.
	url := "urn:hookd:schema:" + name
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2020)
	compiler.AssertFormat() // in draft 2020-12, format is only an annotation by default
	if err := compiler.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("add schema: %w", err)
	}
	schema, err := compiler.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}

	var compactSchema, compactExample bytes.Buffer
	if err := json.Compact(&compactSchema, schemaJSON); err != nil {
		return nil, fmt.Errorf("compact schema: %w", err)
	}
	if err := json.Compact(&compactExample, exampleJSON); err != nil {
		return nil, fmt.Errorf("compact example: %w", err)
	}
	e := &entry{
		schema:      schema,
		timestampAt: timestampAt,
		typ: EventType{
			Event:       name,
			Description: description,
			Schema:      compactSchema.Bytes(),
			Example:     compactExample.Bytes(),
		},
	}
	if _, err := e.validate(e.typ.Example); err != nil {
		return nil, fmt.Errorf("example: %w", err)
	}
	return e, nil
}

// Types returns the subscribable event types sorted by name: call.received,
// sms.received. The result is the caller's to modify.
func (c *Catalog) Types() []EventType {
	types := make([]EventType, 0, len(c.names))
	for _, name := range c.names {
		types = append(types, c.entries[name].typ.clone())
	}
	return types
}

// Subscribable reports whether endpoints may subscribe to event: true for the
// catalogue types, false for hookd's own types (webhook.test, endpoint.*) and
// for unknown names.
func (c *Catalog) Subscribable(event string) bool {
	_, ok := c.entries[event]
	return ok
}

// Lookup returns the catalogue type named event. Like Types, it knows only
// the subscribable types: for webhook.test, endpoint.* and unknown names it
// returns false.
func (c *Catalog) Lookup(event string) (EventType, bool) {
	e, ok := c.entries[event]
	if !ok {
		return EventType{}, false
	}
	return e.typ.clone(), true
}

// Validate checks data, the raw JSON bytes of an event's `data` member, against
// the schema of event and returns the normalised data: compact JSON whose
// known timestamp fields are in UTC with millisecond precision (FormatTime;
// extra digits are truncated, not rounded), with every other string and
// number byte for byte as submitted and object members in submitted order.
// Validating the result again returns it unchanged.
//
// The error is always an *Error. Its Code is CodeUnknownEventType (Field
// "event") if event is not a catalogue type, hookd's own types included, and
// CodeInvalidEvent otherwise, with Field the dotted path of the offending
// value from the envelope root ("data", "data.from.number",
// "data.transcript.0.text"). data is rejected if it is empty, not valid JSON,
// not valid UTF-8, not an object, has a duplicate key in any object, nests
// deeper than MaxDepth or does not match the schema. Timestamps must be
// RFC 3339 with a year from 0000 to 9999 also in UTC; leap seconds (:60) are
// rejected because Go's time package cannot represent them.
func (c *Catalog) Validate(event string, data []byte) (json.RawMessage, error) {
	e, ok := c.entries[event]
	if !ok {
		return nil, c.unknownEventType(event)
	}
	out, verr := e.validate(data)
	if verr != nil {
		return nil, verr
	}
	return out, nil
}

// validate is Validate for one type. It returns *Error rather than error so
// that a nil result never becomes a non-nil interface.
func (e *entry) validate(data []byte) (json.RawMessage, *Error) {
	value, out, timeErr, err := normalise(data, e.timestampAt)
	if err != nil {
		return nil, err
	}
	if err := e.schema.Validate(value); err != nil {
		return nil, schemaError(err)
	}
	if timeErr != nil {
		return nil, timeErr
	}
	return out, nil
}

// unknownEventType is the error for an event type producers may not submit.
func (c *Catalog) unknownEventType(event string) *Error {
	msg := "must be one of " + strings.Join(c.names, ", ")
	if slices.Contains(internalTypes, event) {
		msg += " (" + event + " is sent by hookd itself)"
	}
	return &Error{Code: CodeUnknownEventType, Field: "event", Message: msg}
}
