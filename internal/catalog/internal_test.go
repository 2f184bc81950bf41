package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTimestampFields checks that timestampFields names exactly the values
// that the schemas declare as timestamps ("$ref": "#/$defs/timestamp").
func TestTimestampFields(t *testing.T) {
	t.Parallel()
	c, err := New()
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	for _, typ := range c.Types() {
		var schema map[string]any
		if err := json.Unmarshal(typ.Schema, &schema); err != nil {
			t.Fatalf("%s schema: %v", typ.Event, err)
		}
		defs, _ := schema["$defs"].(map[string]any)
		var walk func(s map[string]any, path []frame)
		n := 0
		walk = func(s map[string]any, path []frame) {
			if ref, ok := s["$ref"].(string); ok {
				isTimestamp := ref == "#/$defs/timestamp"
				if isTimestamp {
					n++
				}
				if got := timestampFields[typ.Event](path); got != isTimestamp {
					t.Errorf("timestampFields[%s](%v) = %v, want %v", typ.Event, path, got, isTimestamp)
				}
				if def, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any); ok {
					walk(def, path)
				}
			}
			if props, ok := s["properties"].(map[string]any); ok {
				for name, p := range props {
					walk(p.(map[string]any), append(path[:len(path):len(path)], frame{key: name, index: -1}))
				}
			}
			if items, ok := s["items"].(map[string]any); ok {
				walk(items, append(path[:len(path):len(path)], frame{index: 3}))
			}
		}
		walk(schema, nil)
		if n == 0 {
			t.Errorf("%s schema has no timestamps", typ.Event)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want string // "" for rejected
	}{
		{"2026-11-27T13:30:00+01:00", "2026-11-27T12:30:00.000Z"},
		{"2026-11-27T13:30:00.987654+01:00", "2026-11-27T12:30:00.987Z"},
		{"2026-11-27t12:30:00z", "2026-11-27T12:30:00.000Z"},
		{"2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"},
		{"2000-02-29T00:00:00Z", "2000-02-29T00:00:00.000Z"},
		{"0000-01-01T00:00:00+00:00", "0000-01-01T00:00:00.000Z"},
		{"0000-01-01T00:59:00+01:00", ""}, // UTC is in year -1
		{"9999-12-31T23:59:59-00:01", ""}, // UTC is in year 10000
		{"1900-02-29T00:00:00Z", ""},
		{"2026-11-31T00:00:00Z", ""},
		{"2026-00-01T00:00:00Z", ""},
		{"2026-13-01T00:00:00Z", ""},
		{"2026-11-00T00:00:00Z", ""},
		{"2026-11-27T24:00:00Z", ""},
		{"2026-11-27T12:60:00Z", ""},
		{"2016-12-31T23:59:60Z", ""},
		{"2026-11-27T12:30:00", ""},
		{"2026-11-27T12:30:00.Z", ""},
		{"2026-11-27T12:30:00.1", ""},
		{"2026-11-27T12:30:00+1:00", ""},
		{"2026-11-27T12:30:00+01:60", ""},
		{"2026-11-27T12:30:00+24:00", ""},
		{"2026-11-27T12:30:00+0100", ""},
		{"2026-11-27T12:30:00ZZ", ""},
		{"2026-11-27 12:30:00Z", ""},
		{"2026-11-27T1:30:00Z", ""},
		{"2026-11-27T12:30:00,5Z", ""},
		{"+2026-11-27T12:30:00Z", ""},
		{"2026-1-27T12:30:00Z", ""},
		{"２０２６-11-27T12:30:00Z", ""},
	} {
		got := ""
		if ts, ok := parseTimestamp(tt.in); ok {
			got = FormatTime(ts)
		}
		if got != tt.want {
			t.Errorf("parseTimestamp(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidatorNumber(t *testing.T) {
	t.Parallel()
	long := "1" + strings.Repeat("0", 100)
	for _, tt := range []struct {
		in, want string
	}{
		{"0", "0"},
		{"-12.5e3", "-12.5e3"},
		{"1e400", "1e400"},
		{"1e401", "1e401"},
		{"1e999999999", "1e999"},
		{"-1e999999999", "-1e999"},
		{"1e-999999999", "1e-999"},
		{"0e999999999", "0"},
		{"-0.000e999999999", "0"},
		{"12.5e500", "1e501"},
		{"0.0125e500", "1e498"},
		{"1e99999999999999999999999", "1e999"},
		{"1e-99999999999999999999999", "1e-999"},
		{"-5E+99999999999999999999999", "-1e999"},
		{long, "1e100"},
		{"-0.00" + long, "-1e-3"},
		{long + "e-150", "1e-50"},
	} {
		if got := validatorNumber([]byte(tt.in)); string(got) != tt.want {
			t.Errorf("validatorNumber(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// String makes frames readable in failure messages.
func (f frame) String() string {
	if f.index >= 0 {
		return fmt.Sprint(f.index)
	}
	return f.key
}

// FuzzNormalise compares the JSON reader with encoding/json: whatever it
// accepts, encoding/json accepts and decodes to the same value; its output
// reads back to the same output.
func FuzzNormalise(f *testing.F) {
	for _, seed := range []string{
		`{"a":[1,-2.5e3,true,false,null,"x\u00e9\ud800"],"b":{"c":{}},"started_at":"2026-11-27T13:30:00+01:00"}`,
		` [ 1e400 , "<&>" ] `,
		`{"transcript":[{"at":"2026-11-27t12:30:00.123456z"}]}`,
		`"\u2028"`,
		`{"a":1,"a":2}`,
		`[[[[[[[[[[]]]]]]]]]]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		value, out, _, err := normalise(data, timestampFields[CallReceived])
		if err != nil {
			if strings.HasPrefix(err.Message, "must be valid JSON") && json.Valid(data) && utf8.Valid(data) {
				t.Fatalf("normalise(%q) rejected valid JSON: %v", data, err)
			}
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil || !json.Valid(data) {
			t.Fatalf("normalise(%q) accepted what encoding/json rejects: %v", data, err)
		}
		if !sameValue(value, want) {
			t.Fatalf("normalise(%q) value = %#v, encoding/json = %#v", data, value, want)
		}
		_, again, _, err := normalise(out, timestampFields[CallReceived])
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("normalise(%q) = %q, again %q, %v", data, out, again, err)
		}
	})
}

// sameValue compares a reader value with an encoding/json one, numbers by
// their validator stand-in.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !sameValue(gv, wv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameValue(g[i], w[i]) {
				return false
			}
		}
		return true
	case json.Number:
		return got == validatorNumber([]byte(w))
	default:
		return got == want
	}
}
