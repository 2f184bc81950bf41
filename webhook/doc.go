// Package webhook signs and verifies webhook requests as specified by
// Standard Webhooks (https://www.standardwebhooks.com). hookd signs every
// delivery with a Signer; receivers, and the "hookd listen" command, check
// them with a Verifier. Both live here so that signing and verification
// cannot drift. The package uses the standard library only.
//
// # Headers and signed content
//
// Every request carries three headers:
//
//	webhook-id:        the event id, the same across retries (deduplicate on it)
//	webhook-timestamp: Unix seconds of the attempt
//	webhook-signature: space-separated "version,base64" signatures
//
// The signed content is id + "." + timestamp + "." + body, where body is the
// exact bytes sent. Two signature versions exist:
//
//	v1   HMAC-SHA256 keyed with the base64-decoded "whsec_" secret
//	v1a  Ed25519 signature by a "whsk_" private key, checked with its "whpk_" public key
//
// During a key rotation the sender signs with the new and the old key, newest
// first, and a receiver accepts a message if any signature matches any of
// its keys. Signatures of versions a verifier does not know are ignored.
// v1 signatures are interoperable with the official Standard Webhooks
// libraries; the vectors in testdata/vectors.json also cover v1a.
//
// # Signing
//
//	signer, err := webhook.NewSigner(secret) // "whsec_…" or "whsk_…"; several during rotation
//	if err != nil { … }
//	ts := time.Now().Unix()
//	req.Header.Set(webhook.HeaderID, msgID)
//	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts, 10))
//	req.Header.Set(webhook.HeaderSignature, signer.Sign(msgID, ts, body))
//
// # Verifying
//
// A receiver wraps its handler:
//
//	verifier, err := webhook.NewVerifier([]string{secret}, nil) // "whsec_…" or "whpk_…"
//	if err != nil { … }
//	http.Handle("POST /webhooks", verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		env, _ := webhook.EnvelopeFromContext(r.Context())
//		// env.ID, env.Event, env.Data …; r.Body still holds the raw body.
//	})))
//
// or checks the headers itself, with the raw body as received (not a
// re-encoding of decoded JSON):
//
//	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
//	…
//	if err := verifier.Verify(r.Header, body); err != nil {
//		// errors.Is(err, webhook.ErrNoMatchingSignature), webhook.ErrTooOld, …
//		http.Error(w, "invalid signature", http.StatusUnauthorized)
//		return
//	}
//
// Verify rejects timestamps more than VerifierOptions.Tolerance (5 minutes by
// default) away from the current time, which limits replays; deduplicating
// on webhook-id stops the rest.
package webhook
