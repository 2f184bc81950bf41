package catalog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/catalog"
)

// mustNew returns the catalogue, shared by all tests (it is immutable).
var mustNew = sync.OnceValues(catalog.New)

func newCatalog(tb testing.TB) *catalog.Catalog {
	tb.Helper()
	c, err := mustNew()
	if err != nil {
		tb.Fatalf("New() error = %v", err)
	}
	return c
}

// example returns the example data of event, decoded with json.Number.
func example(tb testing.TB, event string) map[string]any {
	tb.Helper()
	typ, ok := newCatalog(tb).Lookup(event)
	if !ok {
		tb.Fatalf("Lookup(%s) = false", event)
	}
	dec := json.NewDecoder(bytes.NewReader(typ.Example))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		tb.Fatalf("decode example: %v", err)
	}
	return m
}

// marshal encodes v without HTML escaping.
func marshal(tb testing.TB, v any) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		tb.Fatalf("encode: %v", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// lookup walks a dotted path ("from.number", "transcript.0") from d and
// returns the container holding its last segment and that segment.
func lookup(tb testing.TB, d any, path string) (container any, last string) {
	tb.Helper()
	segments := strings.Split(path, ".")
	for _, s := range segments[:len(segments)-1] {
		switch c := d.(type) {
		case map[string]any:
			d = c[s]
		case []any:
			i, _ := strconv.Atoi(s)
			d = c[i]
		default:
			tb.Fatalf("path %s: %T is not a container", path, d)
		}
	}
	return d, segments[len(segments)-1]
}

// set sets the value at path in d.
func set(tb testing.TB, d map[string]any, path string, v any) {
	tb.Helper()
	switch c, last := lookup(tb, d, path); c := c.(type) {
	case map[string]any:
		c[last] = v
	case []any:
		i, _ := strconv.Atoi(last)
		c[i] = v
	}
}

// del deletes the object member at path in d.
func del(tb testing.TB, d map[string]any, path string) {
	tb.Helper()
	c, last := lookup(tb, d, path)
	delete(c.(map[string]any), last)
}

// checkError checks that err is an *Error with the given code, field and
// message (when msg is not empty).
func checkError(t *testing.T, call string, err error, code, field, msg string) {
	t.Helper()
	var e *catalog.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s error = %v (%T), want *catalog.Error", call, err, err)
	}
	if e.Code != code {
		t.Errorf("%s code = %q, want %q (%v)", call, e.Code, code, err)
	}
	if e.Field != field {
		t.Errorf("%s field = %q, want %q (%v)", call, e.Field, field, err)
	}
	if msg != "" && e.Message != msg {
		t.Errorf("%s message = %q, want %q", call, e.Message, msg)
	}
}

func TestTypes(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	types := c.Types()
	var names []string
	for _, typ := range types {
		names = append(names, typ.Event)
		if typ.Description == "" {
			t.Errorf("Types() %s description is empty", typ.Event)
		}
		var schema map[string]any
		if err := json.Unmarshal(typ.Schema, &schema); err != nil {
			t.Errorf("Types() %s schema: %v", typ.Event, err)
		}
		if got, want := schema["$schema"], "https://json-schema.org/draft/2020-12/schema"; got != want {
			t.Errorf("Types() %s $schema = %v, want %v", typ.Event, got, want)
		}
		if !json.Valid(typ.Example) {
			t.Errorf("Types() %s example is not valid JSON", typ.Event)
		}
	}
	if want := []string{catalog.CallReceived, catalog.SMSReceived}; !slices.Equal(names, want) {
		t.Fatalf("Types() = %v, want %v", names, want)
	}

	// The result is a copy: changing it changes nothing in the catalogue.
	types[0].Schema[0] = 'X'
	types[0].Example[0] = 'X'
	if again := c.Types(); again[0].Schema[0] != '{' || again[0].Example[0] != '{' {
		t.Fatalf("Types() returned memory shared with the catalogue")
	}
}

