package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// DefaultMaxURLLen is the longest endpoint URL accepted, in bytes (docs/api.md),
// when [URLOptions.MaxLen] is 0.
const DefaultMaxURLLen = 2048

// URLOptions configures [ValidateURL].
type URLOptions struct {
	// AllowHTTP accepts http:// URLs as well as https:// ones (--allow-http,
	// for development). Default false.
	AllowHTTP bool
	// Guard, if non-nil, refuses URLs whose host is a literal IP address the
	// guard blocks. With a nil Guard, or one with AllowPrivate set, literal
	// private addresses are accepted. Host names are never resolved.
	Guard *Guard
	// MaxLen is the maximum length in bytes of the URL, both as given and
	// normalised. 0 (or less) means DefaultMaxURLLen (2048).
	MaxLen int
}

// URLError is the error [ValidateURL] returns for a URL it refuses.
type URLError struct {
	// Reason says what is wrong in a sentence the user can act on, e.g.
	// "URL must use https", and for the refusals a developer meets on their
	// own machine a second sentence naming the flag that lifts the rule:
	// "target address not allowed: 10.0.0.1 is private (RFC 1918). For
	// local development, run hookd serve with --allow-private-targets." It
	// is the whole error message.
	Reason string
}

// Error returns e.Reason.
func (e *URLError) Error() string { return e.Reason }

func urlErrorf(format string, args ...any) *URLError {
	return &URLError{Reason: fmt.Sprintf(format, args...)}
}

// ValidateURL checks an endpoint URL against the rules of docs/api.md and docs/security.md and
// returns it normalised. Every error is a *URLError.
//
// A URL is accepted if it is an absolute https:// URL (or http:// with
// opts.AllowHTTP) of at most opts.MaxLen bytes that has a host, has no user
// info, has no fragment, and contains no whitespace, control or invisible
// formatting characters, backslashes or invalid UTF-8. Fragments are refused
// rather than dropped: they are never sent, so a URL with one does not mean
// what its author thinks.
//
// The host may be a name or a literal IP address. Every spelling of an IPv4
// address that the WHATWG URL parser (browsers) or C's inet_aton accept is
// recognised: 2130706433, 0x7f000001, 0x7f.1, 0177.0.0.1, 127.1, 127.0.0.1.
// and so on. A host that the WHATWG parser would take for an IPv4 address but
// that is not a valid one (1.2.3.4.5, 256.1.1.1, 08.1.1.1, example.123) is
// refused, as is a host outside ASCII that turns into an IP address under
// IDNA mapping (UTS #46, as net/http applies it: fullwidth digits, say). With a non-nil opts.Guard, a
// literal address it blocks is refused with a message that starts with
// "target address not allowed". Host names, localhost included, are
// accepted: they are checked when dialed (see the package doc).
//
// Normalisation, so that the result validates to itself:
//   - the scheme and an ASCII host are lower-cased; a non-ASCII (IDN) host
//     is percent-decoded and lower-cased but otherwise kept as given, not
//     converted to punycode (net/http converts it when it connects);
//   - a literal IPv4 address in any spelling becomes the dotted quad, without
//     a trailing dot; an IPv6 address gets its canonical form (RFC 5952);
//   - a host name keeps a trailing dot if it has one;
//   - the default port (:443 for https, :80 for http) and an empty port are
//     dropped, and leading zeros of a port are removed;
//   - an empty path becomes "/"; the path keeps its percent-encoding, with
//     characters that need it encoded; the query is kept as given, and an
//     empty query ("?" alone) and an empty fragment ("#" alone) are dropped.
func ValidateURL(raw string, opts URLOptions) (string, error) {
	maxLen := opts.MaxLen
	if maxLen <= 0 {
		maxLen = DefaultMaxURLLen
	}
	if raw == "" {
		return "", urlErrorf("URL is required")
	}
	if len(raw) > maxLen {
		return "", urlErrorf("URL is longer than %d bytes", maxLen)
	}
	if err := checkChars(raw); err != nil {
		return "", err
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", urlErrorf("URL is not valid: %s", strings.TrimPrefix(err.Error(), "net/url: "))
	}
	switch {
	case u.Scheme == "":
		return "", urlErrorf("URL must be absolute, like https://example.com/webhook")
	case u.Scheme == "https", u.Scheme == "http" && opts.AllowHTTP:
	case opts.AllowHTTP:
		return "", urlErrorf("URL must use http or https")
	case u.Scheme == "http":
		return "", urlErrorf("URL must use https. %s", AdviceHTTP)
	default:
		return "", urlErrorf("URL must use https")
	}
	if u.Opaque != "" { // https:example.com
		return "", urlErrorf("URL must be absolute, like https://example.com/webhook")
	}
	if u.User != nil {
		return "", urlErrorf("URL must not contain user info (user:password@)")
	}
	if u.Fragment != "" {
		return "", urlErrorf("URL must not contain a fragment (#…): it is never sent to the server")
	}
	if u.Hostname() == "" {
		return "", urlErrorf("URL has no host")
	}

	host, err := normaliseHost(u, opts.Guard)
	if err != nil {
		return "", err
	}
	port, err := normalisePort(u)
	if err != nil {
		return "", err
	}

	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(host)
	if port != "" {
		b.WriteString(":")
		b.WriteString(port)
	}
	if p := u.EscapedPath(); p != "" {
		b.WriteString(p)
	} else {
		b.WriteString("/")
	}
	if u.RawQuery != "" {
		b.WriteString("?")
		b.WriteString(u.RawQuery)
	}
	out := b.String()
	if len(out) > maxLen {
		// Possible only when a short IPv4 spelling grows ("1.1" is 1.0.0.1).
		return "", urlErrorf("URL is longer than %d bytes", maxLen)
	}
	return out, nil
}

