package netguard

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// FuzzValidateURL checks that ValidateURL never panics, that what it accepts
// validates to itself, and that with the default guard no accepted URL has a
// host that is, or that a browser would read as, a non-public IP address.
func FuzzValidateURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/hook",
		"https://0x7f.1/",
		"https://2130706433:443/",
		"https://[::ffff:7f00:1]/",
		"https://[fe80::1%25eth0]/",
		"https://127.0.0.1./",
		"http://1.1/?q=1",
		"https://b\u00fccher.example/",
		"https://\uff11\uff12\uff17.0.0.1/",
		"HTTPS://EXAMPLE.COM:0443/a%2Fb?x#",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, opts := range []URLOptions{
			{Guard: &Guard{}},
			{Guard: &Guard{}, AllowHTTP: true},
			{},
		} {
			out, err := ValidateURL(raw, opts)
			if err != nil {
				var ue *URLError
				if !errors.As(err, &ue) || ue.Reason == "" {
					t.Fatalf("ValidateURL(%q) error = %#v; want a *URLError with a reason", raw, err)
				}
				if out != "" {
					t.Fatalf("ValidateURL(%q) = %q with error %v; want \"\"", raw, out, err)
				}
				continue
			}
			if len(out) > DefaultMaxURLLen {
				t.Fatalf("ValidateURL(%q) = %q, %d bytes; want at most %d", raw, out, len(out), DefaultMaxURLLen)
			}
			if !strings.HasPrefix(out, "https://") && !(opts.AllowHTTP && strings.HasPrefix(out, "http://")) {
				t.Fatalf("ValidateURL(%q) = %q; want an https:// URL", raw, out)
			}
			again, err := ValidateURL(out, opts)
			if err != nil || again != out {
				t.Fatalf("ValidateURL(%q) = %q; ValidateURL(%q) = %q, %v; want it to validate to itself", raw, out, out, again, err)
			}
			u, err := url.Parse(out)
			if err != nil {
				t.Fatalf("ValidateURL(%q) = %q, which url.Parse refuses: %v", raw, out, err)
			}
			host := u.Hostname()
			ip, ipErr := netip.ParseAddr(host)
			if ipErr != nil && isASCII(host) && endsInNumber(host) {
				t.Fatalf("ValidateURL(%q) = %q, whose host a browser reads as an IPv4 address", raw, out)
			}
			if ipErr == nil && opts.Guard != nil {
				if reason, public := Classify(ip); !public {
					t.Fatalf("ValidateURL(%q) = %q with the default guard, but %v is %s", raw, out, ip, reason)
				}
			}
		}
	})
}

// FuzzClassify checks that Classify never panics and agrees with itself
// across the spellings of one address, and that Guard.Check follows it.
func FuzzClassify(f *testing.F) {
	f.Add([]byte{127, 0, 0, 1}, "")
	f.Add([]byte{8, 8, 8, 8}, "")
	f.Add([]byte{169, 254, 169, 254}, "")
	f.Add(netip.MustParseAddr("fe80::1").AsSlice(), "eth0")
	f.Add(netip.MustParseAddr("2606:4700:4700::1111").AsSlice(), "")
	f.Add(netip.MustParseAddr("64:ff9b::7f00:1").AsSlice(), "")
	f.Fuzz(func(t *testing.T, b []byte, zone string) {
		ip, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		if ip.Is6() && zone != "" {
			ip = ip.WithZone(zone)
		}
		reason, public := Classify(ip)
		if reason == "" || public != (reason == reasonPublic) {
			t.Fatalf("Classify(%v) = %q, %v; want a reason, \"public\" exactly when public", ip, reason, public)
		}
		if r, p := Classify(ip.WithZone("")); r != reason || p != public {
			t.Fatalf("Classify(%v) = %q, %v but Classify without zone = %q, %v", ip, reason, public, r, p)
		}
		err := (&Guard{}).Check(ip)
		if (err == nil) != public {
			t.Fatalf("Classify(%v) public = %v but Guard{}.Check = %v", ip, public, err)
		}
		if err := (&Guard{AllowPrivate: true}).Check(ip); err != nil {
			t.Fatalf("Guard{AllowPrivate}.Check(%v) = %v; want nil", ip, err)
		}
		only := netip.PrefixFrom(ip.WithZone(""), ip.BitLen())
		if err := (&Guard{Allow: []netip.Prefix{only}}).Check(ip); err != nil {
			t.Fatalf("Guard{Allow: %v}.Check(%v) = %v; want nil", only, ip, err)
		}
		if !ip.Is4() {
			return
		}
		v4 := ip.As4()
		for kind, a := range map[string]netip.Addr{
			"IPv4-mapped": netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: v4[0], 13: v4[1], 14: v4[2], 15: v4[3]}),
			"NAT64":       netip.AddrFrom16([16]byte{0, 0x64, 0xff, 0x9b, 12: v4[0], 13: v4[1], 14: v4[2], 15: v4[3]}),
			"6to4":        netip.AddrFrom16([16]byte{0x20, 0x02, v4[0], v4[1], v4[2], v4[3], 15: 1}),
		} {
			if r, p := Classify(a); p != public {
				t.Fatalf("Classify(%v) = %q, %v but Classify(%v) = %q, %v; want the %s form to agree", a, r, p, ip, reason, public, kind)
			}
		}
		compat := netip.AddrFrom16([16]byte{12: v4[0], 13: v4[1], 14: v4[2], 15: v4[3]})
		if r, p := Classify(compat); p {
			t.Fatalf("Classify(%v) = %q, true; want IPv4-compatible addresses never public", compat, r)
		}
	})
}