func TestSubscribable(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	for _, tt := range []struct {
		event string
		want  bool
	}{
		{catalog.CallReceived, true},
		{catalog.SMSReceived, true},
		{catalog.WebhookTest, false},
		{catalog.EndpointDisabled, false},
		{catalog.EndpointEnabled, false},
		{"*", false},
		{"", false},
		{"call.Received", false},
		{"call.*", false},
	} {
		if got := c.Subscribable(tt.event); got != tt.want {
			t.Errorf("Subscribable(%q) = %v, want %v", tt.event, got, tt.want)
		}
		typ, ok := c.Lookup(tt.event)
		if ok != tt.want || (ok && typ.Event != tt.event) {
			t.Errorf("Lookup(%q) = %q, %v, want ok %v", tt.event, typ.Event, ok, tt.want)
		}
	}
}

func TestValidate_Examples(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	for _, typ := range c.Types() {
		t.Run(typ.Event, func(t *testing.T) {
			t.Parallel()
			got, err := c.Validate(typ.Event, typ.Example)
			if err != nil {
				t.Fatalf("Validate(%s, example) error = %v", typ.Event, err)
			}
			// The example is already in normal form.
			if !bytes.Equal(got, typ.Example) {
				t.Fatalf("Validate(%s, example) =\n%s\nwant\n%s", typ.Event, got, typ.Example)
			}
		})
	}
}

func TestValidate_Example_Realistic(t *testing.T) {
	t.Parallel()
	call := example(t, catalog.CallReceived)
	if n := len(call["transcript"].([]any)); n < 2 {
		t.Errorf("call.received example transcript has %d lines, want a conversation", n)
	}
	if call["summary"] == nil || call["recording"] == nil {
		t.Errorf("call.received example has no summary or recording")
	}
	sms := example(t, catalog.SMSReceived)
	if n := len(sms["media"].([]any)); n != 1 {
		t.Errorf("sms.received example media has %d items, want 1 (an MMS image)", n)
	}
}

// TestValidate_Required removes each required property in turn.
func TestValidate_Required(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	for _, tt := range []struct {
		event string
		path  string
	}{
		{catalog.CallReceived, "call_id"},
		{catalog.CallReceived, "direction"},
		{catalog.CallReceived, "from"},
		{catalog.CallReceived, "from.number"},
		{catalog.CallReceived, "to"},
		{catalog.CallReceived, "to.number"},
		{catalog.CallReceived, "started_at"},
		{catalog.CallReceived, "ended_at"},
		{catalog.CallReceived, "duration_seconds"},
		{catalog.CallReceived, "status"},
		{catalog.CallReceived, "recording"},
		{catalog.CallReceived, "recording.url"},
		{catalog.CallReceived, "recording.duration_seconds"},
		{catalog.CallReceived, "recording.content_type"},
		{catalog.CallReceived, "transcript"},
		{catalog.CallReceived, "transcript.0.speaker"},
		{catalog.CallReceived, "transcript.1.at"},
		{catalog.CallReceived, "transcript.3.text"},
		{catalog.CallReceived, "summary"},
		{catalog.CallReceived, "summary.text"},
		{catalog.CallReceived, "summary.one_sentence"},
		{catalog.CallReceived, "tags"},
		{catalog.SMSReceived, "message_id"},
		{catalog.SMSReceived, "from"},
		{catalog.SMSReceived, "from.number"},
		{catalog.SMSReceived, "to"},
		{catalog.SMSReceived, "to.number"},
		{catalog.SMSReceived, "received_at"},
		{catalog.SMSReceived, "body"},
		{catalog.SMSReceived, "media"},
		{catalog.SMSReceived, "media.0.url"},
		{catalog.SMSReceived, "media.0.content_type"},
	} {
		t.Run(tt.event+"/"+tt.path, func(t *testing.T) {
			t.Parallel()
			d := example(t, tt.event)
			del(t, d, tt.path)
			data := marshal(t, d)
			_, err := c.Validate(tt.event, data)
			checkError(t, fmt.Sprintf("Validate(%s without %s)", tt.event, tt.path), err,
				catalog.CodeInvalidEvent, "data."+tt.path, "is required")
		})
	}
}