// checkChars refuses what must not appear anywhere in a URL.
func checkChars(s string) error {
	if !utf8.ValidString(s) {
		return urlErrorf("URL must be valid UTF-8")
	}
	for _, r := range s {
		switch {
		case badRune(r):
			return urlErrorf("URL must not contain whitespace or control characters")
		case r == '\\':
			// Browsers read a backslash as a slash and Go does not; refusing
			// it keeps every parser seeing the same host.
			return urlErrorf("URL must not contain a backslash")
		}
	}
	return nil
}

// badRune reports whether r is whitespace, a control character or an
// invisible formatting character (zero-width space, soft hyphen, bidi
// overrides, …).
func badRune(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}

// normaliseHost returns the host part of the normalised URL (brackets
// included for IPv6) after refusing literal addresses that guard blocks.
func normaliseHost(u *url.URL, guard *Guard) (string, error) {
	host := u.Hostname() // percent-decoded by url.Parse, brackets removed
	if strings.HasPrefix(u.Host, "[") {
		// url.Parse has checked that this is an IPv6 address with
		// netip.ParseAddr; check again rather than trust it.
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() {
			return "", urlErrorf("URL host %q is not a valid IPv6 address", short(host))
		}
		if err := checkIP(ip, guard); err != nil {
			return "", err
		}
		zone := ip.Zone()
		if zone == "" {
			return "[" + ip.String() + "]", nil
		}
		if !validZone(zone) {
			return "", urlErrorf("URL host has an invalid IPv6 zone %q", short(zone))
		}
		return "[" + ip.WithZone("").String() + "%25" + zone + "]", nil
	}

	if !utf8.ValidString(host) || strings.IndexFunc(host, badRune) >= 0 {
		return "", urlErrorf("URL host must not contain whitespace or control characters")
	}
	host = strings.ToLower(host)
	if isASCII(host) && endsInNumber(host) {
		ip, ok := parseIPv4(host)
		if !ok {
			return "", urlErrorf("URL host %q is not a valid IPv4 address or host name", short(host))
		}
		if err := checkIP(ip, guard); err != nil {
			return "", err
		}
		return ip.String(), nil
	}
	if !isASCII(host) {
		// net/http maps a non-ASCII host with IDNA (UTS #46, the lookup
		// profile) before it resolves it; map it the same way to see
		// what it will dial.
		ascii, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return "", urlErrorf("URL host %q is not a valid internationalised host name", short(host))
		}
		if endsInNumber(strings.ToLower(ascii)) {
			return "", urlErrorf("URL host %q looks like an IP address written with non-ASCII characters; write it in ASCII", short(host))
		}
		if err := checkHostName(strings.ToLower(ascii)); err != nil {
			return "", err
		}
		return host, nil
	}
	if err := checkHostName(host); err != nil {
		return "", err
	}
	return host, nil
}

