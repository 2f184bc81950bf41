package service

import (
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/hook"
)

func TestCheckText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		max  int    // 0: 100
		want string // a part of the message; "" for accepted
	}{
		{"Acme Support", 0, ""},
		{"Müller & Söhne – 株式会社 😀", 0, ""},
		{"tab\there", 0, "control characters (U+0009 at character 4)"},
		{"a\x7f", 0, "control characters (U+007F at character 2)"},
		{"a\u009bb", 0, "control characters (U+009B at character 2)"},
		{"\u202aLTR", 0, "bidirectional override or isolate characters (U+202A at character 1)"},
		{"x\u2069", 0, "bidirectional override or isolate characters (U+2069 at character 2)"},
		{"ok\xffno", 0, "valid UTF-8 text (byte 3 is not)"},
		{strings.Repeat("x", 11), 10, "at most 10 characters, not 11"},
		{strings.Repeat("é", 10), 10, ""},
	} {
		if tc.max == 0 {
			tc.max = 100
		}
		err := checkText("name", "An account name", tc.in, tc.max)
		if tc.want == "" {
			if err != nil {
				t.Errorf("checkText(%q) = %v, want nil", tc.in, err)
			}
			continue
		}
		he, ok := err.(*hook.Error)
		if !ok || he.Field != "name" || he.Code != hook.EInvalidParameter || !strings.Contains(he.Message, tc.want) {
			t.Errorf("checkText(%q) = %v, want invalid_parameter on name with %q", tc.in, err, tc.want)
		}
	}
}
