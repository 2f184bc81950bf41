package webhook_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

// FuzzVerify feeds arbitrary header values and bodies to a verifier. It must
// never panic, every error must wrap one of the sentinel errors, and a
// signature that Signer makes for the fuzzed id and body must always verify,
// also next to the fuzzed signature header unless that one is malformed.
func FuzzVerify(f *testing.F) {
	s := mustSigner(f, testSecretNew, testPrivateKey)
	good := s.Sign(testMsgID, testTS, testBody)
	f.Add(testMsgID, testTSStr, good, testBody)
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	f.Add("a.b", "0", "v1, v1a,", []byte("."))
	f.Add(" ", "-1", "v2,x v1,=", []byte{})

	v, err := webhook.NewVerifier([]string{testSecretNew, testPublicKey}, &webhook.VerifierOptions{
		Now: func() time.Time { return testNow },
	})
	if err != nil {
		f.Fatalf("NewVerifier() = %v", err)
	}
	anyTime, err := webhook.NewVerifier([]string{testSecretNew, testPublicKey}, &webhook.VerifierOptions{Tolerance: -1})
	if err != nil {
		f.Fatalf("NewVerifier() = %v", err)
	}
	f.Fuzz(func(t *testing.T, msgID, timestamp, signature string, body []byte) {
		err := v.VerifyValues(msgID, timestamp, signature, body)
		if err != nil && !isSentinel(err) {
			t.Fatalf("VerifyValues(%q, %q, %q, %q) = %v, want an error wrapping a sentinel", msgID, timestamp, signature, body, err)
		}
		if err == nil && msgID == "" {
			t.Fatalf("VerifyValues with empty msgID = nil, want %v", webhook.ErrMissingHeader)
		}
		if msgID == "" {
			return
		}

		sig := s.Sign(msgID, testTS, body)
		if err := v.VerifyValues(msgID, testTSStr, sig, body); err != nil {
			t.Fatalf("VerifyValues(%q, %q, Sign(...), %q) = %v, want nil", msgID, testTSStr, body, err)
		}
		// Another body never verifies with the same signature.
		if err := v.VerifyValues(msgID, testTSStr, sig, append(body, 'x')); !errors.Is(err, webhook.ErrNoMatchingSignature) {
			t.Fatalf("VerifyValues(%q, %q, Sign(...), tampered) = %v, want %v", msgID, testTSStr, err, webhook.ErrNoMatchingSignature)
		}
		// A valid signature next to fuzzed entries verifies unless the
		// fuzzed entries make the header malformed.
		if err := v.VerifyValues(msgID, testTSStr, signature+" "+sig, body); err != nil && !errors.Is(err, webhook.ErrInvalidHeader) {
			t.Fatalf("VerifyValues(%q, %q, %q+Sign(...), %q) = %v, want nil or %v", msgID, testTSStr, signature, body, err, webhook.ErrInvalidHeader)
		}
		// A fuzzed timestamp signs and verifies if it is a valid one.
		if ts, perr := strconv.ParseInt(timestamp, 10, 64); perr == nil && strconv.FormatInt(ts, 10) == timestamp && ts >= 0 && ts < 1e18 {
			if err := anyTime.VerifyValues(msgID, timestamp, s.Sign(msgID, ts, body), body); err != nil {
				t.Fatalf("VerifyValues(%q, %q, Sign(...), %q) = %v, want nil", msgID, timestamp, body, err)
			}
		}
	})
}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
