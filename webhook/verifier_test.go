package webhook_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

func TestVerifierRoundTrip(t *testing.T) {
	t.Parallel()

	bodies := map[string][]byte{
		"Envelope": testBody,
		"Empty":    {},
		"Nil":      nil,
		"Binary":   {0, 0xff, '.', ' ', ',', '\n'},
		"Large":    []byte(strings.Repeat("a", 1<<20)),
	}
	tests := []struct {
		name       string
		signKeys   []string
		verifyKeys []string
	}{
		{name: "Secret", signKeys: []string{testSecretNew}, verifyKeys: []string{testSecretNew}},
		{name: "BareSecret", signKeys: []string{testSecretNew}, verifyKeys: []string{strings.TrimPrefix(testSecretNew, "whsec_")}},
		{name: "KeyPair", signKeys: []string{testPrivateKey}, verifyKeys: []string{testPublicKey}},
		{name: "VerifierWithManyKeys", signKeys: []string{testSecretOld}, verifyKeys: []string{testPublicKey, testSecretNew, testSecretOld}},
	}
	for _, tt := range tests {
		for bodyName, body := range bodies {
			t.Run(tt.name+"/"+bodyName, func(t *testing.T) {
				t.Parallel()
				s := mustSigner(t, tt.signKeys...)
				v := mustVerifier(t, tt.verifyKeys...)
				h := signedHeader(s, testMsgID, testTS, body)
				if err := v.Verify(h, body); err != nil {
					t.Fatalf("Verify(signed) = %v, want nil", err)
				}
				if err := v.VerifyValues(testMsgID, testTSStr, h.Get(webhook.HeaderSignature), body); err != nil {
					t.Fatalf("VerifyValues(signed) = %v, want nil", err)
				}
				tampered := append([]byte("x"), body...)
				if err := v.Verify(h, tampered); !errors.Is(err, webhook.ErrNoMatchingSignature) {
					t.Fatalf("Verify(tampered body) = %v, want %v", err, webhook.ErrNoMatchingSignature)
				}
			})
		}
	}
}

func TestVerifierRotation(t *testing.T) {
	t.Parallel()

	// During the overlap the sender signs with the new and the old secret;
	// receivers that have either one accept, others do not.
	rotating := mustSigner(t, testSecretNew, testSecretOld)
	newOnly := mustSigner(t, testSecretNew)
	oldOnly := mustSigner(t, testSecretOld)
	tests := []struct {
		name       string
		signer     *webhook.Signer
		verifyKeys []string
		want       error
	}{
		{name: "BothVerifyWithNew", signer: rotating, verifyKeys: []string{testSecretNew}},
		{name: "BothVerifyWithOld", signer: rotating, verifyKeys: []string{testSecretOld}},
		{name: "BothVerifyWithOther", signer: rotating, verifyKeys: []string{testSecretOther}, want: webhook.ErrNoMatchingSignature},
		{name: "NewVerifyWithBoth", signer: newOnly, verifyKeys: []string{testSecretNew, testSecretOld}},
		{name: "OldVerifyWithBoth", signer: oldOnly, verifyKeys: []string{testSecretNew, testSecretOld}},
		{name: "OldVerifyWithNew", signer: oldOnly, verifyKeys: []string{testSecretNew}, want: webhook.ErrNoMatchingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := mustVerifier(t, tt.verifyKeys...)
			if got := v.Verify(signedHeader(tt.signer, testMsgID, testTS, testBody), testBody); !errors.Is(got, tt.want) {
				t.Fatalf("Verify(...) = %v, want %v", got, tt.want)
			}
		})
	}

	if got, want := len(strings.Fields(rotating.Sign(testMsgID, testTS, testBody))), 2; got != want {
		t.Fatalf("rotating Sign() has %d signatures, want %d", got, want)
	}
	if got, want := strings.Fields(rotating.Sign(testMsgID, testTS, testBody))[0], newOnly.Sign(testMsgID, testTS, testBody); got != want {
		t.Fatalf("rotating Sign() starts with %q, want the newest key's %q", got, want)
	}
}

