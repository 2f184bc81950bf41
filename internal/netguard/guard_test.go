package netguard_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/netguard"
)

func TestGuardCheck(t *testing.T) {
	t.Parallel()
	allow := []netip.Prefix{
		netip.MustParsePrefix("10.1.0.0/16"),
		netip.MustParsePrefix("fd00:1::/32"),
	}
	tests := []struct {
		name  string
		guard *netguard.Guard
		ip    string
		ok    bool
	}{
		{"ZeroPublic", &netguard.Guard{}, "8.8.8.8", true},
		{"ZeroPublicV6", &netguard.Guard{}, "2606:4700:4700::1111", true},
		{"ZeroLoopback", &netguard.Guard{}, "127.0.0.1", false},
		{"ZeroPrivate", &netguard.Guard{}, "10.1.2.3", false},
		{"ZeroMapped", &netguard.Guard{}, "::ffff:127.0.0.1", false},
		{"NilGuardBlocks", nil, "127.0.0.1", false},
		{"NilGuardPublic", nil, "1.1.1.1", true},
		{"AllowPrivateLoopback", &netguard.Guard{AllowPrivate: true}, "127.0.0.1", true},
		{"AllowPrivateMetadata", &netguard.Guard{AllowPrivate: true}, "169.254.169.254", true},
		{"AllowPrivateLinkLocalZone", &netguard.Guard{AllowPrivate: true}, "fe80::1%eth0", true},
		{"AllowListed", &netguard.Guard{Allow: allow}, "10.1.2.3", true},
		{"AllowListedMapped", &netguard.Guard{Allow: allow}, "::ffff:10.1.2.3", true},
		{"AllowListedV6", &netguard.Guard{Allow: allow}, "fd00:1::5", true},
		{"AllowNotListed", &netguard.Guard{Allow: allow}, "10.2.0.1", false},
		{"AllowNotListedLoopback", &netguard.Guard{Allow: allow}, "127.0.0.1", false},
		{"AllowNotListedV6", &netguard.Guard{Allow: allow}, "fd00:2::1", false},
		{"AllowDoesNotCoverNAT64", &netguard.Guard{Allow: allow}, "64:ff9b::10.1.2.3", false},
		{"AllowPublicStillPublic", &netguard.Guard{Allow: allow}, "8.8.4.4", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ip := netip.MustParseAddr(tt.ip)
			err := tt.guard.Check(ip)
			if (err == nil) != tt.ok {
				t.Fatalf("Check(%v) = %v; want ok=%v", ip, err, tt.ok)
			}
			if err == nil {
				return
			}
			var be *netguard.BlockedError
			if !errors.As(err, &be) {
				t.Fatalf("Check(%v) = %T; want *BlockedError", ip, err)
			}
			if be.Addr != ip {
				t.Errorf("Check(%v).Addr = %v; want %v", ip, be.Addr, ip)
			}
			if reason, _ := netguard.Classify(ip); be.Reason != reason {
				t.Errorf("Check(%v).Reason = %q; want %q", ip, be.Reason, reason)
			}
		})
	}
}

func TestBlockedErrorError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ip   string
		want string
	}{
		{"127.0.0.1", "target address not allowed: 127.0.0.1 is loopback"},
		{"10.0.0.1", "target address not allowed: 10.0.0.1 is private (RFC 1918)"},
		{"169.254.169.254", "target address not allowed: 169.254.169.254 is cloud metadata"},
		{"::ffff:127.0.0.1", "target address not allowed: ::ffff:127.0.0.1 is IPv4-mapped loopback"},
		{"fe80::1%eth0", "target address not allowed: fe80::1%eth0 is link-local"},
	}
	for _, tt := range tests {
		err := (&netguard.Guard{}).Check(netip.MustParseAddr(tt.ip))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Check(%s) = %v; want %q", tt.ip, err, tt.want)
		}
	}
}

