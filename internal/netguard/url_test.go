package netguard_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/netguard"
)

const notAllowed = "target address not allowed"

func TestValidateURL(t *testing.T) {
	t.Parallel()
	strict := netguard.URLOptions{Guard: &netguard.Guard{}}
	withHTTP := netguard.URLOptions{Guard: &netguard.Guard{}, AllowHTTP: true}
	allowPrivate := netguard.URLOptions{Guard: &netguard.Guard{AllowPrivate: true}}
	noGuard := netguard.URLOptions{}
	long := "https://example.com/" + strings.Repeat("a", 2048-len("https://example.com/"))

	tests := []struct {
		name    string
		raw     string
		opts    netguard.URLOptions
		want    string // the normalised URL, if accepted
		wantErr string // a substring of the error, if refused
	}{
		// Accepted and normalised.
		{"OK", "https://example.com/webhooks/hookd", strict, "https://example.com/webhooks/hookd", ""},
		{"OKQuery", "https://example.com/hook?token=abc&x=1", strict, "https://example.com/hook?token=abc&x=1", ""},
		{"EmptyPath", "https://example.com", strict, "https://example.com/", ""},
		{"UpperCase", "HTTPS://API.Example.COM/Hook", strict, "https://api.example.com/Hook", ""},
		{"DefaultPort", "https://example.com:443/hook", strict, "https://example.com/hook", ""},
		{"DefaultPortHTTP", "http://example.com:80/hook", withHTTP, "http://example.com/hook", ""},
		{"HTTPSPortOnHTTP", "http://example.com:443/hook", withHTTP, "http://example.com:443/hook", ""},
		{"OtherPort", "https://example.com:8443/hook", strict, "https://example.com:8443/hook", ""},
		{"PortLeadingZeros", "https://example.com:08443/", strict, "https://example.com:8443/", ""},
		{"PortLeadingZerosDefault", "https://example.com:0443/", strict, "https://example.com/", ""},
		{"EmptyPort", "https://example.com:/hook", strict, "https://example.com/hook", ""},
		{"EmptyQueryDropped", "https://example.com/hook?", strict, "https://example.com/hook", ""},
		{"EmptyFragmentDropped", "https://example.com/hook#", strict, "https://example.com/hook", ""},
		{"PathEscapingKept", "https://example.com/a%2Fb/c%20d", strict, "https://example.com/a%2Fb/c%20d", ""},
		{"PathNonASCIIEscaped", "https://example.com/caf\u00e9", strict, "https://example.com/caf%C3%A9", ""},
		{"Localhost", "https://localhost/hook", strict, "https://localhost/hook", ""},
		{"LocalhostSub", "https://app.localhost:3000/hook", strict, "https://app.localhost:3000/hook", ""},
		{"NameResolvingToLoopback", "https://127.0.0.1.nip.io/", strict, "https://127.0.0.1.nip.io/", ""},
		{"TrailingDotName", "https://example.com./hook", strict, "https://example.com./hook", ""},
		{"Underscore", "https://my_host.example.com/", strict, "https://my_host.example.com/", ""},
		{"HexLettersName", "https://cafe.bad/", strict, "https://cafe.bad/", ""},
		{"NumericFirstLabel", "https://123.example.com/", strict, "https://123.example.com/", ""},
		{"IDN", "https://B\u00fccher.example/hook", strict, "https://b\u00fccher.example/hook", ""},
		{"IDNPercentEncoded", "https://b%C3%BCcher.example/", strict, "https://b\u00fccher.example/", ""},
		{"IDNCyrillic", "https://\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444/", strict, "https://\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444/", ""},
		{"Punycode", "https://xn--bcher-kva.example/", strict, "https://xn--bcher-kva.example/", ""},
		{"FullwidthLetters", "https://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com/", strict, "https://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com/", ""},
		{"IDNNumericFirstLabel", "https://\uff11\uff12\uff13.example/", strict, "https://\uff11\uff12\uff13.example/", ""},
		{"IDNLabelTooLong", "https://" + strings.Repeat("\u00fc", 60) + ".example/", strict, "", "longer than 63 bytes"},
		{"IDNDisallowed", "https://a\u2488b.example/", strict, "", "not a valid internationalised host name"},
		{"PublicIPv4", "https://8.8.8.8/hook", strict, "https://8.8.8.8/hook", ""},
		{"PublicIPv4Decimal", "https://134744072/hook", strict, "https://8.8.8.8/hook", ""},
		{"PublicIPv4Short", "https://1.1/", strict, "https://1.0.0.1/", ""},
		{"PublicIPv4TrailingDot", "https://8.8.8.8./", strict, "https://8.8.8.8/", ""},
		{"PublicIPv6", "https://[2606:4700:4700::1111]/hook", strict, "https://[2606:4700:4700::1111]/hook", ""},
		{"PublicIPv6Canonical", "https://[2606:4700:4700:0:0:0:0:1111]:443/", strict, "https://[2606:4700:4700::1111]/", ""},
		{"PublicIPv6Upper", "https://[2606:4700:4700::ABCD]:8443/", strict, "https://[2606:4700:4700::abcd]:8443/", ""},
		{"PublicMapped", "https://[::ffff:8.8.8.8]/", strict, "https://[::ffff:8.8.8.8]/", ""},
		{"HTTPAllowed", "http://example.com/hook", withHTTP, "http://example.com/hook", ""},
		{"HTTPSWithAllowHTTP", "https://example.com/hook", withHTTP, "https://example.com/hook", ""},
		{"Exactly2048", long, strict, long, ""},

		// Literal private addresses without a guard or with AllowPrivate.
		{"NoGuardPrivate", "https://10.0.0.1/", noGuard, "https://10.0.0.1/", ""},
		{"NoGuardLoopbackHex", "https://0x7f.1:8080/", noGuard, "https://127.0.0.1:8080/", ""},
		{"AllowPrivateLoopback", "https://127.0.0.1/", allowPrivate, "https://127.0.0.1/", ""},
		{"AllowPrivateOctal", "https://0177.0.0.1/", allowPrivate, "https://127.0.0.1/", ""},
		{"AllowPrivateIPv6", "https://[::1]:8443/", allowPrivate, "https://[::1]:8443/", ""},
		{"AllowPrivateZone", "https://[FE80::1%25eth0]/", allowPrivate, "https://[fe80::1%25eth0]/", ""},
		{"AllowCIDR", "https://10.1.2.3/", netguard.URLOptions{Guard: &netguard.Guard{Allow: mustCIDRs(t, "10.1.0.0/16")}}, "https://10.1.2.3/", ""},

		// Literal blocked addresses in every spelling.
		{"Loopback", "https://127.0.0.1/", strict, "", notAllowed + ": 127.0.0.1 is loopback"},
		{"LoopbackPort", "https://127.0.0.1:8443/hook", strict, "", notAllowed},
		{"LoopbackDecimal", "https://2130706433/", strict, "", notAllowed + ": 127.0.0.1 is loopback"},
		{"LoopbackHex", "https://0x7f000001/", strict, "", notAllowed + ": 127.0.0.1"},
		{"LoopbackHexUpper", "https://0X7F000001/", strict, "", notAllowed + ": 127.0.0.1"},
		{"LoopbackHexShort", "https://0x7f.1/", strict, "", notAllowed + ": 127.0.0.1"},
		{"LoopbackOctal", "https://0177.0.0.1/", strict, "", notAllowed + ": 127.0.0.1"},
		{"LoopbackOctalLong", "https://000000177.0.0.01/", strict, "", notAllowed + ": 127.0.0.1"},
		{"LoopbackShort", "https://127.1/", strict, "", notAllowed + ": 127.0.0.1"},
		{"LoopbackThreeParts", "https://127.0.1/", strict, "", notAllowed + ": 127.0.0.1"},
		{"LoopbackMixed", "https://0x7f.0.0x00.01/", strict, "", notAllowed + ": 127.0.0.1"},
		{"LoopbackTrailingDot", "https://127.0.0.1./", strict, "", notAllowed + ": 127.0.0.1"},
		{"LoopbackOther", "https://127.200.1.1/", strict, "", notAllowed},
		{"Zero", "https://0/", strict, "", notAllowed + ": 0.0.0.0 is unspecified"},
		{"ZeroHex", "https://0x/", strict, "", notAllowed + ": 0.0.0.0 is unspecified"},
		{"ZeroDotted", "https://0.0.0.0:8080/", strict, "", notAllowed},
		{"Private", "https://10.0.0.1/", strict, "", notAllowed + ": 10.0.0.1 is private (RFC 1918)"},
		{"PrivateDecimal", "https://167772161/", strict, "", notAllowed + ": 10.0.0.1 is private (RFC 1918)"},
		{"Private192", "https://192.168.1.1/", strict, "", notAllowed},
		{"Private172", "https://172.16.0.1/", strict, "", notAllowed},
		{"CGNAT", "https://100.64.0.1/", strict, "", notAllowed + ": 100.64.0.1 is CGNAT"},
		{"Metadata", "https://169.254.169.254/latest/meta-data/", strict, "", notAllowed + ": 169.254.169.254 is cloud metadata"},
		{"MetadataDecimal", "http://2852039166/", withHTTP, "", notAllowed + ": 169.254.169.254 is cloud metadata"},
		{"MetadataHex", "https://0xa9.0xfe.0xa9.0xfe/", strict, "", notAllowed + ": 169.254.169.254"},
		{"Broadcast", "https://255.255.255.255/", strict, "", notAllowed + ": 255.255.255.255 is broadcast"},
		{"Multicast", "https://224.0.0.1/", strict, "", notAllowed},
		{"Documentation", "https://192.0.2.1/", strict, "", notAllowed},
		{"IPv6Loopback", "https://[::1]/", strict, "", notAllowed + ": ::1 is loopback"},
		{"IPv6LoopbackLong", "https://[0:0:0:0:0:0:0:1]:443/", strict, "", notAllowed + ": ::1 is loopback"},
		{"IPv6Unspecified", "https://[::]/", strict, "", notAllowed + ": :: is unspecified"},
		{"IPv6Mapped", "https://[::ffff:127.0.0.1]/", strict, "", notAllowed + ": ::ffff:127.0.0.1 is IPv4-mapped loopback"},
		{"IPv6MappedHex", "https://[::ffff:7f00:1]/", strict, "", notAllowed + ": ::ffff:127.0.0.1 is IPv4-mapped loopback"},
		{"IPv6MappedLong", "https://[0:0:0:0:0:ffff:127.0.0.1]/", strict, "", notAllowed + ": ::ffff:127.0.0.1 is IPv4-mapped loopback"},
		{"IPv6MappedMetadata", "https://[::ffff:a9fe:a9fe]/", strict, "", notAllowed + ": ::ffff:169.254.169.254 is IPv4-mapped cloud metadata"},
		{"IPv6Compatible", "https://[::127.0.0.1]/", strict, "", notAllowed + ": ::7f00:1 is IPv4-compatible loopback"},
		{"IPv6NAT64", "https://[64:ff9b::127.0.0.1]/", strict, "", notAllowed + ": 64:ff9b::7f00:1 is NAT64 loopback"},
		{"IPv6SixToFour", "https://[2002:7f00:1::]/", strict, "", notAllowed + ": 2002:7f00:1:: is 6to4 loopback"},
		{"IPv6Teredo", "https://[2001::1]/", strict, "", notAllowed + ": 2001::1 is Teredo"},
		{"IPv6ULA", "https://[fd00::1]/", strict, "", notAllowed + ": fd00::1 is unique local (ULA)"},
		{"IPv6LinkLocal", "https://[fe80::1]/", strict, "", notAllowed + ": fe80::1 is link-local"},
		{"IPv6LinkLocalZone", "https://[fe80::1%25eth0]/", strict, "", notAllowed + ": fe80::1%eth0 is link-local"},
		{"IPv6Multicast", "https://[ff02::1]/", strict, "", notAllowed},
		{"IPv6Documentation", "https://[2001:db8::1]/", strict, "", notAllowed},
		{"AllowCIDROther", "https://10.2.0.1/", netguard.URLOptions{Guard: &netguard.Guard{Allow: mustCIDRs(t, "10.1.0.0/16")}}, "", notAllowed},

		// Not IP addresses, but taken for them by browsers.
		{"FiveParts", "https://1.2.3.4.5/", strict, "", "not a valid IPv4 address"},
		{"OctetTooBig", "https://256.1.1.1/", strict, "", "not a valid IPv4 address"},
		{"LastPartTooBig", "https://1.2.16777216/", strict, "", "not a valid IPv4 address"},
		{"DecimalTooBig", "https://4294967296/", strict, "", "not a valid IPv4 address"},
		{"HugeNumber", "https://99999999999999999999999999/", strict, "", "not a valid IPv4 address"},
		{"BadOctal", "https://08.0.0.1/", strict, "", "not a valid IPv4 address"},
		{"BadHex", "https://0x7g.0.0.1/", strict, "", "not a valid IPv4 address"},
		{"NumericTLD", "https://example.123/", strict, "", "not a valid IPv4 address"},
		{"HexTLD", "https://example.0x1/", strict, "", "not a valid IPv4 address"},
		{"EmptyPart", "https://127..1/", strict, "", "not a valid IPv4 address"},
		{"FullwidthDigits", "https://\uff11\uff12\uff17.0.0.1/", strict, "", "non-ASCII"},
		{"FullwidthAll", "https://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/", strict, "", "non-ASCII"},
		{"IdeographicDots", "https://127\u30020\u30020\u30021/", strict, "", "non-ASCII"},
		{"MathDigits", "https://\U0001D7CF\U0001D7D0\U0001D7D5.1/", strict, "", "non-ASCII"},
		{"FullwidthHex", "https://0\uff58\uff17\uff46\uff10\uff10\uff10\uff10\uff10\uff11/", strict, "", "non-ASCII"},
		{"ParenthesizedDigit", "https://127.0.0.\u2488/", strict, "", "not a valid internationalised host name"},
		{"VariationSelector", "https://127.0.0.1.\ufe0f/", strict, "", "non-ASCII"},
		{"NonASCIIDigitsPercent", "https://%EF%BC%91%EF%BC%92%EF%BC%97.1/", strict, "", "non-ASCII"},

		// Refused for their shape.
		{"Empty", "", strict, "", "URL is required"},
		{"HTTP", "http://example.com/hook", strict, "", "URL must use https"},
		{"FTP", "ftp://example.com/", strict, "", "URL must use https"},
		{"FTPWithAllowHTTP", "ftp://example.com/", withHTTP, "", "URL must use http or https"},
		{"JavaScript", "javascript:alert(1)", strict, "", "URL must use https"},
		{"Mailto", "mailto:hooks@example.com", withHTTP, "", "URL must use http or https"},
		{"Relative", "/webhooks", strict, "", "URL must be absolute"},
		{"NoScheme", "example.com/webhooks", strict, "", "URL must be absolute"},
		{"SchemeRelative", "//example.com/webhooks", strict, "", "URL must be absolute"},
		{"Opaque", "https:example.com", strict, "", "URL must be absolute"},
		{"NoHost", "https:///hook", strict, "", "URL has no host"},
		{"PortOnly", "https://:443/hook", strict, "", "URL has no host"},
		{"UserInfo", "https://user:pass@example.com/", strict, "", "URL must not contain user info"},
		{"UserOnly", "https://user@example.com/", strict, "", "URL must not contain user info"},
		{"EmptyUserInfo", "https://@example.com/", strict, "", "URL must not contain user info"},
		{"UserInfoHidingHost", "https://example.com@127.0.0.1/", strict, "", "URL must not contain user info"},
		{"Fragment", "https://example.com/hook#section", strict, "", "URL must not contain a fragment"},
		{"TooLong", long + "a", strict, "", "URL is longer than 2048 bytes"},
		{"TooLongCustom", "https://example.com/abc", netguard.URLOptions{MaxLen: 20}, "", "URL is longer than 20 bytes"},
		{"GrowsTooLong", "https://1.1/" + strings.Repeat("a", 2048-len("https://1.1/")), strict, "", "URL is longer than 2048 bytes"},
		{"Space", "https://example.com/a b", strict, "", "whitespace or control characters"},
		{"LeadingSpace", " https://example.com/", strict, "", "whitespace or control characters"},
		{"TrailingNewline", "https://example.com/\n", strict, "", "whitespace or control characters"},
		{"Tab", "https://exam\tple.com/", strict, "", "whitespace or control characters"},
		{"NUL", "https://example.com/\x00", strict, "", "whitespace or control characters"},
		{"DEL", "https://example.com/\x7f", strict, "", "whitespace or control characters"},
		{"NBSP", "https://example.com/\u00a0", strict, "", "whitespace or control characters"},
		{"ZeroWidthSpace", "https://exa\u200bmple.com/", strict, "", "whitespace or control characters"},
		{"BidiOverride", "https://example.com/\u202e", strict, "", "whitespace or control characters"},
		{"EncodedNBSPInHost", "https://exa%C2%A0mple.com/", strict, "", "whitespace or control characters"},
		{"InvalidUTF8", "https://example.com/\xff", strict, "", "valid UTF-8"},
		{"InvalidUTF8InHost", "https://exa%FFmple.com/", strict, "", "whitespace or control characters"},
		{"Backslash", "https://example.com\\@127.0.0.1/", strict, "", "backslash"},
		{"BackslashPath", "https://example.com/a\\b", strict, "", "backslash"},
		{"PortTooBig", "https://example.com:65536/", strict, "", "URL port must be between 1 and 65535"},
		{"PortZero", "https://example.com:0/", strict, "", "URL port must be between 1 and 65535"},
		{"PortNotNumber", "https://example.com:https/", strict, "", "URL is not valid"},
		{"PercentInHost", "https://%31%32%37.0.0.1/", strict, "", "URL is not valid"},
		{"BadEscape", "https://example.com/%zz", strict, "", "URL is not valid"},
		{"IPv6NoBrackets", "https://::1/", strict, "", "URL is not valid"},
		{"IPv4InBrackets", "https://[127.0.0.1]/", strict, "", "URL is not valid"},
		{"IPv6BadLiteral", "https://[::ffff:0127.0.0.1]/", strict, "", "URL is not valid"},
		{"IPvFuture", "https://[v1.abc]/", strict, "", "URL is not valid"},
		{"BadZone", "https://[fe80::1%25%2541]/", allowPrivate, "", "invalid IPv6 zone"},
		{"BadHostChar", "https://exa$mple.com/", strict, "", "not a valid host name"},
		{"BadHostStar", "https://*.example.com/", strict, "", "not a valid host name"},
		{"EmptyLabel", "https://example..com/", strict, "", "empty label"},
		{"TwoTrailingDots", "https://example.com../", strict, "", "empty label"},
		{"LeadingDot", "https://.example.com/", strict, "", "empty label"},
		{"LabelTooLong", "https://" + strings.Repeat("a", 64) + ".com/", strict, "", "longer than 63 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := netguard.ValidateURL(tt.raw, tt.opts)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ValidateURL(%q) = %q, nil; want error containing %q", tt.raw, got, tt.wantErr)
				}
				var ue *netguard.URLError
				if !errors.As(err, &ue) {
					t.Fatalf("ValidateURL(%q) error is %T; want *URLError", tt.raw, err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ValidateURL(%q) error = %q; want it to contain %q", tt.raw, err, tt.wantErr)
				}
				if got != "" {
					t.Errorf("ValidateURL(%q) = %q with an error; want \"\"", tt.raw, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ValidateURL(%q) error = %v; want %q", tt.raw, err, tt.want)
			}
			if got != tt.want {
				t.Fatalf("ValidateURL(%q) = %q; want %q", tt.raw, got, tt.want)
			}
			again, err := netguard.ValidateURL(got, tt.opts)
			if err != nil || again != got {
				t.Fatalf("ValidateURL(%q) = %q, %v; want it to validate to itself", got, again, err)
			}
		})
	}
}