func TestVerifierMixedVersions(t *testing.T) {
	t.Parallel()

	mixed := mustSigner(t, testSecretNew, testPrivateKey)
	tests := []struct {
		name       string
		verifyKeys []string
		want       error
	}{
		{name: "Secret", verifyKeys: []string{testSecretNew}},
		{name: "PublicKey", verifyKeys: []string{testPublicKey}},
		{name: "WrongSecretRightPublicKey", verifyKeys: []string{testSecretOther, testPublicKey}},
		{name: "RightSecretWrongPublicKey", verifyKeys: []string{testPublicKey2, testSecretNew}},
		{name: "WrongBoth", verifyKeys: []string{testSecretOther, testPublicKey2}, want: webhook.ErrNoMatchingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := mustVerifier(t, tt.verifyKeys...)
			if got := v.Verify(signedHeader(mixed, testMsgID, testTS, testBody), testBody); !errors.Is(got, tt.want) {
				t.Fatalf("Verify(...) = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVerifierTolerance(t *testing.T) {
	t.Parallel()

	s := mustSigner(t, testSecretNew)
	tests := []struct {
		name      string
		tolerance time.Duration
		now       time.Time // the verifier's clock; the message is signed at testNow
		want      error
	}{
		{name: "Now", now: testNow},
		{name: "DefaultJustInPast", now: testNow.Add(5 * time.Minute)},
		{name: "DefaultTooOld", now: testNow.Add(5*time.Minute + time.Nanosecond), want: webhook.ErrTooOld},
		{name: "DefaultJustInFuture", now: testNow.Add(-5 * time.Minute)},
		{name: "DefaultTooNew", now: testNow.Add(-5*time.Minute - time.Nanosecond), want: webhook.ErrTooNew},
		{name: "DefaultDayOld", now: testNow.Add(24 * time.Hour), want: webhook.ErrTooOld},
		{name: "CustomOK", tolerance: time.Hour, now: testNow.Add(59 * time.Minute)},
		{name: "CustomTooOld", tolerance: time.Second, now: testNow.Add(2 * time.Second), want: webhook.ErrTooOld},
		{name: "CustomTooNew", tolerance: time.Second, now: testNow.Add(-2 * time.Second), want: webhook.ErrTooNew},
		{name: "NoCheckOld", tolerance: -1, now: testNow.AddDate(10, 0, 0)},
		{name: "NoCheckNew", tolerance: -1, now: time.Unix(0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := webhook.NewVerifier([]string{testSecretNew}, &webhook.VerifierOptions{
				Tolerance: tt.tolerance,
				Now:       func() time.Time { return tt.now },
			})
			if err != nil {
				t.Fatalf("NewVerifier() = %v, want nil", err)
			}
			if got := v.Verify(signedHeader(s, testMsgID, testTS, testBody), testBody); !errors.Is(got, tt.want) {
				t.Fatalf("Verify(...) = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVerifierDefaultClock(t *testing.T) {
	t.Parallel()

	s := mustSigner(t, testSecretNew)
	v, err := webhook.NewVerifier([]string{testSecretNew}, nil)
	if err != nil {
		t.Fatalf("NewVerifier() = %v, want nil", err)
	}
	now := time.Now().Unix()
	if err := v.Verify(signedHeader(s, testMsgID, now, testBody), testBody); err != nil {
		t.Fatalf("Verify(signed now) = %v, want nil", err)
	}
	if err := v.Verify(signedHeader(s, testMsgID, now-3600, testBody), testBody); !errors.Is(err, webhook.ErrTooOld) {
		t.Fatalf("Verify(signed an hour ago) = %v, want %v", err, webhook.ErrTooOld)
	}
}

// TestVerifierErrors covers every sentinel error and the malformed headers.
func TestVerifierErrors(t *testing.T) {
	t.Parallel()

	s := mustSigner(t, testSecretNew, testPrivateKey)
	good := s.Sign(testMsgID, testTS, testBody)
	goodV1 := strings.Fields(good)[0]
	goodV1a := strings.Fields(good)[1]
	sig := strings.TrimPrefix(goodV1, "v1,")
	flipped := []byte(sig)
	flipped[0] ^= 1 // still base64, different MAC
	tests := []struct {
		name      string
		msgID     string
		timestamp string
		signature string
		want      error
	}{
		{name: "OK", msgID: testMsgID, timestamp: testTSStr, signature: good},
		{name: "OKV1Only", msgID: testMsgID, timestamp: testTSStr, signature: goodV1},
		{name: "OKUnknownVersionsIgnored", msgID: testMsgID, timestamp: testTSStr, signature: "v2,abc v1b,=== " + goodV1 + " v0,x"},
		{name: "OKExtraSpaces", msgID: testMsgID, timestamp: testTSStr, signature: "  " + goodV1 + "   " + goodV1a + " "},
		{name: "OKGarbageUnknownVersion", msgID: testMsgID, timestamp: testTSStr, signature: "zz,@@@,@@@ " + goodV1},

		{name: "ErrMissingID", timestamp: testTSStr, signature: good, want: webhook.ErrMissingHeader},
		{name: "ErrMissingTimestamp", msgID: testMsgID, signature: good, want: webhook.ErrMissingHeader},
		{name: "ErrMissingSignature", msgID: testMsgID, timestamp: testTSStr, want: webhook.ErrMissingHeader},

		{name: "ErrTimestampLetters", msgID: testMsgID, timestamp: "17957826OO", signature: good, want: webhook.ErrInvalidTimestamp},
		{name: "ErrTimestampNegative", msgID: testMsgID, timestamp: "-" + testTSStr, signature: good, want: webhook.ErrInvalidTimestamp},
		{name: "ErrTimestampPlus", msgID: testMsgID, timestamp: "+" + testTSStr, signature: good, want: webhook.ErrInvalidTimestamp},
		{name: "ErrTimestampLeadingZero", msgID: testMsgID, timestamp: "0" + testTSStr, signature: good, want: webhook.ErrInvalidTimestamp},
		{name: "ErrTimestampFraction", msgID: testMsgID, timestamp: testTSStr + ".5", signature: good, want: webhook.ErrInvalidTimestamp},
		{name: "ErrTimestampSpace", msgID: testMsgID, timestamp: " " + testTSStr, signature: good, want: webhook.ErrInvalidTimestamp},
		{name: "ErrTimestampRFC3339", msgID: testMsgID, timestamp: testNow.UTC().Format(time.RFC3339), signature: good, want: webhook.ErrInvalidTimestamp},
		{name: "ErrTimestampHuge", msgID: testMsgID, timestamp: strings.Repeat("9", 19), signature: good, want: webhook.ErrInvalidTimestamp},
		{name: "ErrTimestampMilliseconds", msgID: testMsgID, timestamp: testTSStr + "000", signature: good, want: webhook.ErrTooNew},

		{name: "ErrHeaderOnlySpaces", msgID: testMsgID, timestamp: testTSStr, signature: "   ", want: webhook.ErrInvalidHeader},
		{name: "ErrHeaderNoComma", msgID: testMsgID, timestamp: testTSStr, signature: "v1" + sig, want: webhook.ErrInvalidHeader},
		{name: "ErrHeaderNoCommaBesideGood", msgID: testMsgID, timestamp: testTSStr, signature: goodV1 + " garbage", want: webhook.ErrInvalidHeader},
		{name: "ErrHeaderEmptyVersion", msgID: testMsgID, timestamp: testTSStr, signature: "," + sig, want: webhook.ErrInvalidHeader},
		{name: "ErrHeaderEmptySignature", msgID: testMsgID, timestamp: testTSStr, signature: "v1,", want: webhook.ErrInvalidHeader},
		{name: "ErrHeaderBadBase64", msgID: testMsgID, timestamp: testTSStr, signature: "v1," + strings.Repeat("*", 43) + "=", want: webhook.ErrInvalidHeader},
		{name: "ErrHeaderURLBase64", msgID: testMsgID, timestamp: testTSStr, signature: "v1," + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), want: webhook.ErrInvalidHeader},
		{name: "ErrHeaderUnpadded", msgID: testMsgID, timestamp: testTSStr, signature: strings.TrimRight(goodV1, "="), want: webhook.ErrInvalidHeader},
		{name: "ErrHeaderNonCanonicalPadding", msgID: testMsgID, timestamp: testTSStr, signature: "v1," + nonCanonical(sig), want: webhook.ErrInvalidHeader},
		{name: "ErrHeaderShort", msgID: testMsgID, timestamp: testTSStr, signature: "v1," + sig[:40], want: webhook.ErrInvalidHeader},
		{name: "ErrHeaderLong", msgID: testMsgID, timestamp: testTSStr, signature: "v1," + sig + "AAAA", want: webhook.ErrInvalidHeader},
		{name: "ErrHeaderV1aLengthOfV1", msgID: testMsgID, timestamp: testTSStr, signature: "v1a," + sig, want: webhook.ErrInvalidHeader},
		{name: "ErrHeaderV1LengthOfV1a", msgID: testMsgID, timestamp: testTSStr, signature: "v1," + strings.TrimPrefix(goodV1a, "v1a,"), want: webhook.ErrInvalidHeader},
		{name: "ErrHeaderHuge", msgID: testMsgID, timestamp: testTSStr, signature: goodV1 + strings.Repeat(" v9,x", 2000), want: webhook.ErrInvalidHeader},
		{name: "ErrHeaderTooManyEntries", msgID: testMsgID, timestamp: testTSStr, signature: strings.Repeat("v9,x ", 16) + goodV1, want: webhook.ErrInvalidHeader},
		{name: "OKHeaderMaxEntries", msgID: testMsgID, timestamp: testTSStr, signature: strings.Repeat("v9,x ", 15) + goodV1},

		{name: "ErrNoMatchFlipped", msgID: testMsgID, timestamp: testTSStr, signature: "v1," + string(flipped), want: webhook.ErrNoMatchingSignature},
		{name: "ErrNoMatchOnlyUnknownVersions", msgID: testMsgID, timestamp: testTSStr, signature: "v2," + sig, want: webhook.ErrNoMatchingSignature},
		{name: "ErrNoMatchOtherID", msgID: testMsgID + "x", timestamp: testTSStr, signature: good, want: webhook.ErrNoMatchingSignature},
		{name: "ErrNoMatchOtherTimestamp", msgID: testMsgID, timestamp: strconv.FormatInt(testTS+1, 10), signature: good, want: webhook.ErrNoMatchingSignature},
		{name: "ErrNoMatchV1aWithoutPublicKey", msgID: testMsgID, timestamp: testTSStr, signature: goodV1a, want: webhook.ErrNoMatchingSignature},
		{name: "ErrNoMatchV1SignatureLabelledV2", msgID: testMsgID, timestamp: testTSStr, signature: "v2," + sig + " v1a," + strings.TrimPrefix(goodV1a, "v1a,"), want: webhook.ErrNoMatchingSignature},
	}
	v := mustVerifier(t, testSecretNew)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := v.VerifyValues(tt.msgID, tt.timestamp, tt.signature, testBody)
			if !errors.Is(got, tt.want) {
				t.Fatalf("VerifyValues(%q, %q, %.40q…) = %v, want %v", tt.msgID, tt.timestamp, tt.signature, got, tt.want)
			}
			if got == nil {
				return
			}
			// Errors name their category but never quote a signature.
			for _, f := range strings.Fields(tt.signature) {
				if _, enc, ok := strings.Cut(f, ","); ok && len(enc) >= 8 && strings.Contains(got.Error(), enc) {
					t.Fatalf("VerifyValues() error %q quotes a signature", got)
				}
			}
			if !strings.HasPrefix(got.Error(), "webhook: ") {
				t.Fatalf("VerifyValues() error %q, want prefix %q", got, "webhook: ")
			}
		})
	}
}

// nonCanonical changes the unused low bits before the padding of a base64
// string, which a lenient decoder would ignore.
func nonCanonical(sig string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := []byte(sig)
	i := strings.LastIndexFunc(sig, func(r rune) bool { return r != '=' })
	b[i] = alphabet[strings.IndexByte(alphabet, b[i])^1]
	return string(b)
}

func TestVerifierHeaders(t *testing.T) {
	t.Parallel()

	s := mustSigner(t, testSecretNew)
	sig := s.Sign(testMsgID, testTS, testBody)
	tests := []struct {
		name   string
		header http.Header
		want   error
	}{
		{name: "Canonical", header: signedHeader(s, testMsgID, testTS, testBody)},
		{name: "LowerCaseMapKeys", header: http.Header{"webhook-id": {testMsgID}, "webhook-timestamp": {testTSStr}, "webhook-signature": {sig}}},
		{name: "FirstValueWins", header: http.Header{"Webhook-Id": {testMsgID, "other"}, "Webhook-Timestamp": {testTSStr}, "Webhook-Signature": {sig, "v1,x"}}},
		{name: "ErrEmpty", header: http.Header{}, want: webhook.ErrMissingHeader},
		{name: "ErrNil", header: nil, want: webhook.ErrMissingHeader},
		{name: "ErrEmptyValue", header: http.Header{"Webhook-Id": {""}, "Webhook-Timestamp": {testTSStr}, "Webhook-Signature": {sig}}, want: webhook.ErrMissingHeader},
		{name: "ErrSvixHeaders", header: http.Header{"Svix-Id": {testMsgID}, "Svix-Timestamp": {testTSStr}, "Svix-Signature": {sig}}, want: webhook.ErrMissingHeader},
	}
	v := mustVerifier(t, testSecretNew)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := v.Verify(tt.header, testBody); !errors.Is(got, tt.want) {
				t.Fatalf("Verify(%v) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestVerifierShortAndLongSecrets(t *testing.T) {
	t.Parallel()

	// Verification accepts any non-empty secret, as the official libraries
	// do, although Signer only makes signatures with 24–64 bytes.
	tests := []struct {
		name string
		key  []byte
	}{
		{name: "OneByte", key: []byte{42}},
		{name: "SixteenBytes", key: make([]byte, 16)},
		{name: "LongerThanBlock", key: make([]byte, 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secret := "whsec_" + base64.StdEncoding.EncodeToString(tt.key)
			v := mustVerifier(t, secret)
			sig := "v1," + hmacSHA256(tt.key, testMsgID+"."+testTSStr+"."+string(testBody))
			if err := v.VerifyValues(testMsgID, testTSStr, sig, testBody); err != nil {
				t.Fatalf("VerifyValues(...) = %v, want nil", err)
			}
		})
	}
}
