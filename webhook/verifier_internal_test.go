package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestVerifierConstantTimeCompare proves that every v1 comparison goes
// through the verifier's equal function, which is hmac.Equal, with full
// 32-byte MACs (no length or prefix shortcut before it), and that each key's
// MAC is compared with every v1 entry.
func TestVerifierConstantTimeCompare(t *testing.T) {
	t.Parallel()

	secret1 := SecretPrefix + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	secret2 := SecretPrefix + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	body := []byte(`{"id":"evt_1"}`)
	const msgID, ts = "evt_1", int64(1795782600)
	signer, err := NewSigner(secret2)
	if err != nil {
		t.Fatalf("NewSigner() = %v, want nil", err)
	}
	good := signer.Sign(msgID, ts, body)
	wrong := "v1," + base64.StdEncoding.EncodeToString(make([]byte, 32))

	tests := []struct {
		name      string
		signature string
		wantCalls int
		want      error
	}{
		// Two keys × three v1 entries, none matching: six comparisons.
		{name: "NoMatch", signature: wrong + " " + wrong + " v2,x " + wrong, wantCalls: 6, want: ErrNoMatchingSignature},
		// The first key fails against all three entries, the second
		// matches the middle one but is still compared with all three.
		{name: "MatchSecondKey", signature: wrong + " " + good + " " + wrong, wantCalls: 6},
		// Unknown versions and v1a entries never reach the comparison.
		{name: "OnlyOtherVersions", signature: "v2,x v1a," + base64.StdEncoding.EncodeToString(make([]byte, 64)), wantCalls: 0, want: ErrNoMatchingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := NewVerifier([]string{secret1, secret2}, &VerifierOptions{Now: func() time.Time { return time.Unix(ts, 0) }})
			if err != nil {
				t.Fatalf("NewVerifier() = %v, want nil", err)
			}
			if reflect.ValueOf(v.equal).Pointer() != reflect.ValueOf(hmac.Equal).Pointer() {
				t.Fatalf("NewVerifier().equal is not hmac.Equal")
			}
			var mu sync.Mutex
			calls := 0
			v.equal = func(mac1, mac2 []byte) bool {
				mu.Lock()
				calls++
				mu.Unlock()
				if len(mac1) != sha256.Size || len(mac2) != sha256.Size {
					t.Errorf("equal(%d bytes, %d bytes), want %d and %d", len(mac1), len(mac2), sha256.Size, sha256.Size)
				}
				return hmac.Equal(mac1, mac2)
			}
			got := v.VerifyValues(msgID, strconv.FormatInt(ts, 10), tt.signature, body)
			if !errors.Is(got, tt.want) {
				t.Fatalf("VerifyValues(...) = %v, want %v", got, tt.want)
			}
			if calls != tt.wantCalls {
				t.Fatalf("VerifyValues(...) made %d constant-time comparisons, want %d", calls, tt.wantCalls)
			}
		})
	}
}

func TestParseSignatureHeader(t *testing.T) {
	t.Parallel()

	mac := bytes.Repeat([]byte{0xab}, 32)
	sig := bytes.Repeat([]byte{0xcd}, 64)
	v1 := "v1," + base64.StdEncoding.EncodeToString(mac)
	v1a := "v1a," + base64.StdEncoding.EncodeToString(sig)
	tests := []struct {
		name   string
		header string
		want   []signature
		err    error
	}{
		{name: "V1", header: v1, want: []signature{{versionHMAC, mac}}},
		{name: "V1a", header: v1a, want: []signature{{versionEd25519, sig}}},
		{name: "Mixed", header: v1 + " " + v1a, want: []signature{{versionHMAC, mac}, {versionEd25519, sig}}},
		{name: "UnknownKept", header: "v2,abc " + v1, want: []signature{{"v2", nil}, {versionHMAC, mac}}},
		{name: "UnknownWithCommas", header: "v2,a,b,c", want: []signature{{"v2", nil}}},
		{name: "Spaces", header: "  " + v1 + "    " + v1a + "  ", want: []signature{{versionHMAC, mac}, {versionEd25519, sig}}},
		{name: "Sixteen", header: strings.TrimSpace(strings.Repeat(v1+" ", 16)), want: slicesRepeat(signature{versionHMAC, mac}, 16)},
		{name: "ErrEmpty", header: "", err: ErrInvalidHeader},
		{name: "ErrSpaces", header: "   ", err: ErrInvalidHeader},
		{name: "ErrNoComma", header: "v1", err: ErrInvalidHeader},
		{name: "ErrEmptyVersion", header: ",abc", err: ErrInvalidHeader},
		{name: "ErrEmptySig", header: "v2,", err: ErrInvalidHeader},
		{name: "ErrTab", header: v1 + "\t" + v1a, err: ErrInvalidHeader},
		{name: "ErrV1Base64", header: "v1," + strings.Repeat("?", 44), err: ErrInvalidHeader},
		{name: "ErrV1NoPaddingDecodesLonger", header: "v1," + strings.Repeat("0", 44), err: ErrInvalidHeader}, // found by fuzzing
		{name: "ErrV1aLength", header: "v1a," + base64.StdEncoding.EncodeToString(mac), err: ErrInvalidHeader},
		{name: "ErrSeventeen", header: strings.Repeat("v2,x ", 17), err: ErrInvalidHeader},
		{name: "ErrTooLong", header: "v2," + strings.Repeat("x", maxSignatureHeaderBytes), err: ErrInvalidHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseSignatureHeader(tt.header)
			if !errors.Is(err, tt.err) {
				t.Fatalf("parseSignatureHeader(%.40q) error = %v, want %v", tt.header, err, tt.err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseSignatureHeader(%.40q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func slicesRepeat(s signature, n int) []signature {
	out := make([]signature, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestParseTimestamp(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in   string
		want int64
		err  error
	}{
		{in: "0", want: 0},
		{in: "1795782600", want: 1795782600},
		{in: "999999999999999999", want: 999999999999999999},
		{in: "", err: ErrInvalidTimestamp},
		{in: "00", err: ErrInvalidTimestamp},
		{in: "01795782600", err: ErrInvalidTimestamp},
		{in: "-1", err: ErrInvalidTimestamp},
		{in: "+1", err: ErrInvalidTimestamp},
		{in: "1_000", err: ErrInvalidTimestamp},
		{in: "0x10", err: ErrInvalidTimestamp},
		{in: "1e9", err: ErrInvalidTimestamp},
		{in: "١٢٣", err: ErrInvalidTimestamp}, // Arabic-Indic digits
		{in: "1000000000000000000", err: ErrInvalidTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseTimestamp(tt.in)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Fatalf("parseTimestamp(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}
