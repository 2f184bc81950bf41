package webhook_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/hookd/hookd/webhook"
)

func TestSignerSign(t *testing.T) {
	t.Parallel()

	// Independent computation of the two signature versions.
	content := testMsgID + "." + testTSStr + "." + string(testBody)
	v1 := func(secret string) string {
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		m := hmac.New(sha256.New, key)
		m.Write([]byte(content))
		return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	v1a := func(priv string) string {
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(priv, "whsk_"))
		return "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(key, []byte(content)))
	}

	tests := []struct {
		name string
		keys []string
		want string
	}{
		{name: "Secret", keys: []string{testSecretNew}, want: v1(testSecretNew)},
		{name: "PrivateKey", keys: []string{testPrivateKey}, want: v1a(testPrivateKey)},
		{name: "RotationNewestFirst", keys: []string{testSecretNew, testSecretOld}, want: v1(testSecretNew) + " " + v1(testSecretOld)},
		{name: "RotationKeyPairs", keys: []string{testPrivateKey2, testPrivateKey}, want: v1a(testPrivateKey2) + " " + v1a(testPrivateKey)},
		{name: "Mixed", keys: []string{testSecretNew, testPrivateKey, testSecretOld}, want: v1(testSecretNew) + " " + v1a(testPrivateKey) + " " + v1(testSecretOld)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustSigner(t, tt.keys...)
			if got := s.Sign(testMsgID, testTS, testBody); got != tt.want {
				t.Fatalf("Sign() = %q, want %q", got, tt.want)
			}
			// Signing is deterministic and repeatable (pooled HMAC
			// states are reset between uses).
			if got := s.Sign(testMsgID, testTS, testBody); got != tt.want {
				t.Fatalf("second Sign() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSignerAppendSignature(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		keys []string
		dst  []byte
	}{
		{name: "NilDst", keys: []string{testSecretNew}},
		{name: "Prefix", keys: []string{testSecretNew}, dst: []byte("webhook-signature: ")},
		{name: "PrefixWithCapacity", keys: []string{testSecretNew, testPrivateKey}, dst: append(make([]byte, 0, 4096), "x="...)},
		{name: "Ed25519SmallCapacity", keys: []string{testPrivateKey}, dst: make([]byte, 3, 8)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustSigner(t, tt.keys...)
			prefix := bytes.Clone(tt.dst)
			want := string(prefix) + s.Sign(testMsgID, testTS, testBody)
			if got := string(s.AppendSignature(tt.dst, testMsgID, testTS, testBody)); got != want {
				t.Fatalf("AppendSignature(%q, ...) = %q, want %q", prefix, got, want)
			}
		})
	}
}

// TestSignerAppendSignatureAllocs is not parallel: testing.AllocsPerRun
// refuses to run in parallel tests, whose allocations it would count.
func TestSignerAppendSignatureAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}

	body := bytes.Repeat([]byte("x"), 1500)
	tests := []struct {
		name string
		keys []string
		want float64
	}{
		{name: "Secret", keys: []string{testSecretNew}},
		{name: "Rotation", keys: []string{testSecretNew, testSecretOld}},
		{name: "PrivateKey", keys: []string{testPrivateKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSigner(t, tt.keys...)
			buf := make([]byte, 0, 4096)
			got := testing.AllocsPerRun(100, func() {
				buf = s.AppendSignature(buf[:0], testMsgID, testTS, body)
			})
			if got != tt.want {
				t.Fatalf("AppendSignature() allocations = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSignerConcurrent(t *testing.T) {
	t.Parallel()

	s := mustSigner(t, testSecretNew, testPrivateKey)
	want := s.Sign(testMsgID, testTS, testBody)
	done := make(chan string)
	for range 8 {
		go func() {
			var got string
			for range 50 {
				if got = s.Sign(testMsgID, testTS, testBody); got != want {
					break
				}
			}
			done <- got
		}()
	}
	for range 8 {
		if got := <-done; got != want {
			t.Fatalf("concurrent Sign() = %q, want %q", got, want)
		}
	}
}

func TestSignerZeroValue(t *testing.T) {
	t.Parallel()

	var s webhook.Signer
	if got := s.Sign(testMsgID, testTS, testBody); got != "" {
		t.Fatalf("Signer{}.Sign() = %q, want empty", got)
	}
}
