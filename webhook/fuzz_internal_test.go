package webhook

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseSignatureHeader checks that parsing never panics, that errors
// wrap ErrInvalidHeader, and that a parsed header keeps its limits and
// parses to the same entries when rebuilt from them.
func FuzzParseSignatureHeader(f *testing.F) {
	f.Add("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	f.Add("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v2,abc")
	f.Add("v1a,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")
	f.Add("  v1,  ,x v1")
	f.Fuzz(func(t *testing.T, header string) {
		sigs, err := parseSignatureHeader(header)
		if err != nil {
			if !errors.Is(err, ErrInvalidHeader) {
				t.Fatalf("parseSignatureHeader(%q) error = %v, want %v", header, err, ErrInvalidHeader)
			}
			return
		}
		if len(sigs) == 0 || len(sigs) > maxSignatureEntries {
			t.Fatalf("parseSignatureHeader(%q) = %d entries, want 1 to %d", header, len(sigs), maxSignatureEntries)
		}
		var rebuilt []string
		for _, s := range sigs {
			switch s.version {
			case versionHMAC, versionEd25519:
				want := 32
				if s.version == versionEd25519 {
					want = 64
				}
				if len(s.sig) != want {
					t.Fatalf("parseSignatureHeader(%q): %s entry of %d bytes, want %d", header, s.version, len(s.sig), want)
				}
				rebuilt = append(rebuilt, s.version+","+b64.EncodeToString(s.sig))
			default:
				if s.sig != nil || s.version == "" || strings.ContainsAny(s.version, " ,") {
					t.Fatalf("parseSignatureHeader(%q): unknown entry %+v", header, s)
				}
				rebuilt = append(rebuilt, s.version+",x")
			}
		}
		again, err := parseSignatureHeader(strings.Join(rebuilt, " "))
		if err != nil || !reflect.DeepEqual(again, sigs) {
			t.Fatalf("parseSignatureHeader(rebuilt %q) = %v, %v; want %v, nil", rebuilt, again, err, sigs)
		}
	})
}
