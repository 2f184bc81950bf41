package webhook_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

// Fixed keys, so that failures are reproducible. They are built from
// repeated bytes and are not used anywhere else.
var (
	testSecretNew   = "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x01}, 32))
	testSecretOld   = "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x02}, 32))
	testSecretOther = "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x03}, 32))

	testPrivateKey, testPublicKey   = testKeyPair(0x11)
	testPrivateKey2, testPublicKey2 = testKeyPair(0x12)
)

// testNow is the verifiers' current time in the tests: 2026-11-27T12:30:00Z.
var (
	testNow   = time.Unix(1795782600, 0)
	testTS    = testNow.Unix()
	testTSStr = strconv.FormatInt(testTS, 10)
)

const testMsgID = "evt_01JDQ8Z4C3V6W9X2Y5Z8A1B4C7"

var testBody = []byte(`{"id":"evt_01JDQ8Z4C3V6W9X2Y5Z8A1B4C7","event":"call.received","timestamp":"2026-11-27T12:30:00.000Z","account_id":"acc_01JDQ7XW2E5F8G1H4J7K0M3N6P","data":{"call_id":"call_1","status":"completed"}}`)

func testKeyPair(b byte) (priv, pub string) {
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
	return "whsk_" + base64.StdEncoding.EncodeToString(k),
		"whpk_" + base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
}

func mustSigner(tb testing.TB, keys ...string) *webhook.Signer {
	tb.Helper()
	s, err := webhook.NewSigner(keys...)
	if err != nil {
		tb.Fatalf("NewSigner() = %v, want nil", err)
	}
	return s
}

// mustVerifier returns a verifier whose clock is fixed at testNow.
func mustVerifier(tb testing.TB, keys ...string) *webhook.Verifier {
	tb.Helper()
	v, err := webhook.NewVerifier(keys, &webhook.VerifierOptions{Now: func() time.Time { return testNow }})
	if err != nil {
		tb.Fatalf("NewVerifier() = %v, want nil", err)
	}
	return v
}

// signedHeader returns the three webhook headers for body signed by s at ts.
func signedHeader(s *webhook.Signer, msgID string, ts int64, body []byte) http.Header {
	return http.Header{
		"Webhook-Id":        {msgID},
		"Webhook-Timestamp": {strconv.FormatInt(ts, 10)},
		"Webhook-Signature": {s.Sign(msgID, ts, body)},
	}
}

// sentinels lists every sentinel error by name, as in testdata/vectors.json.
var sentinels = map[string]error{
	"ErrMissingHeader":       webhook.ErrMissingHeader,
	"ErrInvalidHeader":       webhook.ErrInvalidHeader,
	"ErrInvalidTimestamp":    webhook.ErrInvalidTimestamp,
	"ErrTooOld":              webhook.ErrTooOld,
	"ErrTooNew":              webhook.ErrTooNew,
	"ErrNoMatchingSignature": webhook.ErrNoMatchingSignature,
}

// hmacSHA256 returns the base64 HMAC-SHA256 of msg, computed without the
// webhook package.
func hmacSHA256(key []byte, msg string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