// TestGuardControl calls the dialer hook directly, as the net package would
// with the address it is about to connect. Nothing is dialed.
func TestGuardControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		guard   *netguard.Guard
		network string
		address string
		ok      bool
		blocked bool // a *BlockedError, as opposed to another error
	}{
		{"Public", &netguard.Guard{}, "tcp4", "93.184.215.14:443", true, false},
		{"PublicV6", &netguard.Guard{}, "tcp6", "[2606:4700:4700::1111]:443", true, false},
		{"Loopback", &netguard.Guard{}, "tcp4", "127.0.0.1:8080", false, true},
		{"LoopbackV6", &netguard.Guard{}, "tcp6", "[::1]:443", false, true},
		{"Metadata", &netguard.Guard{}, "tcp4", "169.254.169.254:80", false, true},
		{"Private", &netguard.Guard{}, "tcp4", "192.168.0.10:443", false, true},
		{"Mapped", &netguard.Guard{}, "tcp6", "[::ffff:10.0.0.1]:443", false, true},
		{"NAT64", &netguard.Guard{}, "tcp6", "[64:ff9b::7f00:1]:443", false, true},
		{"LinkLocalZone", &netguard.Guard{}, "tcp6", "[fe80::1%eth0]:443", false, true},
		{"Unspecified", &netguard.Guard{}, "tcp4", "0.0.0.0:443", false, true},
		{"UDPPrivate", &netguard.Guard{}, "udp4", "10.0.0.53:53", false, true},
		{"AllowPrivate", &netguard.Guard{AllowPrivate: true}, "tcp4", "10.0.0.1:443", true, false},
		{"AllowCIDR", &netguard.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, "tcp4", "10.9.9.9:443", true, false},
		{"AllowCIDROther", &netguard.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, "tcp4", "172.16.0.1:443", false, true},
		{"HostName", &netguard.Guard{}, "tcp", "localhost:443", false, false},
		{"NoPort", &netguard.Guard{}, "tcp4", "8.8.8.8", false, false},
		{"UnixPath", &netguard.Guard{AllowPrivate: true}, "unix", "/run/hookd.sock", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.guard.Control(tt.network, tt.address, nil)
			if (err == nil) != tt.ok {
				t.Fatalf("Control(%q, %q) = %v; want ok=%v", tt.network, tt.address, err, tt.ok)
			}
			var be *netguard.BlockedError
			if got := errors.As(err, &be); got != tt.blocked {
				t.Fatalf("Control(%q, %q) = %v; want *BlockedError: %v", tt.network, tt.address, err, tt.blocked)
			}
		})
	}
}

func TestParseCIDRs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string // prefixes joined by ","
		wantErr string
	}{
		{"", "", ""},
		{" , ", "", ""},
		{"10.0.0.0/8", "10.0.0.0/8", ""},
		{"10.0.0.0/8,fd00::/8", "10.0.0.0/8,fd00::/8", ""},
		{" 10.0.0.0/8 , 192.168.1.0/24 ,", "10.0.0.0/8,192.168.1.0/24", ""},
		{"10.1.2.3/8", "10.0.0.0/8", ""},
		{"127.0.0.1", "127.0.0.1/32", ""},
		{"::1", "::1/128", ""},
		{"10.0.0.0/8,nope", "", `"nope"`},
		{"10.0.0.0/33", "", `"10.0.0.0/33"`},
		{"fe80::1%eth0", "", `"fe80::1%eth0"`},
		{"10.0.0.0/8;10.1.0.0/16", "", `"10.0.0.0/8;10.1.0.0/16"`},
	}
	for _, tt := range tests {
		got, err := netguard.ParseCIDRs(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseCIDRs(%q) error = %v; want one naming %s", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseCIDRs(%q) error = %v; want nil", tt.in, err)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if joined := strings.Join(s, ","); joined != tt.want {
			t.Errorf("ParseCIDRs(%q) = %s; want %s", tt.in, joined, tt.want)
		}
	}
}

// listen starts a TCP listener on a loopback address, or skips the test if
// that family is not available.
func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// assertNoConnection checks that nothing connected to ln.
func assertNoConnection(t *testing.T, ln net.Listener) {
	t.Helper()
	if err := ln.(*net.TCPListener).SetDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if c, err := ln.Accept(); err == nil {
		c.Close()
		t.Fatalf("a connection reached %v; want none", ln.Addr())
	}
}

// TestDialLoopback really dials, but only loopback listeners of this test.
func TestDialLoopback(t *testing.T) {
	t.Parallel()
	for _, family := range []struct{ name, listen string }{
		{"IPv4", "127.0.0.1:0"},
		{"IPv6", "[::1]:0"},
	} {
		t.Run(family.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()

			t.Run("Blocked", func(t *testing.T) {
				t.Parallel()
				ln := listen(t, family.listen)
				dial := (&netguard.Guard{}).DialContext(&net.Dialer{Timeout: 2 * time.Second})
				conn, err := dial(ctx, "tcp", ln.Addr().String())
				if err == nil {
					conn.Close()
					t.Fatalf("dial %v: connected; want a blocked error", ln.Addr())
				}
				var be *netguard.BlockedError
				if !errors.As(err, &be) {
					t.Fatalf("dial %v: error = %v (%T); want one wrapping *BlockedError", ln.Addr(), err, err)
				}
				if be.Reason != "loopback" {
					t.Errorf("dial %v: Reason = %q; want %q", ln.Addr(), be.Reason, "loopback")
				}
				assertNoConnection(t, ln)
			})

			for _, guard := range []struct {
				name  string
				guard *netguard.Guard
			}{
				{"AllowPrivate", &netguard.Guard{AllowPrivate: true}},
				{"AllowCIDR", &netguard.Guard{Allow: []netip.Prefix{
					netip.MustParsePrefix("127.0.0.0/8"),
					netip.MustParsePrefix("::1/128"),
				}}},
			} {
				t.Run(guard.name, func(t *testing.T) {
					t.Parallel()
					ln := listen(t, family.listen)
					dial := guard.guard.DialContext(&net.Dialer{Timeout: 2 * time.Second})
					conn, err := dial(ctx, "tcp", ln.Addr().String())
					if err != nil {
						t.Fatalf("dial %v: %v; want a connection", ln.Addr(), err)
					}
					conn.Close()
				})
			}
		})
	}
}