// TestValidate_Optional removes or nulls what may be left out.
func TestValidate_Optional(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	for _, tt := range []struct {
		name  string
		event string
		edit  func(tb testing.TB, d map[string]any)
	}{
		{"CallFromNameMissing", catalog.CallReceived, func(tb testing.TB, d map[string]any) { del(tb, d, "from.name") }},
		{"CallToNameMissing", catalog.CallReceived, func(tb testing.TB, d map[string]any) { del(tb, d, "to.name") }},
		{"RecordingNull", catalog.CallReceived, func(tb testing.TB, d map[string]any) { set(tb, d, "recording", nil) }},
		{"SummaryNull", catalog.CallReceived, func(tb testing.TB, d map[string]any) { set(tb, d, "summary", nil) }},
		{"TranscriptEmpty", catalog.CallReceived, func(tb testing.TB, d map[string]any) { set(tb, d, "transcript", []any{}) }},
		{"TagsEmpty", catalog.CallReceived, func(tb testing.TB, d map[string]any) { set(tb, d, "tags", []any{}) }},
		{"DurationZero", catalog.CallReceived, func(tb testing.TB, d map[string]any) { set(tb, d, "duration_seconds", 0) }},
		{"DurationFraction", catalog.CallReceived, func(tb testing.TB, d map[string]any) {
			set(tb, d, "duration_seconds", json.Number("12.5"))
		}},
		{"StatusMissed", catalog.CallReceived, func(tb testing.TB, d map[string]any) { set(tb, d, "status", "missed") }},
		{"StatusVoicemail", catalog.CallReceived, func(tb testing.TB, d map[string]any) { set(tb, d, "status", "voicemail") }},
		{"Outbound", catalog.CallReceived, func(tb testing.TB, d map[string]any) { set(tb, d, "direction", "outbound") }},
		{"SMSFromNameMissing", catalog.SMSReceived, func(tb testing.TB, d map[string]any) { del(tb, d, "from.name") }},
		{"SMSBodyEmpty", catalog.SMSReceived, func(tb testing.TB, d map[string]any) { set(tb, d, "body", "") }},
		{"SMSMediaEmpty", catalog.SMSReceived, func(tb testing.TB, d map[string]any) { set(tb, d, "media", []any{}) }},
		{"SMSToName", catalog.SMSReceived, func(tb testing.TB, d map[string]any) { set(tb, d, "to.name", "Acme") }},
		{"ShortestE164", catalog.SMSReceived, func(tb testing.TB, d map[string]any) { set(tb, d, "from.number", "+12") }},
		{"LongestE164", catalog.SMSReceived, func(tb testing.TB, d map[string]any) {
			set(tb, d, "from.number", "+123456789012345")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := example(t, tt.event)
			tt.edit(t, d)
			if _, err := c.Validate(tt.event, marshal(t, d)); err != nil {
				t.Fatalf("Validate(%s) error = %v, want nil", tt.name, err)
			}
		})
	}
}

