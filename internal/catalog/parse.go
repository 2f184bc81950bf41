package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// frame is one step of the path from the data object to the value being
// read: an object member (index -1) or an array element (key "").
type frame struct {
	key   string
	index int
}

// reader is a strict, single-pass JSON reader (RFC 8259). It builds the value
// for the schema validator (map[string]any, []any, string, json.Number, bool,
// nil) and, at the same time, writes the compact normalised output, copying
// every string and number token byte for byte except the timestamps it
// rewrites.
type reader struct {
	in          []byte
	pos         int
	out         []byte
	path        []frame
	timestampAt func([]frame) bool
	// timeErr is the first timestamp, in document order, that the schema
	// might accept but hookd cannot normalise (a leap second, say). It is
	// reported only if the schema finds nothing wrong.
	timeErr *Error
}

// normalise reads data and returns its value for the schema validator and its
// normalised form. timestampAt says which values are timestamps to rewrite.
// timeErr is about the first of them that cannot be normalised; the caller
// reports it only if the schema finds nothing else wrong, so that schema
// errors are reported the same way whatever the timestamps. err means data is
// not acceptable JSON.
func normalise(data []byte, timestampAt func([]frame) bool) (value any, out []byte, timeErr, err *Error) {
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, size := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		return nil, nil, nil, invalidData(fmt.Sprintf("must be valid UTF-8 (invalid byte at offset %d)", off))
	}
	r := reader{in: data, out: make([]byte, 0, len(data)), timestampAt: timestampAt}
	r.skipSpace()
	if r.pos == len(r.in) {
		return nil, nil, nil, invalidData("is required")
	}
	v, err := r.value(0)
	if err != nil {
		return nil, nil, nil, err
	}
	r.skipSpace()
	if r.pos != len(r.in) {
		return nil, nil, nil, r.syntaxError("after the end of the JSON value")
	}
	return v, r.out, r.timeErr, nil
}

// invalidData is an invalid_event error about data as a whole.
func invalidData(msg string) *Error {
	return &Error{Code: CodeInvalidEvent, Field: "data", Message: msg}
}

// syntaxError reports invalid JSON at the current position.
func (r *reader) syntaxError(context string) *Error {
	if r.pos >= len(r.in) {
		return invalidData("must be valid JSON (unexpected end of input)")
	}
	c, _ := utf8.DecodeRune(r.in[r.pos:])
	if context != "" {
		context = " " + context
	}
	return invalidData(fmt.Sprintf("must be valid JSON (unexpected %q%s at offset %d)", c, context, r.pos))
}

// fieldError reports a problem with the value at the current path, plus key.
func (r *reader) fieldError(key, msg string) *Error {
	segments := make([]string, 0, len(r.path)+1)
	for _, f := range r.path {
		if f.index >= 0 {
			segments = append(segments, strconv.Itoa(f.index))
		} else {
			segments = append(segments, f.key)
		}
	}
	segments = append(segments, key)
	return &Error{Code: CodeInvalidEvent, Field: fieldPath(segments), Message: msg}
}

