package hook

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strings"
)

// Limits on an endpoint's custom headers (docs/delivery.md, "Custom
// headers").
const (
	MaxHeaders         = 20
	MaxHeaderNameLen   = 64
	MaxHeaderValueLen  = 1 << 10
	MaxHeadersTotalLen = 8 << 10
)

// Bounds of an endpoint's rate limit, in deliveries per second.
const (
	MinRateLimit = 1
	MaxRateLimit = 10_000
)

// Header is a custom header an endpoint sends with every delivery. Value
// is the stored form (sealed when hookd runs with --secret-key); Masked
// is what listings show in its place.
type Header struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Masked string `json:"masked"`
}

// MaskHeaderValue hides a header value: a value of 16 bytes or more
// shows its last four, a shorter one nothing, so that a user can tell
// two long credentials apart without the listing revealing a short one.
func MaskHeaderValue(v string) string {
	const dots = "••••"
	if len(v) < 16 {
		return dots
	}
	return dots + v[len(v)-4:]
}

// reservedHeader reports why hookd refuses a custom header name, or "".
func reservedHeader(lower string) string {
	switch {
	case strings.HasPrefix(lower, "webhook-"):
		return "hookd sets the webhook-* headers itself (signature, id, timestamp)"
	case strings.HasPrefix(lower, "proxy-"):
		return "proxy-* headers change the transport"
	}
	switch lower {
	case "content-type", "content-length", "user-agent":
		return "hookd sets this header itself"
	case "host", "connection", "transfer-encoding", "te", "upgrade", "trailer", "expect", "keep-alive":
		return "this header changes the transport"
	}
	return ""
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// ParseHeaders reads the "headers" member of an endpoint request: JSON
// null (no custom headers) or an object of header names to string values.
// It checks the rules of docs/delivery.md and returns the headers in the
// order given, with Value in plain text and Masked set; every refusal is
// an *Error EInvalidParameter whose message names the header.
func ParseHeaders(raw json.RawMessage) ([]Header, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	bad := func(format string, args ...any) error {
		return FieldErrorf(EInvalidParameter, "headers", format, args...)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, bad(`headers is an object of header names to string values, such as {"Authorization": "Bearer …"}, or null.`)
	}
	var (
		out   []Header
		seen  []string
		total int
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad("headers is not valid JSON.")
		}
		name := tok.(string)
		var value any
		if err := dec.Decode(&value); err != nil {
			return nil, bad("headers is not valid JSON.")
		}
		shown := name
		if len(shown) > MaxHeaderNameLen {
			shown = shown[:MaxHeaderNameLen] + "…"
		}
		if name == "" || len(name) > MaxHeaderNameLen {
			return nil, bad("The header name %q is not 1 to %d bytes long.", shown, MaxHeaderNameLen)
		}
		for i := 0; i < len(name); i++ {
			if !isTokenChar(name[i]) {
				return nil, bad("The header name %q is not an HTTP token (letters, digits and !#$%%&'*+-.^_`|~ only).", shown)
			}
		}
		lower := strings.ToLower(name)
		if why := reservedHeader(lower); why != "" {
			return nil, bad("The header %q cannot be set: %s.", name, why)
		}
		if slices.Contains(seen, lower) {
			return nil, bad("The header %q is given twice (header names are case-insensitive).", name)
		}
		seen = append(seen, lower)
		v, ok := value.(string)
		if !ok {
			return nil, bad("The value of the header %q must be a string.", name)
		}
		if len(v) > MaxHeaderValueLen {
			return nil, bad("The value of the header %q is %d bytes; the limit is %d.", name, len(v), MaxHeaderValueLen)
		}
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case c == '\r' || c == '\n' || c == 0:
				return nil, bad("The value of the header %q contains CR, LF or NUL.", name)
			case c < 0x20 && c != '\t' || c == 0x7f:
				return nil, bad("The value of the header %q contains a control character.", name)
			}
		}
		total += len(name) + len(v)
		out = append(out, Header{Name: name, Value: v, Masked: MaskHeaderValue(v)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad("headers is not valid JSON.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("headers is not valid JSON.")
	}
	if len(out) > MaxHeaders {
		return nil, bad("headers has %d headers; the limit is %d.", len(out), MaxHeaders)
	}
	if total > MaxHeadersTotalLen {
		return nil, bad("The headers are %d bytes in all (names and values); the limit is %d.", total, MaxHeadersTotalLen)
	}
	return out, nil
}

// MaskedHeaders returns the headers as listings show them: name to
// masked value.
func MaskedHeaders(hs []Header) map[string]string {
	out := make(map[string]string, len(hs))
	for _, h := range hs {
		out[h.Name] = h.Masked
	}
	return out
}
