package webhook_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookd/hookd/webhook"
)

// The official Go library checks timestamps against time.Now with a
// package-global tolerance, so these tests sign at the current time.

// TestStandardWebhooksVerifiesSigner checks that v1 signatures made by Signer
// verify with the official library, with and without the whsec_ prefix, and
// also when rotation or v1a entries share the header.
func TestStandardWebhooksVerifiesSigner(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		signKeys []string
		secret   string // for the official library
		body     []byte
	}{
		{name: "Secret", signKeys: []string{testSecretNew}, secret: testSecretNew, body: testBody},
		{name: "BareSecret", signKeys: []string{testSecretNew}, secret: strings.TrimPrefix(testSecretNew, "whsec_"), body: testBody},
		{name: "EmptyBody", signKeys: []string{testSecretNew}, secret: testSecretNew, body: nil},
		{name: "BinaryBody", signKeys: []string{testSecretNew}, secret: testSecretNew, body: []byte{0, 1, 2, 0xff, '%', 'd'}},
		{name: "RotationNew", signKeys: []string{testSecretNew, testSecretOld}, secret: testSecretNew, body: testBody},
		{name: "RotationOld", signKeys: []string{testSecretNew, testSecretOld}, secret: testSecretOld, body: testBody},
		{name: "WithV1a", signKeys: []string{testPrivateKey, testSecretNew}, secret: testSecretNew, body: testBody},
		{name: "Secret24", signKeys: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", body: testBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			official, err := standardwebhooks.NewWebhook(tt.secret)
			if err != nil {
				t.Fatalf("standardwebhooks.NewWebhook() = %v", err)
			}
			s := mustSigner(t, tt.signKeys...)
			h := signedHeader(s, testMsgID, time.Now().Unix(), tt.body)
			if err := official.Verify(tt.body, h); err != nil {
				t.Fatalf("standardwebhooks Verify(Signer signature) = %v, want nil", err)
			}
			tampered := append([]byte{'x'}, tt.body...)
			if err := official.Verify(tampered, h); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
				t.Fatalf("standardwebhooks Verify(tampered) = %v, want %v", err, standardwebhooks.ErrNoMatchingSignature)
			}
		})
	}
}

// TestVerifierVerifiesStandardWebhooks checks that signatures made by the
// official library verify with Verifier.
func TestVerifierVerifiesStandardWebhooks(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		secret     string // for the official library
		verifyKeys []string
		body       []byte
		want       error
	}{
		{name: "Secret", secret: testSecretNew, verifyKeys: []string{testSecretNew}, body: testBody},
		{name: "BareSecrets", secret: strings.TrimPrefix(testSecretNew, "whsec_"), verifyKeys: []string{strings.TrimPrefix(testSecretNew, "whsec_")}, body: testBody},
		{name: "ShortSecret", secret: "whsec_c2hvcnQ=", verifyKeys: []string{"whsec_c2hvcnQ="}, body: testBody},
		{name: "EmptyBody", secret: testSecretNew, verifyKeys: []string{testSecretNew}, body: []byte{}},
		{name: "AmongKeys", secret: testSecretOld, verifyKeys: []string{testPublicKey, testSecretNew, testSecretOld}, body: testBody},
		{name: "WrongSecret", secret: testSecretOther, verifyKeys: []string{testSecretNew}, body: testBody, want: webhook.ErrNoMatchingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			official, err := standardwebhooks.NewWebhook(tt.secret)
			if err != nil {
				t.Fatalf("standardwebhooks.NewWebhook() = %v", err)
			}
			now := time.Now()
			sig, err := official.Sign(testMsgID, now, tt.body)
			if err != nil {
				t.Fatalf("standardwebhooks Sign() = %v", err)
			}
			v, err := webhook.NewVerifier(tt.verifyKeys, nil)
			if err != nil {
				t.Fatalf("NewVerifier() = %v, want nil", err)
			}
			h := http.Header{}
			h.Set(standardwebhooks.HeaderWebhookID, testMsgID)
			h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
			h.Set(standardwebhooks.HeaderWebhookSignature, sig)
			if got := v.Verify(h, tt.body); !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Fatalf("Verify(standardwebhooks signature) = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestStandardWebhooksVectors checks the valid v1 vectors of
// testdata/vectors.json with the official library (v1a is unknown to it).
func TestStandardWebhooksVectors(t *testing.T) {
	t.Parallel()

	for _, tc := range loadVectors(t) {
		if tc.Kind != "v1" || tc.Error != nil {
			continue
		}
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			official, err := standardwebhooks.NewWebhook(tc.Secret)
			if err != nil {
				t.Fatalf("standardwebhooks.NewWebhook() = %v", err)
			}
			h := http.Header{}
			h.Set(standardwebhooks.HeaderWebhookID, tc.MsgID)
			h.Set(standardwebhooks.HeaderWebhookTimestamp, tc.Timestamp)
			h.Set(standardwebhooks.HeaderWebhookSignature, tc.Signature)
			if err := official.VerifyIgnoringTimestamp([]byte(tc.Body), h); err != nil {
				t.Fatalf("standardwebhooks VerifyIgnoringTimestamp(vector) = %v, want nil", err)
			}
			if tc.Signed {
				ts, _ := strconv.ParseInt(tc.Timestamp, 10, 64)
				got, err := official.Sign(tc.MsgID, time.Unix(ts, 0), []byte(tc.Body))
				if err != nil || got != tc.Signature {
					t.Fatalf("standardwebhooks Sign(vector) = %q, %v; want %q", got, err, tc.Signature)
				}
			}
		})
	}
}