// TestValidate_Invalid puts a wrong value at one path.
func TestValidate_Invalid(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	const (
		msgPhone = "must be an E.164 phone number such as +14155550123"
		msgTime  = "must be an RFC 3339 timestamp such as 2026-11-27T12:30:00.000Z"
		msgURL   = "must be an absolute https URL"
	)
	for _, tt := range []struct {
		name  string
		event string
		path  string
		value any
		msg   string
	}{
		{"CallIDEmpty", catalog.CallReceived, "call_id", "", "must not be empty"},
		{"CallIDNumber", catalog.CallReceived, "call_id", 42, "must be a string"},
		{"CallIDNull", catalog.CallReceived, "call_id", nil, "must be a string"},
		{"DirectionUnknown", catalog.CallReceived, "direction", "sideways", "must be one of inbound, outbound"},
		{"DirectionCase", catalog.CallReceived, "direction", "Inbound", "must be one of inbound, outbound"},
		{"FromString", catalog.CallReceived, "from", "+14155550123", "must be a JSON object"},
		{"FromNumberNoPlus", catalog.CallReceived, "from.number", "14155550123", msgPhone},
		{"FromNumberSpaces", catalog.CallReceived, "from.number", "+1 415 555 0123", msgPhone},
		{"FromNumberLeadingZero", catalog.CallReceived, "from.number", "+04155550123", msgPhone},
		{"FromNumberTooLong", catalog.CallReceived, "from.number", "+1234567890123456", msgPhone},
		{"FromNumberTooShort", catalog.CallReceived, "from.number", "+1", msgPhone},
		{"FromNumberTrailingNewline", catalog.CallReceived, "from.number", "+14155550123\n", msgPhone},
		{"FromNumberInt", catalog.CallReceived, "from.number", 14155550123, "must be a string"},
		{"FromNameNull", catalog.CallReceived, "from.name", nil, "must be a string"},
		{"ToNumber", catalog.CallReceived, "to.number", "555-0100", msgPhone},
		{"StartedAtNoZone", catalog.CallReceived, "started_at", "2026-11-27T12:30:00", msgTime},
		{"StartedAtDate", catalog.CallReceived, "started_at", "2026-11-27", msgTime},
		{"StartedAtUnix", catalog.CallReceived, "started_at", 1795869000, "must be a string"},
		{"EndedAtBadDay", catalog.CallReceived, "ended_at", "2026-02-29T12:30:00Z", msgTime},
		{"EndedAtSpace", catalog.CallReceived, "ended_at", "2026-11-27 12:30:00Z", msgTime},
		{"EndedAtLeapSecond", catalog.CallReceived, "ended_at", "2016-12-31T23:59:60Z", msgTime},
		{"EndedAtYear10000", catalog.CallReceived, "ended_at", "9999-12-31T23:30:00-01:00", msgTime},
		{"DurationNegative", catalog.CallReceived, "duration_seconds", -1, "must be 0 or greater"},
		{"DurationHugeNegative", catalog.CallReceived, "duration_seconds", json.Number("-1e999999999"), "must be 0 or greater"},
		{"DurationString", catalog.CallReceived, "duration_seconds", "357", "must be a number"},
		{"StatusUnknown", catalog.CallReceived, "status", "busy", "must be one of completed, missed, voicemail"},
		{"RecordingString", catalog.CallReceived, "recording", "https://example.com/a.mp3", "must be a JSON object or null"},
		{"RecordingURLHTTP", catalog.CallReceived, "recording.url", "http://recordings.example.com/a.mp3", msgURL},
		{"RecordingURLRelative", catalog.CallReceived, "recording.url", "/calls/a.mp3", msgURL},
		{"RecordingURLNoHost", catalog.CallReceived, "recording.url", "https:///a.mp3", msgURL},
		{"RecordingURLUserinfo", catalog.CallReceived, "recording.url", "https://user:pw@example.com/a.mp3", msgURL},
		{"RecordingURLSpace", catalog.CallReceived, "recording.url", "https://example.com/a b.mp3", msgURL},
		{"RecordingDurationNegative", catalog.CallReceived, "recording.duration_seconds", -0.5, "must be 0 or greater"},
		{"RecordingContentType", catalog.CallReceived, "recording.content_type", false, "must be a string"},
		{"TranscriptObject", catalog.CallReceived, "transcript", map[string]any{}, "must be an array"},
		{"TranscriptNull", catalog.CallReceived, "transcript", nil, "must be an array"},
		{"TranscriptItemString", catalog.CallReceived, "transcript.1", "hello", "must be a JSON object"},
		{"TranscriptSpeaker", catalog.CallReceived, "transcript.0.speaker", "bot", "must be one of caller, agent"},
		{"TranscriptAt", catalog.CallReceived, "transcript.2.at", "yesterday", msgTime},
		{"TranscriptText", catalog.CallReceived, "transcript.3.text", nil, "must be a string"},
		{"SummaryArray", catalog.CallReceived, "summary", []any{}, "must be a JSON object or null"},
		{"SummaryText", catalog.CallReceived, "summary.text", 1, "must be a string"},
		{"SummaryOneSentence", catalog.CallReceived, "summary.one_sentence", nil, "must be a string"},
		{"TagsString", catalog.CallReceived, "tags", "support", "must be an array"},
		{"TagNumber", catalog.CallReceived, "tags.1", 7, "must be a string"},
		{"MessageIDEmpty", catalog.SMSReceived, "message_id", "", "must not be empty"},
		{"SMSFromNumber", catalog.SMSReceived, "from.number", "+1415555O123", msgPhone},
		{"SMSFromName", catalog.SMSReceived, "from.name", []any{"Dana"}, "must be a string"},
		{"SMSTo", catalog.SMSReceived, "to", nil, "must be a JSON object"},
		{"SMSToNumber", catalog.SMSReceived, "to.number", "", msgPhone},
		{"ReceivedAt", catalog.SMSReceived, "received_at", "27/11/2026 12:30", msgTime},
		{"ReceivedAtComma", catalog.SMSReceived, "received_at", "2026-11-27T12:30:00,5Z", msgTime},
		{"ReceivedAtOneDigitHour", catalog.SMSReceived, "received_at", "2026-11-27T1:30:00Z", msgTime},
		{"Body", catalog.SMSReceived, "body", nil, "must be a string"},
		{"Media", catalog.SMSReceived, "media", nil, "must be an array"},
		{"MediaURL", catalog.SMSReceived, "media.0.url", "ftp://media.example.com/0.jpg", msgURL},
		{"MediaContentType", catalog.SMSReceived, "media.0.content_type", 1, "must be a string"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := example(t, tt.event)
			set(t, d, tt.path, tt.value)
			_, err := c.Validate(tt.event, marshal(t, d))
			checkError(t, fmt.Sprintf("Validate(%s)", tt.name), err, catalog.CodeInvalidEvent, "data."+tt.path, tt.msg)
		})
	}
}