func checkIP(ip netip.Addr, guard *Guard) error {
	if guard == nil {
		return nil
	}
	if err := guard.Check(ip); err != nil {
		return &URLError{Reason: err.Error() + ". " + AdvicePrivateTargets}
	}
	return nil
}

// validZone reports whether zone looks like an interface name or index.
func validZone(zone string) bool {
	for i := 0; i < len(zone); i++ {
		c := zone[i]
		if !isAlnum(c) && c != '-' && c != '.' && c != '_' {
			return false
		}
	}
	return zone != ""
}

// checkHostName checks a lower-cased host name: labels of letters, digits,
// '-' and '_', at most 63 bytes each, at most 253 bytes in all, no empty
// label except one for a trailing dot. A non-ASCII name is checked in its
// IDNA (punycode) form.
func checkHostName(host string) error {
	name := strings.TrimSuffix(host, ".")
	if name == "" || len(name) > 253 {
		return urlErrorf("URL host %q is not a valid host name", short(host))
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return urlErrorf("URL host %q is not a valid host name: it has an empty label", short(host))
		}
		ascii := true
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c >= utf8.RuneSelf:
				ascii = false
			case isAlnum(c) || c == '-' || c == '_':
			default:
				return urlErrorf("URL host %q is not a valid host name: it contains %q", short(host), string(c))
			}
		}
		if ascii && len(label) > 63 {
			return urlErrorf("URL host %q is not a valid host name: a label is longer than 63 bytes", short(host))
		}
	}
	return nil
}

// normalisePort returns the port to write, "" for none or the default one.
func normalisePort(u *url.URL) (string, error) {
	p := u.Port() // url.Parse has checked it is all digits
	if p == "" {
		return "", nil
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return "", urlErrorf("URL port must be between 1 and 65535")
	}
	if (u.Scheme == "https" && n == 443) || (u.Scheme == "http" && n == 80) {
		return "", nil
	}
	return strconv.FormatUint(n, 10), nil
}

// endsInNumber implements the WHATWG URL Standard's "ends in a number"
// check: whether the host parser treats host as an IPv4 address (and fails
// the whole URL if it is not a valid one).
func endsInNumber(host string) bool {
	parts := strings.Split(host, ".")
	if parts[len(parts)-1] == "" {
		if len(parts) == 1 {
			return false
		}
		parts = parts[:len(parts)-1]
	}
	last := parts[len(parts)-1]
	if last != "" && strings.Trim(last, "0123456789") == "" {
		return true
	}
	_, ok := parseIPv4Number(last)
	return ok
}

// parseIPv4 implements the WHATWG IPv4 parser, which accepts the same
// spellings as inet_aton(3) plus a trailing dot: one to four parts, each
// decimal, octal (leading 0) or hexadecimal (0x), the last part filling the
// remaining bytes.
func parseIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v := last
	for i, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, false
		}
		v += n << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseIPv4Number implements the WHATWG "IPv4 number parser". Values above
// 2^32 saturate; they are too big for any part anyway.
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d := hexDigit(s[i])
		if d >= base {
			return 0, false
		}
		if n <= 1<<32 {
			n = n*base + d
		}
	}
	return n, true
}

// hexDigit returns the value of hex digit c, or 16 if c is not one.
func hexDigit(c byte) uint64 {
	switch {
	case '0' <= c && c <= '9':
		return uint64(c - '0')
	case 'a' <= c && c <= 'f':
		return uint64(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return uint64(c-'A') + 10
	}
	return 16
}

// short shortens a host for an error message.
func short(host string) string {
	const maxRunes = 64
	i := 0
	for j := range host {
		if i == maxRunes {
			return host[:j] + "…"
		}
		i++
	}
	return host
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
