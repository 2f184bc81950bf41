package webhook_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd/webhook"
)

// The secret and message of the Standard Webhooks reference test.
const (
	exampleSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	exampleMsgID  = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	exampleTS     = 1614265330
)

func ExampleSigner() {
	signer, err := webhook.NewSigner(exampleSecret)
	if err != nil {
		log.Fatal(err)
	}
	body := []byte(`{"test": 2432232314}`)

	req, err := http.NewRequest(http.MethodPost, "https://example.com/webhooks", strings.NewReader(string(body)))
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.HeaderID, exampleMsgID)
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(exampleTS, 10))
	req.Header.Set(webhook.HeaderSignature, signer.Sign(exampleMsgID, exampleTS, body))

	fmt.Println(req.Header.Get(webhook.HeaderSignature))
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

// During a rotation the signer holds the new and the old secret, newest
// first, and every message carries both signatures.
func ExampleSigner_rotation() {
	newSecret := "whsec_" + strings.Repeat("A", 43) + "="
	signer, err := webhook.NewSigner(newSecret, exampleSecret)
	if err != nil {
		log.Fatal(err)
	}
	for _, sig := range strings.Fields(signer.Sign(exampleMsgID, exampleTS, []byte(`{"test": 2432232314}`))) {
		fmt.Println(sig)
	}
	// Output:
	// v1,woH/1mJtZGSMCmpFTxRYbStS24eLLD/oXIYr4PYyZ7g=
	// v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

func ExampleVerifier() {
	verifier, err := webhook.NewVerifier([]string{exampleSecret}, &webhook.VerifierOptions{
		// Pretend it is 10 seconds after the message was sent. Leave
		// Now nil to use the system clock.
		Now: func() time.Time { return time.Unix(exampleTS+10, 0) },
	})
	if err != nil {
		log.Fatal(err)
	}

	h := http.Header{}
	h.Set(webhook.HeaderID, exampleMsgID)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(exampleTS, 10))
	h.Set(webhook.HeaderSignature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")

	err = verifier.Verify(h, []byte(`{"test": 2432232314}`))
	fmt.Println("original:", err)

	err = verifier.Verify(h, []byte(`{"test": 2432232315}`))
	fmt.Println("tampered:", errors.Is(err, webhook.ErrNoMatchingSignature))

	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(exampleTS-3600, 10))
	err = verifier.Verify(h, []byte(`{"test": 2432232314}`))
	fmt.Println("an hour old:", errors.Is(err, webhook.ErrTooOld))
	// Output:
	// original: <nil>
	// tampered: true
	// an hour old: true
}

func ExampleVerifier_Middleware() {
	// In a real receiver the secret comes from configuration, and Now is
	// left nil.
	secret := exampleSecret
	verifier, err := webhook.NewVerifier([]string{secret}, &webhook.VerifierOptions{
		Now: func() time.Time { return time.Unix(exampleTS, 0) },
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env, _ := webhook.EnvelopeFromContext(r.Context())
		body, _ := io.ReadAll(r.Body) // the raw body is still there
		fmt.Printf("handler: %s %s (%d bytes)\n", env.Event, env.ID, len(body))
		w.WriteHeader(http.StatusNoContent)
	}))
	// mux.Handle("POST /webhooks", handler)

	// What hookd sends:
	body := `{"id":"evt_1","event":"sms.received","timestamp":"2021-02-25T15:02:10.000Z","account_id":"acc_1","data":{"body":"hi"}}`
	signer, err := webhook.NewSigner(secret)
	if err != nil {
		log.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/webhooks", strings.NewReader(body))
	req.Header.Set(webhook.HeaderID, "evt_1")
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(exampleTS, 10))
	req.Header.Set(webhook.HeaderSignature, signer.Sign("evt_1", exampleTS, []byte(body)))
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println("signed:", rec.Code)

	// A forged request:
	req = httptest.NewRequest(http.MethodPost, "/webhooks", strings.NewReader(body))
	req.Header.Set(webhook.HeaderID, "evt_1")
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(exampleTS, 10))
	req.Header.Set(webhook.HeaderSignature, "v1,"+strings.Repeat("A", 43)+"=")
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Print("forged: ", rec.Code, " ", rec.Body.String())
	// Output:
	// handler: sms.received evt_1 (118 bytes)
	// signed: 204
	// forged: 401 invalid webhook signature
}