// TestValidate_Malformed feeds data that is not an acceptable JSON object.
func TestValidate_Malformed(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	nested := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	call := marshal(t, example(t, catalog.CallReceived))
	for _, tt := range []struct {
		name  string
		data  string
		field string
		msg   string // "" to not check
	}{
		{"Nil", "", "data", "is required"},
		{"Space", " \n\t", "data", "is required"},
		{"Null", "null", "data", "must be a JSON object"},
		{"Array", "[]", "data", "must be a JSON object"},
		{"String", `"call"`, "data", "must be a JSON object"},
		{"Number", `1`, "data", "must be a JSON object"},
		{"Truncated", string(call[:len(call)-1]), "data", "must be valid JSON (unexpected end of input)"},
		{"Trailing", string(call) + "x", "data", ""},
		{"TwoValues", `{} {}`, "data", ""},
		{"TrailingComma", `{"a":1,}`, "data", ""},
		{"SingleQuotes", `{'a':1}`, "data", ""},
		{"BareKey", `{a:1}`, "data", ""},
		{"LeadingZero", `{"a":01}`, "data", ""},
		{"PlusNumber", `{"a":+1}`, "data", ""},
		{"DotNumber", `{"a":.5}`, "data", ""},
		{"NaN", `{"a":NaN}`, "data", ""},
		{"ExponentWithoutDigits", `{"a":1e}`, "data", ""},
		{"BadEscape", `{"a":"\x"}`, "data", ""},
		{"ShortUnicodeEscape", `{"a":"\u12"}`, "data", ""},
		{"ControlCharacter", "{\"a\":\"\t\"}", "data", ""},
		{"Tru", `{"a":tru}`, "data", ""},
		{"BOM", "\uFEFF{}", "data", ""},
		{"InvalidUTF8", "{\"a\":\"\xff\"}", "data", "must be valid UTF-8 (invalid byte at offset 6)"},
		{"InvalidUTF8Key", "{\"\xc3\":1}", "data", ""},
		{"Surrogate", "{\"a\":\"\xed\xa0\x80\"}", "data", ""},
		{"DuplicateKey", `{"call_id":"a","call_id":"b"}`, "data.call_id", "must not appear twice in the same object"},
		{"DuplicateEscapedKey", `{"call_id":"a","call\u005fid":"b"}`, "data.call_id", "must not appear twice in the same object"},
		{"DuplicateNestedKey", `{"from":{"number":"+14155550123","number":"+14155550124"}}`, "data.from.number", ""},
		{"DuplicateInArray", `{"transcript":[{},{"text":"a","text":"b"}]}`, "data.transcript.1.text", ""},
		{"DuplicateExtra", `{"x":{"y":[1,{"z":1,"z":1}]}}`, "data.x.y.1.z", ""},
		{"TooDeep", nested(catalog.MaxDepth + 1), "data", "must not nest objects and arrays more than 64 levels deep"},
		{"TooDeepArray", "{\"a\":" + strings.Repeat("[", catalog.MaxDepth) + strings.Repeat("]", catalog.MaxDepth) + "}", "data", ""},
		{"VeryDeep", strings.Repeat("[", 1_000_000), "data", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Validate(catalog.CallReceived, []byte(tt.data))
			checkError(t, fmt.Sprintf("Validate(%s)", tt.name), err, catalog.CodeInvalidEvent, tt.field, tt.msg)
		})
	}
}