func TestValidateURLErrorIsSentence(t *testing.T) {
	t.Parallel()
	_, err := netguard.ValidateURL("https://10.0.0.1/", netguard.URLOptions{Guard: &netguard.Guard{}})
	const want = "target address not allowed: 10.0.0.1 is private (RFC 1918). For local development, run hookd serve with --allow-private-targets."
	if err == nil || err.Error() != want {
		t.Fatalf("ValidateURL(https://10.0.0.1/) error = %v; want %q", err, want)
	}
}

// The refusals a developer meets on their own machine name, in their
// second sentence, the flag that lifts them; the others do not.
func TestValidateURLAdvice(t *testing.T) {
	t.Parallel()
	strict := netguard.URLOptions{Guard: &netguard.Guard{}}
	withHTTP := netguard.URLOptions{Guard: &netguard.Guard{}, AllowHTTP: true}
	tests := []struct {
		raw    string
		opts   netguard.URLOptions
		advice string // "" for none
	}{
		{"http://localhost:9000/", strict, "--allow-http"},
		{"http://example.com/", strict, "--allow-http"},
		{"https://127.0.0.1:9000/", strict, "--allow-private-targets"},
		{"http://127.0.0.1:9000/", withHTTP, "--allow-private-targets"},
		{"https://[::1]/", strict, "--allow-private-targets"},
		{"https://192.168.1.10/", strict, "--allow-private-targets"},
		{"ftp://example.com/", strict, ""},
		{"ftp://example.com/", withHTTP, ""},
		{"https://user@example.com/", strict, ""},
	}
	for _, tt := range tests {
		_, err := netguard.ValidateURL(tt.raw, tt.opts)
		if err == nil {
			t.Errorf("ValidateURL(%q) accepted it; want an error", tt.raw)
			continue
		}
		first, second, two := strings.Cut(err.Error(), ". ")
		switch {
		case tt.advice == "" && strings.Contains(err.Error(), "--allow-"):
			t.Errorf("ValidateURL(%q) = %q; want no flag named: it would not help", tt.raw, err)
		case tt.advice != "" && (!two || !strings.Contains(second, tt.advice) || strings.Contains(first, "--allow-")):
			t.Errorf("ValidateURL(%q) = %q; want %s named in the second sentence", tt.raw, err, tt.advice)
		}
		if strings.Contains(err.Error(), "publicly reachable") {
			t.Errorf("ValidateURL(%q) = %q; it must not ask for a publicly reachable server", tt.raw, err)
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost.": true, "api.localhost": true, "127.0.0.1": true, "127.1": true,
		"::1": true, "::ffff:127.0.0.1": true, "0x7f000001": true,
		"example.com": false, "localhost.example.com": false, "10.0.0.1": false, "": false, "notlocalhost": false,
	} {
		if got := netguard.IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func mustCIDRs(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	p, err := netguard.ParseCIDRs(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
