package netguard

import "net/netip"

// The second sentences of the messages a developer running hookd on their
// own machine meets first: each names the serve flag that lifts the rule.
// Production keeps both flags off (see docs/security.md).
const (
	// AdvicePrivateTargets follows a refusal of a loopback, private or
	// other non-public target.
	AdvicePrivateTargets = "For local development, run hookd serve with --allow-private-targets."
	// AdviceHTTP follows a refusal of an http:// URL.
	AdviceHTTP = "For local development, run hookd serve with --allow-http."
)

// IsLoopbackHost reports whether host (a URL's host name, without port or
// brackets) is this machine: "localhost", a name under ".localhost"
// (RFC 6761), or a loopback address, IPv4-mapped ones included.
func IsLoopbackHost(host string) bool {
	switch h := trimDot(lower(host)); {
	case h == "localhost", len(h) > len(".localhost") && h[len(h)-len(".localhost"):] == ".localhost":
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		if ip4, ok := parseIPv4(lower(host)); ok {
			return ip4.IsLoopback()
		}
		return false
	}
	return ip.Unmap().IsLoopback()
}

func trimDot(s string) string {
	if len(s) > 1 && s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