// TestValidate_MaxDepth checks that MaxDepth levels, counting data itself, are
// accepted in extra properties.
func TestValidate_MaxDepth(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	d := example(t, catalog.CallReceived)
	deep := strings.Repeat(`[`, catalog.MaxDepth-1) + strings.Repeat(`]`, catalog.MaxDepth-1)
	set(t, d, "extra", json.RawMessage(deep))
	data := marshal(t, d)
	if _, err := c.Validate(catalog.CallReceived, data); err != nil {
		t.Fatalf("Validate(%d levels) error = %v", catalog.MaxDepth, err)
	}
	set(t, d, "extra", json.RawMessage("["+deep+"]"))
	_, err := c.Validate(catalog.CallReceived, marshal(t, d))
	checkError(t, fmt.Sprintf("Validate(%d levels)", catalog.MaxDepth+1), err, catalog.CodeInvalidEvent, "data", "")
}

func TestValidate_UnknownEventType(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	data := marshal(t, example(t, catalog.CallReceived))
	for _, tt := range []struct {
		event string
		msg   string
	}{
		{"", "must be one of call.received, sms.received"},
		{"call.missed", "must be one of call.received, sms.received"},
		{"CALL.RECEIVED", "must be one of call.received, sms.received"},
		{"*", "must be one of call.received, sms.received"},
		{catalog.WebhookTest, "must be one of call.received, sms.received (webhook.test is sent by hookd itself)"},
		{catalog.EndpointDisabled, "must be one of call.received, sms.received (endpoint.disabled is sent by hookd itself)"},
		{catalog.EndpointEnabled, "must be one of call.received, sms.received (endpoint.enabled is sent by hookd itself)"},
	} {
		_, err := c.Validate(tt.event, data)
		checkError(t, fmt.Sprintf("Validate(%q)", tt.event), err, catalog.CodeUnknownEventType, "event", tt.msg)
	}
	// The event type is checked before the data.
	_, err := c.Validate(catalog.WebhookTest, []byte("not json"))
	checkError(t, "Validate(webhook.test, not json)", err, catalog.CodeUnknownEventType, "event", "")
}

// TestValidate_Timestamps checks that the known timestamps are normalised.
func TestValidate_Timestamps(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	for _, tt := range []struct {
		in, want string
	}{
		{"2026-11-27T13:30:00+01:00", "2026-11-27T12:30:00.000Z"},
		{"2026-11-27T12:30:00Z", "2026-11-27T12:30:00.000Z"},
		{"2026-11-27T12:30:00.000Z", "2026-11-27T12:30:00.000Z"},
		{"2026-11-27t12:30:00z", "2026-11-27T12:30:00.000Z"},
		{"2026-11-27T12:30:00+00:00", "2026-11-27T12:30:00.000Z"},
		{"2026-11-27T12:30:00-00:00", "2026-11-27T12:30:00.000Z"},
		{"2026-11-27T07:00:00-05:30", "2026-11-27T12:30:00.000Z"},
		{"2026-11-28T00:30:00+12:00", "2026-11-27T12:30:00.000Z"},
		{"2026-12-31T23:30:00-01:00", "2027-01-01T00:30:00.000Z"},
		{"2028-03-01T00:30:00+01:00", "2028-02-29T23:30:00.000Z"},
		// Fractions are truncated to milliseconds, never rounded up.
		{"2026-11-27T12:30:00.5Z", "2026-11-27T12:30:00.500Z"},
		{"2026-11-27T12:30:00.12Z", "2026-11-27T12:30:00.120Z"},
		{"2026-11-27T12:30:00.1239Z", "2026-11-27T12:30:00.123Z"},
		{"2026-11-27T12:59:59.999999999999+01:00", "2026-11-27T11:59:59.999Z"},
		{"0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z"},
		{"9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"},
	} {
		for _, tc := range []struct {
			event, path string
		}{
			{catalog.CallReceived, "started_at"},
			{catalog.CallReceived, "ended_at"},
			{catalog.CallReceived, "transcript.2.at"},
			{catalog.SMSReceived, "received_at"},
		} {
			d := example(t, tc.event)
			set(t, d, tc.path, tt.in)
			out, err := c.Validate(tc.event, marshal(t, d))
			if err != nil {
				t.Errorf("Validate(%s %s=%s) error = %v", tc.event, tc.path, tt.in, err)
				continue
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("Validate(%s) output is not JSON: %v", tc.event, err)
			}
			c, last := lookup(t, got, tc.path)
			if v := c.(map[string]any)[last]; v != tt.want {
				t.Errorf("Validate(%s %s=%s) %s = %v, want %s", tc.event, tc.path, tt.in, tc.path, v, tt.want)
			}
		}
	}
}

