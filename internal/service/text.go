package service

import (
	"fmt"
	"unicode/utf8"

	"github.com/hookd/hookd/internal/hook"
)

// checkText validates text a person reads in a list or a log (an account
// name, an endpoint description): valid UTF-8, at most max characters,
// and nothing that changes how the text around it reads: no control
// characters (C0 including CR, LF, TAB and NUL; DEL; C1), no
// bidirectional embedding, override or isolate characters (U+202A–U+202E,
// U+2066–U+2069), which can make a name display as something else. The
// error names field and the first offending character, as "U+XXXX at
// character N" (counted from 1).
func checkText(field, what string, s string, max int) error {
	if !utf8.ValidString(s) {
		i := 0
		for i < len(s) {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return hook.FieldErrorf(hook.EInvalidParameter, field, "%s must be valid UTF-8 text (byte %d is not).", what, i+1)
	}
	n := 0
	for _, r := range s {
		n++
		if kind := forbiddenRune(r); kind != "" {
			return hook.FieldErrorf(hook.EInvalidParameter, field, "%s must not contain %s (%s at character %d).", what, kind, codePoint(r), n)
		}
	}
	if n > max {
		return hook.FieldErrorf(hook.EInvalidParameter, field, "%s has at most %d characters, not %d.", what, max, n)
	}
	return nil
}

// forbiddenRune says what kind of character r is if checkText refuses it.
func forbiddenRune(r rune) string {
	switch {
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return "control characters"
	case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
		return "bidirectional override or isolate characters"
	}
	return ""
}

func codePoint(r rune) string { return fmt.Sprintf("U+%04X", r) }