func (r *reader) skipSpace() {
	for r.pos < len(r.in) {
		switch r.in[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// value reads the value at r.pos, whose container is at nesting level depth.
func (r *reader) value(depth int) (any, *Error) {
	if r.pos >= len(r.in) {
		return nil, r.syntaxError("")
	}
	switch c := r.in[r.pos]; {
	case c == '{':
		return r.object(depth + 1)
	case c == '[':
		return r.array(depth + 1)
	case c == '"':
		return r.stringValue()
	case c == '-' || (c >= '0' && c <= '9'):
		return r.number()
	case c == 't':
		return true, r.literal("true")
	case c == 'f':
		return false, r.literal("false")
	case c == 'n':
		return nil, r.literal("null")
	}
	return nil, r.syntaxError("where a value was expected")
}

func (r *reader) literal(lit string) *Error {
	if len(r.in)-r.pos < len(lit) || string(r.in[r.pos:r.pos+len(lit)]) != lit {
		return r.syntaxError("where a value was expected")
	}
	r.pos += len(lit)
	r.out = append(r.out, lit...)
	return nil
}

func (r *reader) object(depth int) (any, *Error) {
	if depth > MaxDepth {
		return nil, invalidData(fmt.Sprintf("must not nest objects and arrays more than %d levels deep", MaxDepth))
	}
	r.pos++ // {
	r.out = append(r.out, '{')
	obj := make(map[string]any)
	r.skipSpace()
	if r.pos < len(r.in) && r.in[r.pos] == '}' {
		r.pos++
		r.out = append(r.out, '}')
		return obj, nil
	}
	for {
		r.skipSpace()
		if r.pos >= len(r.in) || r.in[r.pos] != '"' {
			return nil, r.syntaxError("where an object key was expected")
		}
		raw, key, err := r.str()
		if err != nil {
			return nil, err
		}
		if _, dup := obj[key]; dup {
			// Another parser might keep the other value than the one
			// validated here, so duplicates are never passed on.
			return nil, r.fieldError(key, "must not appear twice in the same object")
		}
		r.out = append(r.out, raw...)
		r.skipSpace()
		if r.pos >= len(r.in) || r.in[r.pos] != ':' {
			return nil, r.syntaxError("where ':' was expected")
		}
		r.pos++
		r.out = append(r.out, ':')
		r.skipSpace()
		r.path = append(r.path, frame{key: key, index: -1})
		v, err := r.value(depth)
		r.path = r.path[:len(r.path)-1]
		if err != nil {
			return nil, err
		}
		obj[key] = v
		r.skipSpace()
		if r.pos >= len(r.in) {
			return nil, r.syntaxError("")
		}
		switch r.in[r.pos] {
		case ',':
			r.pos++
			r.out = append(r.out, ',')
		case '}':
			r.pos++
			r.out = append(r.out, '}')
			return obj, nil
		default:
			return nil, r.syntaxError("where ',' or '}' was expected")
		}
	}
}

func (r *reader) array(depth int) (any, *Error) {
	if depth > MaxDepth {
		return nil, invalidData(fmt.Sprintf("must not nest objects and arrays more than %d levels deep", MaxDepth))
	}
	r.pos++ // [
	r.out = append(r.out, '[')
	arr := []any{}
	r.skipSpace()
	if r.pos < len(r.in) && r.in[r.pos] == ']' {
		r.pos++
		r.out = append(r.out, ']')
		return arr, nil
	}
	for i := 0; ; i++ {
		r.skipSpace()
		r.path = append(r.path, frame{index: i})
		v, err := r.value(depth)
		r.path = r.path[:len(r.path)-1]
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		r.skipSpace()
		if r.pos >= len(r.in) {
			return nil, r.syntaxError("")
		}
		switch r.in[r.pos] {
		case ',':
			r.pos++
			r.out = append(r.out, ',')
		case ']':
			r.pos++
			r.out = append(r.out, ']')
			return arr, nil
		default:
			return nil, r.syntaxError("where ',' or ']' was expected")
		}
	}
}

// stringValue reads a string value, rewriting it if it is a known timestamp.
func (r *reader) stringValue() (any, *Error) {
	raw, s, err := r.str()
	if err != nil {
		return nil, err
	}
	if r.timestampAt(r.path) {
		if t, ok := parseTimestamp(s); ok {
			r.out = append(r.out, '"')
			r.out = t.AppendFormat(r.out, timeLayout)
			r.out = append(r.out, '"')
			return s, nil
		}
		if r.timeErr == nil {
			last := r.path[len(r.path)-1]
			r.path = r.path[:len(r.path)-1]
			r.timeErr = r.fieldError(last.key, msgTimestamp)
			r.path = append(r.path, last)
		}
	}
	r.out = append(r.out, raw...)
	return s, nil
}

// str reads a string token and returns it as written and decoded. The input
// is known to be valid UTF-8.
func (r *reader) str() (raw []byte, s string, _ *Error) {
	start := r.pos
	r.pos++ // "
	escaped := false
	for r.pos < len(r.in) {
		switch c := r.in[r.pos]; {
		case c == '"':
			r.pos++
			raw = r.in[start:r.pos]
			if !escaped {
				return raw, string(raw[1 : len(raw)-1]), nil
			}
			// The token is valid, so this cannot fail. Lone surrogates
			// (\ud800) decode to U+FFFD, as in encoding/json; the output
			// keeps the escape as written.
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, "", invalidData("must be valid JSON (" + err.Error() + ")")
			}
			return raw, s, nil
		case c == '\\':
			escaped = true
			r.pos++
			if r.pos >= len(r.in) {
				return nil, "", r.syntaxError("")
			}
			switch r.in[r.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.pos++
			case 'u':
				r.pos++
				for range 4 {
					if r.pos >= len(r.in) || !isHex(r.in[r.pos]) {
						return nil, "", r.syntaxError("in a \\u escape")
					}
					r.pos++
				}
			default:
				return nil, "", r.syntaxError("after '\\' in a string")
			}
		case c < 0x20:
			return nil, "", r.syntaxError("(a control character) in a string")
		default:
			r.pos++
		}
	}
	return nil, "", r.syntaxError("")
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// number reads a number token: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *reader) number() (any, *Error) {
	start := r.pos
	if r.in[r.pos] == '-' {
		r.pos++
	}
	switch {
	case r.pos < len(r.in) && r.in[r.pos] == '0':
		r.pos++
	case r.pos < len(r.in) && r.in[r.pos] >= '1' && r.in[r.pos] <= '9':
		r.skipDigits()
	default:
		return nil, r.syntaxError("in a number")
	}
	if r.pos < len(r.in) && r.in[r.pos] == '.' {
		r.pos++
		if !r.skipDigits() {
			return nil, r.syntaxError("in a number")
		}
	}
	if r.pos < len(r.in) && (r.in[r.pos] == 'e' || r.in[r.pos] == 'E') {
		r.pos++
		if r.pos < len(r.in) && (r.in[r.pos] == '+' || r.in[r.pos] == '-') {
			r.pos++
		}
		if !r.skipDigits() {
			return nil, r.syntaxError("in a number")
		}
	}
	raw := r.in[start:r.pos]
	r.out = append(r.out, raw...)
	return validatorNumber(raw), nil
}

// skipDigits skips [0-9]* and reports whether there was at least one.
func (r *reader) skipDigits() bool {
	start := r.pos
	for r.pos < len(r.in) && r.in[r.pos] >= '0' && r.in[r.pos] <= '9' {
		r.pos++
	}
	return r.pos > start
}

// validatorNumber returns the number the schema validator sees for a number
// token. The validator converts numbers with big.Rat.SetString, which takes
// tens of milliseconds for 1e999999 and fails beyond an exponent of about 1e7
// (the validator then dereferences a nil *big.Rat). A long token or a large
// exponent is therefore replaced by a stand-in with the same sign and order of
// magnitude, clamped to 1e±999 (0 stays 0), which compares the same against
// any bound a schema would use. Only the validator sees the stand-in: the
// output keeps the token as written.
func validatorNumber(raw []byte) json.Number {
	const maxLen, maxExp, clampExp = 64, 400, 999
	mantissa, exp := raw, 0
	if i := bytes.IndexAny(raw, "eE"); i >= 0 {
		mantissa = raw[:i]
		var err error
		if exp, err = strconv.Atoi(string(raw[i+1:])); err != nil {
			// Out of range: at least 19 digits. Saturate, keeping the sign.
			exp = 1 << 40
			if raw[i+1] == '-' {
				exp = -exp
			}
		}
	}
	if len(raw) <= maxLen && -maxExp <= exp && exp <= maxExp {
		return json.Number(raw)
	}
	sign := ""
	if mantissa[0] == '-' {
		sign = "-"
		mantissa = mantissa[1:]
	}
	first, point := -1, len(mantissa) // first significant digit, decimal point
	for i, c := range mantissa {
		switch {
		case c == '.':
			point = i
		case c != '0' && first < 0:
			first = i
		}
	}
	if first < 0 {
		return "0"
	}
	// The decimal exponent of the first significant digit of the mantissa.
	mag := point - first - 1
	if first > point {
		mag = point - first
	}
	total := min(max(mag+exp, -clampExp), clampExp)
	return json.Number(sign + "1e" + strconv.Itoa(total))
}
