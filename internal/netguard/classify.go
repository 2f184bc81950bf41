package netguard

import "net/netip"

// reasonPublic is the reason Classify gives for a public address.
const reasonPublic = "public"

// rangeRule names one special-purpose range. The first matching rule wins, so
// more specific rules come first.
type rangeRule struct {
	prefix netip.Prefix
	reason string
}

func rules(reason string, prefixes ...string) []rangeRule {
	out := make([]rangeRule, len(prefixes))
	for i, p := range prefixes {
		out[i] = rangeRule{netip.MustParsePrefix(p), reason}
	}
	return out
}

func concat(lists ...[]rangeRule) []rangeRule {
	var out []rangeRule
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// v4Rules are the IPv4 ranges that are not public (IANA IPv4 Special-Purpose
// Address Registry, plus multicast and class E), and the well-known cloud
// metadata endpoints, which are called out by name because they are the
// classic SSRF prize.
var v4Rules = concat(
	rules("cloud metadata",
		"169.254.169.254/32", // AWS, GCP, Azure, OCI, DigitalOcean, … instance metadata
		"169.254.170.2/32",   // AWS ECS task metadata and credentials
		"169.254.170.23/32",  // AWS EKS Pod Identity agent
		"100.100.100.200/32", // Alibaba Cloud metadata (inside CGNAT space)
		"192.0.0.192/32",     // Oracle Cloud legacy metadata
		"168.63.129.16/32",   // Azure WireServer / host platform (in public space, reachable only from inside Azure)
	),
	rules("unspecified", "0.0.0.0/32"),
	rules("this network (0.0.0.0/8)", "0.0.0.0/8"),
	rules("private (RFC 1918)", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"),
	rules("CGNAT", "100.64.0.0/10"),
	rules("loopback", "127.0.0.0/8"),
	rules("link-local", "169.254.0.0/16"),
	rules("IETF protocol assignment", "192.0.0.0/24"),
	rules("documentation", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"),
	rules("6to4 relay anycast (deprecated)", "192.88.99.0/24"),
	rules("benchmarking", "198.18.0.0/15"),
	rules("multicast", "224.0.0.0/4"),
	rules("broadcast", "255.255.255.255/32"),
	rules("reserved", "240.0.0.0/4"),
)

// v6Rules are the IPv6 ranges that are not public and carry no IPv4 address
// (those are handled in Classify before these rules). Anything outside
// 2000::/3 that no rule names is "reserved (not global unicast)".
var v6Rules = concat(
	rules("cloud metadata",
		"fd00:ec2::254/128", // AWS instance metadata over IPv6
		"fd20:ce::254/128",  // GCP metadata server over IPv6
	),
	rules("unspecified", "::/128"),
	rules("loopback", "::1/128"),
	rules("discard-only", "100::/64"),
	rules("Teredo", "2001::/32"),
	rules("benchmarking", "2001:2::/48"),
	rules("documentation", "2001:db8::/32", "3fff::/20"),
	rules("IETF protocol assignment", "2001::/23"),
	rules("unique local (ULA)", "fc00::/7"),
	rules("link-local", "fe80::/10"),
	rules("site-local (deprecated)", "fec0::/10"),
	rules("multicast", "ff00::/8"),
)

var (
	globalUnicast  = netip.MustParsePrefix("2000::/3")
	v4Compatible   = netip.MustParsePrefix("::/96")
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	nat64LocalUse  = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour      = netip.MustParsePrefix("2002::/16")
)

// Classify reports whether ip is a public address that customer-controlled
// connections may reach, and if not, why: reason is a short phrase such as
// "loopback", "private (RFC 1918)" or "IPv4-mapped loopback" that reads well
// after "… is". For a public address reason is "public". Classify does no
// I/O.
//
// The IPv6 zone is ignored. IPv6 forms that embed an IPv4 address are
// classified by that address: IPv4-mapped (::ffff:a.b.c.d), NAT64
// (64:ff9b::/96) and 6to4 (2002::/16) are public exactly when the embedded
// address is. IPv4-compatible addresses (::a.b.c.d, deprecated), local-use
// NAT64 (64:ff9b:1::/48) and Teredo (2001::/32) are never public; for the
// first two the reason names the embedded address's range when it has one.
// The invalid zero Addr is not public.
func Classify(ip netip.Addr) (reason string, public bool) {
	ip = ip.WithZone("")
	switch {
	case !ip.IsValid():
		return "invalid address", false
	case ip.Is4():
		return classify4(ip)
	case ip.Is4In6():
		return embedded("IPv4-mapped ", ip.Unmap())
	case ip == netip.IPv6Unspecified():
		return "unspecified", false
	case ip == netip.IPv6Loopback():
		return "loopback", false
	case v4Compatible.Contains(ip):
		if reason, public := embedded("IPv4-compatible ", last32(ip)); !public {
			return reason, false
		}
		return "IPv4-compatible (deprecated)", false
	case nat64WellKnown.Contains(ip):
		return embedded("NAT64 ", last32(ip))
	case nat64LocalUse.Contains(ip):
		// The position of the IPv4 address depends on the local prefix length
		// (RFC 6052); the common /96 layout gives the more useful reason.
		if reason, public := embedded("NAT64 ", last32(ip)); !public {
			return reason, false
		}
		return "NAT64 local-use", false
	case sixToFour.Contains(ip):
		b := ip.As16()
		return embedded("6to4 ", netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	}
	for _, r := range v6Rules {
		if r.prefix.Contains(ip) {
			return r.reason, false
		}
	}
	if !globalUnicast.Contains(ip) {
		return "reserved (not global unicast)", false
	}
	return reasonPublic, true
}

func classify4(ip netip.Addr) (string, bool) {
	for _, r := range v4Rules {
		if r.prefix.Contains(ip) {
			return r.reason, false
		}
	}
	return reasonPublic, true
}

// embedded classifies the IPv4 address v4 carried inside an IPv6 address,
// prefixing a non-public reason with kind.
func embedded(kind string, v4 netip.Addr) (string, bool) {
	reason, public := classify4(v4)
	if public {
		return reasonPublic, true
	}
	return kind + reason, false
}

func last32(ip netip.Addr) netip.Addr {
	b := ip.As16()
	return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
}