// TestValidate_Preserve checks that extra properties, and the known values
// that are not timestamps, come out byte for byte.
func TestValidate_Preserve(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	for _, tt := range []struct {
		name, value string
	}{
		{"HugeExponent", `1e400`},
		{"BigInteger", `12345678901234567890`},
		{"TrailingZero", `1.50`},
		{"NegativeZero", `-0`},
		{"UpperExponent", `1E+2`},
		{"TinyExponent", `-0.0e-999999999999999999999`},
		{"LongNumber", `3.` + strings.Repeat("1415926535", 20)},
		{"HTML", `"<b>Tom & Jerry</b>"`},
		{"EscapedHTML", `"\u003cb\u003e"`},
		{"Escapes", `"line\nbreak \"quoted\" \/ \u00e9 \ud83d\ude00"`},
		{"LoneSurrogate", `"\ud800"`},
		{"Unicode", `"café ☎ 😀 \u2028"`},
		{"LineSeparator", "\"\u2028\u2029\""},
		{"Timestamp", `"2026-11-27T13:30:00+01:00"`},
		{"Nested", `{"b":[1.0,{"started_at":"2026-11-27T13:30:00+01:00"}],"a":null,"c":true}`},
		{"EmptyContainers", `[{},[],""]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := example(t, catalog.CallReceived)
			d["extra"] = json.RawMessage(tt.value)
			set(t, d, "from.extra", json.RawMessage(tt.value))
			set(t, d, "transcript.0.extra", json.RawMessage(tt.value))
			data := marshal(t, d)
			out, err := c.Validate(catalog.CallReceived, data)
			if err != nil {
				t.Fatalf("Validate(%s) error = %v", tt.name, err)
			}
			if n := bytes.Count(out, []byte(`"extra":`+tt.value)); n != 3 {
				t.Fatalf("Validate(%s) kept %s %d times, want 3:\n%s", tt.name, tt.value, n, out)
			}
		})
	}

	// Known string values other than timestamps are not rewritten either.
	d := example(t, catalog.CallReceived)
	set(t, d, "call_id", json.RawMessage(`"call\u005f<1>&"`))
	set(t, d, "summary.text", json.RawMessage(`"a\/b"`))
	out, err := c.Validate(catalog.CallReceived, marshal(t, d))
	if err != nil {
		t.Fatalf("Validate(escaped call_id) error = %v", err)
	}
	for _, want := range []string{`"call_id":"call\u005f<1>&"`, `"text":"a\/b"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("Validate(escaped call_id) = %s, want it to contain %s", out, want)
		}
	}
}

// TestValidate_Compact checks whitespace removal and key order.
func TestValidate_Compact(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	in := []byte(" {\n\t\"message_id\" : \"m1\" ,\r\n \"z\" : [ 1 , 2 ] , \"from\" : { \"number\" : \"+14155550123\" } ,\n" +
		"\"to\":{\"number\":\"+14155550100\"},\"received_at\":\"2026-11-27T13:30:00+01:00\",\"body\":\" a  b \",\"media\":[ ] } \n")
	want := `{"message_id":"m1","z":[1,2],"from":{"number":"+14155550123"},"to":{"number":"+14155550100"},` +
		`"received_at":"2026-11-27T12:30:00.000Z","body":" a  b ","media":[]}`
	out, err := c.Validate(catalog.SMSReceived, in)
	if err != nil {
		t.Fatalf("Validate(spaced) error = %v", err)
	}
	if string(out) != want {
		t.Fatalf("Validate(spaced) =\n%s\nwant\n%s", out, want)
	}
	if &out[0] == &in[0] {
		t.Fatalf("Validate returned the input's memory")
	}
}