// TestDialContextChainsControl checks that an existing Control or
// ControlContext of the dialer still runs, after the guard, and that the
// caller's dialer is not modified.
func TestDialContextChainsControl(t *testing.T) {
	t.Parallel()
	ln := listen(t, "127.0.0.1:0")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	for _, guard := range []struct {
		name   string
		guard  *netguard.Guard
		wantOK bool
	}{
		{"Allowed", &netguard.Guard{AllowPrivate: true}, true},
		{"Blocked", &netguard.Guard{}, false},
	} {
		t.Run(guard.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			control := func(network, address string, c syscall.RawConn) error {
				calls.Add(1)
				return nil
			}
			for _, d := range []struct {
				name   string
				dialer *net.Dialer
			}{
				{"Control", &net.Dialer{Control: control}},
				{"ControlContext", &net.Dialer{ControlContext: func(_ context.Context, network, address string, c syscall.RawConn) error {
					return control(network, address, c)
				}}},
			} {
				calls.Store(0)
				conn, err := guard.guard.DialContext(d.dialer)(t.Context(), "tcp", ln.Addr().String())
				if (err == nil) != guard.wantOK {
					t.Fatalf("%s: dial = %v; want ok=%v", d.name, err, guard.wantOK)
				}
				if conn != nil {
					conn.Close()
				}
				want := int32(0)
				if guard.wantOK {
					want = 1
				}
				if got := calls.Load(); got != want {
					t.Errorf("%s: the dialer's own hook ran %d times; want %d", d.name, got, want)
				}
			}
		})
	}

	t.Run("DialerUnchanged", func(t *testing.T) {
		t.Parallel()
		d := &net.Dialer{Timeout: time.Second}
		_ = (&netguard.Guard{}).DialContext(d)
		if d.Control != nil || d.ControlContext != nil {
			t.Fatalf("DialContext modified the caller's dialer")
		}
	})

	t.Run("NilDialer", func(t *testing.T) {
		t.Parallel()
		_, err := (&netguard.Guard{}).DialContext(nil)(t.Context(), "tcp", ln.Addr().String())
		var be *netguard.BlockedError
		if !errors.As(err, &be) {
			t.Fatalf("dial with nil dialer = %v; want *BlockedError", err)
		}
	})
}

// TestTransportLocalhost sends a request for the name localhost through an
// http.Transport that dials with the guard. The name passes (no check on
// names), the resolved loopback address is refused when dialed: this is the
// path that defeats DNS rebinding.
func TestTransportLocalhost(t *testing.T) {
	t.Parallel()
	if addrs, err := net.DefaultResolver.LookupNetIP(t.Context(), "ip", "localhost"); err != nil || len(addrs) == 0 {
		t.Skipf("localhost does not resolve: %v", err)
	}
	// server starts a loopback HTTP server and returns a URL for it that
	// uses the name localhost, and its request counter.
	server := func(t *testing.T) (string, *atomic.Int32) {
		t.Helper()
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			io.WriteString(w, "ok")
		}))
		t.Cleanup(srv.Close)
		_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return "http://localhost:" + port + "/", &hits
	}

	client := func(g *netguard.Guard) *http.Client {
		tr := &http.Transport{
			Proxy:       nil,
			DialContext: g.DialContext(&net.Dialer{Timeout: 2 * time.Second}),
		}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 5 * time.Second}
	}

	t.Run("Blocked", func(t *testing.T) {
		t.Parallel()
		target, hits := server(t)
		resp, err := client(&netguard.Guard{}).Get(target)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s: status %s; want a blocked error", target, resp.Status)
		}
		var be *netguard.BlockedError
		if !errors.As(err, &be) {
			t.Fatalf("GET %s: error = %v; want one wrapping *BlockedError", target, err)
		}
		if !be.Addr.Unmap().IsLoopback() {
			t.Errorf("GET %s: blocked %v; want a loopback address", target, be.Addr)
		}
		if !strings.Contains(err.Error(), "target address not allowed") {
			t.Errorf("GET %s: error = %q; want it to say %q", target, err, "target address not allowed")
		}
		if n := hits.Load(); n != 0 {
			t.Fatalf("server got %d requests; want 0", n)
		}
	})

	t.Run("AllowedByCIDR", func(t *testing.T) {
		t.Parallel()
		target, hits := server(t)
		allow, err := netguard.ParseCIDRs("127.0.0.0/8,::1")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client(&netguard.Guard{Allow: allow}).Get(target)
		if err != nil {
			t.Fatalf("GET %s: %v; want 200", target, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d; want 200", target, resp.StatusCode)
		}
		if n := hits.Load(); n != 1 {
			t.Fatalf("server got %d requests; want 1", n)
		}
	})
}
