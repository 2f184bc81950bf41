package netguard_test

import (
	"net/netip"
	"testing"

	"github.com/hookd/hookd/internal/netguard"
)

// TestClassify classifies addresses from every range without dialing any.
func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ip     string
		reason string
		public bool
	}{
		// Public.
		{"8.8.8.8", "public", true},
		{"1.1.1.1", "public", true},
		{"93.184.215.14", "public", true},
		{"11.0.0.1", "public", true},
		{"100.63.255.255", "public", true},
		{"100.128.0.0", "public", true},
		{"172.15.255.255", "public", true},
		{"172.32.0.0", "public", true},
		{"192.0.1.1", "public", true},
		{"192.88.98.1", "public", true},
		{"192.169.0.1", "public", true},
		{"198.17.255.255", "public", true},
		{"198.20.0.0", "public", true},
		{"223.255.255.255", "public", true},
		{"2606:4700:4700::1111", "public", true},
		{"2001:4860:4860::8888", "public", true},
		{"2a00:1450:4001:80b::200e", "public", true},
		{"2001:200::1", "public", true},  // just past 2001::/23
		{"3ffe::1", "public", true},      // former 6bone, now plain global unicast
		{"3fff:1000::1", "public", true}, // just past 3fff::/20

		// IPv4 special-purpose ranges.
		{"0.0.0.0", "unspecified", false},
		{"0.1.2.3", "this network (0.0.0.0/8)", false},
		{"0.255.255.255", "this network (0.0.0.0/8)", false},
		{"10.0.0.1", "private (RFC 1918)", false},
		{"10.255.255.255", "private (RFC 1918)", false},
		{"172.16.0.1", "private (RFC 1918)", false},
		{"172.31.255.255", "private (RFC 1918)", false},
		{"192.168.1.1", "private (RFC 1918)", false},
		{"100.64.0.1", "CGNAT", false},
		{"100.127.255.255", "CGNAT", false},
		{"127.0.0.1", "loopback", false},
		{"127.255.255.254", "loopback", false},
		{"169.254.0.1", "link-local", false},
		{"169.254.169.254", "cloud metadata", false},
		{"169.254.170.2", "cloud metadata", false},
		{"169.254.170.23", "cloud metadata", false},
		{"100.100.100.200", "cloud metadata", false},
		{"168.63.129.16", "cloud metadata", false},
		{"192.0.0.192", "cloud metadata", false},
		{"192.0.0.1", "IETF protocol assignment", false},
		{"192.0.0.170", "IETF protocol assignment", false},
		{"192.0.2.1", "documentation", false},
		{"198.51.100.7", "documentation", false},
		{"203.0.113.255", "documentation", false},
		{"192.88.99.1", "6to4 relay anycast (deprecated)", false},
		{"198.18.0.1", "benchmarking", false},
		{"198.19.255.255", "benchmarking", false},
		{"224.0.0.1", "multicast", false},
		{"239.255.255.250", "multicast", false},
		{"240.0.0.1", "reserved", false},
		{"255.255.255.254", "reserved", false},
		{"255.255.255.255", "broadcast", false},

		// IPv6 special-purpose ranges.
		{"::", "unspecified", false},
		{"::1", "loopback", false},
		{"100::1", "discard-only", false},
		{"2001::1", "Teredo", false},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo", false},
		{"2001:2::1", "benchmarking", false},
		{"2001:db8::1", "documentation", false},
		{"3fff::1", "documentation", false},
		{"2001:1::1", "IETF protocol assignment", false},
		{"2001:20::1", "IETF protocol assignment", false},
		{"2001:1ff::1", "IETF protocol assignment", false},
		{"fc00::1", "unique local (ULA)", false},
		{"fd12:3456:789a::1", "unique local (ULA)", false},
		{"fd00:ec2::254", "cloud metadata", false},
		{"fd20:ce::254", "cloud metadata", false},
		{"fe80::1", "link-local", false},
		{"febf:ffff::1", "link-local", false},
		{"fec0::1", "site-local (deprecated)", false},
		{"ff02::1", "multicast", false},
		{"ff05::1:3", "multicast", false},
		{"4000::1", "reserved (not global unicast)", false},
		{"5f00::1", "reserved (not global unicast)", false},
		{"1::1", "reserved (not global unicast)", false},
		{"::ffff:0:7f00:1", "reserved (not global unicast)", false}, // IPv4-translated (SIIT)
		{"e000::1", "reserved (not global unicast)", false},

		// IPv4-mapped: classified by the embedded address.
		{"::ffff:127.0.0.1", "IPv4-mapped loopback", false},
		{"::ffff:7f00:1", "IPv4-mapped loopback", false},
		{"0:0:0:0:0:ffff:127.0.0.1", "IPv4-mapped loopback", false},
		{"::ffff:10.1.2.3", "IPv4-mapped private (RFC 1918)", false},
		{"::ffff:169.254.169.254", "IPv4-mapped cloud metadata", false},
		{"::ffff:0.0.0.0", "IPv4-mapped unspecified", false},
		{"::ffff:8.8.8.8", "public", true},

		// IPv4-compatible (deprecated): never public.
		{"::127.0.0.1", "IPv4-compatible loopback", false},
		{"::7f00:1", "IPv4-compatible loopback", false},
		{"::10.0.0.1", "IPv4-compatible private (RFC 1918)", false},
		{"::8.8.8.8", "IPv4-compatible (deprecated)", false},

		// NAT64.
		{"64:ff9b::127.0.0.1", "NAT64 loopback", false},
		{"64:ff9b::a9fe:a9fe", "NAT64 cloud metadata", false},
		{"64:ff9b::10.0.0.1", "NAT64 private (RFC 1918)", false},
		{"64:ff9b::8.8.8.8", "public", true},
		{"64:ff9b:1::10.0.0.1", "NAT64 private (RFC 1918)", false},
		{"64:ff9b:1::8.8.8.8", "NAT64 local-use", false},
		{"64:ff9b:1:ffff::808:808", "NAT64 local-use", false},
		{"64:ff9b:2::8.8.8.8", "reserved (not global unicast)", false},

		// 6to4.
		{"2002:7f00:1::", "6to4 loopback", false},
		{"2002:7f00:0001:0:0:0:0:1", "6to4 loopback", false},
		{"2002:a00:1::1", "6to4 private (RFC 1918)", false},
		{"2002:a9fe:a9fe::", "6to4 cloud metadata", false},
		{"2002:c000:204::1", "6to4 documentation", false},
		{"2002:808:808::1", "public", true},

		// Zones are ignored.
		{"fe80::1%eth0", "link-local", false},
		{"::1%lo", "loopback", false},
		{"ff02::1%2", "multicast", false},
		{"2606:4700:4700::1111%eth0", "public", true},
		{"::ffff:127.0.0.1%eth0", "IPv4-mapped loopback", false},
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.ip)
		reason, public := netguard.Classify(ip)
		if reason != tt.reason || public != tt.public {
			t.Errorf("Classify(%v) = %q, %v; want %q, %v", ip, reason, public, tt.reason, tt.public)
		}
	}
}

func TestClassifyInvalid(t *testing.T) {
	t.Parallel()
	if reason, public := netguard.Classify(netip.Addr{}); public || reason == "" {
		t.Errorf("Classify(netip.Addr{}) = %q, %v; want a reason, false", reason, public)
	}
}