// TestValidate_FirstError checks which of several problems is reported, and
// that the answer is the same every time although the validator walks
// properties in map order.
func TestValidate_FirstError(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	for _, tt := range []struct {
		name  string
		edit  func(tb testing.TB, d map[string]any)
		field string
	}{
		{"AllMissing", func(tb testing.TB, d map[string]any) { clear(d) }, "data.call_id"},
		{"DeepestWins", func(tb testing.TB, d map[string]any) {
			del(tb, d, "call_id")
			set(tb, d, "status", "x")
			set(tb, d, "from.number", "x")
		}, "data.from.number"},
		{"MissingNestedBeatsTopLevelType", func(tb testing.TB, d map[string]any) {
			set(tb, d, "direction", 1)
			del(tb, d, "to.number")
		}, "data.to.number"},
		{"PathOrderOnTie", func(tb testing.TB, d map[string]any) {
			set(tb, d, "to.number", "x")
			set(tb, d, "from.number", "x")
			set(tb, d, "summary.text", 1)
		}, "data.from.number"},
		{"IndexOrderIsNumeric", func(tb testing.TB, d map[string]any) {
			var tr []any
			for i := range 12 {
				tr = append(tr, map[string]any{"speaker": "agent", "at": "2026-11-27T12:30:00Z", "text": strconv.Itoa(i)})
			}
			tr[10].(map[string]any)["speaker"] = "bot"
			tr[2].(map[string]any)["speaker"] = "bot"
			set(tb, d, "transcript", tr)
		}, "data.transcript.2.speaker"},
		{"SchemaBeforeTimestamp", func(tb testing.TB, d map[string]any) {
			set(tb, d, "started_at", "2016-12-31T23:59:60Z") // valid RFC 3339, not supported
			set(tb, d, "status", "x")
		}, "data.status"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := example(t, catalog.CallReceived)
			tt.edit(t, d)
			data := marshal(t, d)
			for range 20 {
				_, err := c.Validate(catalog.CallReceived, data)
				checkError(t, fmt.Sprintf("Validate(%s)", tt.name), err, catalog.CodeInvalidEvent, tt.field, "")
				if t.Failed() {
					return
				}
			}
		})
	}
}

func TestValidate_Concurrent(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	typ, _ := c.Lookup(catalog.CallReceived)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if out, err := c.Validate(catalog.CallReceived, typ.Example); err != nil || !bytes.Equal(out, typ.Example) {
					t.Errorf("Validate(example) = %s, %v", out, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestTestData(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	now := time.Date(2026, 11, 27, 13, 30, 0, 123456789, time.FixedZone("CET", 3600))
	data := catalog.TestData(now)
	// It has the shape of call.received data and is in normal form.
	out, err := c.Validate(catalog.CallReceived, data)
	if err != nil {
		t.Fatalf("Validate(call.received, TestData()) error = %v\n%s", err, data)
	}
	if !bytes.Equal(out, data) {
		t.Fatalf("TestData() is not normalised:\n%s\nwant\n%s", data, out)
	}
	var d struct {
		Test    bool   `json:"test"`
		EndedAt string `json:"ended_at"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("TestData() is not JSON: %v", err)
	}
	if !d.Test {
		t.Errorf("TestData() test = false, want true")
	}
	if got, want := d.EndedAt, "2026-11-27T12:30:00.123Z"; got != want {
		t.Errorf("TestData() ended_at = %s, want %s", got, want)
	}
}

func TestFormatTime(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 27, 12, 30, 0, 0, time.UTC), "2026-11-27T12:30:00.000Z"},
		{time.Date(2026, 11, 27, 13, 30, 0, 0, time.FixedZone("", 3600)), "2026-11-27T12:30:00.000Z"},
		{time.Date(2026, 11, 27, 12, 30, 0, 999_999_999, time.UTC), "2026-11-27T12:30:00.999Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC), "2026-01-02T03:04:05.006Z"},
	} {
		if got := catalog.FormatTime(tt.in); got != tt.want {
			t.Errorf("FormatTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err  catalog.Error
		want string
	}{
		{catalog.Error{Code: "invalid_event", Field: "data.from.number", Message: "is required"}, "invalid_event: data.from.number is required"},
		{catalog.Error{Code: "invalid_event", Message: "is bad"}, "invalid_event: is bad"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func BenchmarkValidateCall(b *testing.B) {
	c := newCatalog(b)
	typ, _ := c.Lookup(catalog.CallReceived)
	b.SetBytes(int64(len(typ.Example)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Validate(catalog.CallReceived, typ.Example); err != nil {
			b.Fatal(err)
		}
	}
}
