package catalog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookd/hookd/internal/catalog"
)

// FuzzValidate checks that Validate never panics, accepts only valid JSON,
// always answers with an *Error about data, and is idempotent: validating
// its output again gives the same bytes. The seed corpus is in
// testdata/fuzz/FuzzValidate; sms selects sms.received over call.received.
func FuzzValidate(f *testing.F) {
	c := newCatalog(f)
	for _, typ := range c.Types() {
		f.Add(typ.Event == catalog.SMSReceived, []byte(typ.Example))
	}
	f.Fuzz(func(t *testing.T, sms bool, data []byte) {
		event := catalog.CallReceived
		if sms {
			event = catalog.SMSReceived
		}
		out, err := c.Validate(event, data)
		if err != nil {
			var e *catalog.Error
			if !errors.As(err, &e) {
				t.Fatalf("Validate(%q) error = %v (%T), want *catalog.Error", data, err, err)
			}
			if e.Code != catalog.CodeInvalidEvent || (e.Field != "data" && !strings.HasPrefix(e.Field, "data.")) || e.Message == "" {
				t.Fatalf("Validate(%q) error = %+v, want an invalid_event about data", data, e)
			}
			if strings.HasPrefix(e.Message, "must be valid JSON") && json.Valid(data) {
				t.Fatalf("Validate(%q) rejected valid JSON: %v", data, err)
			}
			return
		}
		if !json.Valid(data) || !utf8.Valid(data) {
			t.Fatalf("Validate(%q) accepted invalid JSON", data)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, out); err != nil {
			t.Fatalf("Validate(%q) output %q is not JSON: %v", data, out, err)
		}
		if !bytes.Equal(compact.Bytes(), out) {
			t.Fatalf("Validate(%q) output %q is not compact", data, out)
		}
		again, err := c.Validate(event, out)
		if err != nil {
			t.Fatalf("Validate(%q) rejected its own output %q: %v", data, out, err)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("Validate is not idempotent:\ninput  %q\nonce   %q\ntwice  %q", data, out, again)
		}
	})
}
