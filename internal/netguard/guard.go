package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// Guard decides which IP addresses outbound connections may reach. The zero
// value (and a nil *Guard) blocks every address that [Classify] does not call
// public. A Guard must not be modified while connections are being dialed
// through it.
type Guard struct {
	// AllowPrivate allows every address, public or not
	// (--allow-private-targets; for tests and on-prem installs). Default false.
	AllowPrivate bool
	// Allow lists prefixes that are allowed even though they are not public
	// (--allow-target-cidrs, parsed by [ParseCIDRs]). An address matches if
	// the prefix contains it, or its IPv4 form when it is IPv4-mapped.
	// Default none.
	Allow []netip.Prefix
}

// BlockedError is the error for a refused address. When dialing, the net
// package wraps it (in a *net.OpError, and net/http in a *url.Error); find it
// with errors.As.
type BlockedError struct {
	// Addr is the refused address, as dialed (zone included).
	Addr netip.Addr
	// Reason is the non-public range Addr is in, as returned by [Classify].
	Reason string
}

// Error returns e.g. "target address not allowed: 127.0.0.1 is loopback".
func (e *BlockedError) Error() string {
	return fmt.Sprintf("target address not allowed: %s is %s", e.Addr, e.Reason)
}

// Check returns nil if g allows connections to ip, else a *BlockedError.
func (g *Guard) Check(ip netip.Addr) error {
	if g != nil && g.AllowPrivate {
		return nil
	}
	reason, public := Classify(ip)
	if public {
		return nil
	}
	if g != nil && ip.IsValid() {
		bare := ip.WithZone("")
		for _, p := range g.Allow {
			if p.Contains(bare) || p.Contains(bare.Unmap()) {
				return nil
			}
		}
	}
	return &BlockedError{Addr: ip, Reason: reason}
}

// Control has the signature of [net.Dialer.Control]. The net package calls it
// for every connection attempt, after DNS resolution and before connect(2),
// with the "ip:port" about to be connected; Control refuses the attempt with
// a *BlockedError unless [Guard.Check] allows that IP. An address that is not
// an ip:port (a Unix socket path, say) is refused too.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: refusing %s connection to %q: not an ip:port", network, address)
	}
	return g.Check(ap.Addr())
}

// DialContext returns a dial function for [net/http.Transport.DialContext]
// that dials with a copy of d (a nil d is the zero net.Dialer) whose Control
// hook first calls [Guard.Control] and then d's own ControlContext or Control,
// if it has one. d itself is not modified.
//
// Every address the dialer tries, for every name resolution and every
// fallback, is checked; connections to refused addresses fail with an error
// wrapping a *BlockedError.
func (g *Guard) DialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var dialer net.Dialer
	if d != nil {
		dialer = *d
	}
	switch prevCtx, prev := dialer.ControlContext, dialer.Control; {
	case prevCtx != nil:
		// The net package ignores Control when ControlContext is set.
		dialer.ControlContext = func(ctx context.Context, network, address string, c syscall.RawConn) error {
			if err := g.Control(network, address, c); err != nil {
				return err
			}
			return prevCtx(ctx, network, address, c)
		}
	case prev != nil:
		dialer.Control = func(network, address string, c syscall.RawConn) error {
			if err := g.Control(network, address, c); err != nil {
				return err
			}
			return prev(network, address, c)
		}
	default:
		dialer.Control = g.Control
	}
	return dialer.DialContext
}

// ParseCIDRs parses the value of --allow-target-cidrs: a comma-separated list
// of prefixes such as "10.0.0.0/8, fd00::/8". Spaces around items and empty
// items are ignored; a bare address means just that address (/32 or /128);
// host bits are cleared ("10.1.2.3/8" is 10.0.0.0/8). The error names the
// first item that is not a prefix. An empty s gives an empty list.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, aerr := netip.ParseAddr(item)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("invalid CIDR %q: want an address prefix such as 10.0.0.0/8 or fd00::/8", item)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
