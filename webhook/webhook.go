package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Standard Webhooks header names. They are written in lower case as in the
// specification; net/http canonicalizes them when they are set or read.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Key prefixes. Every key is its prefix followed by standard, padded base64.
const (
	// SecretPrefix starts a symmetric secret: whsec_ + base64 of 24–64
	// random bytes. It signs and verifies v1 (HMAC-SHA256) signatures.
	SecretPrefix = "whsec_"
	// PublicKeyPrefix starts an Ed25519 public key: whpk_ + base64 of its
	// 32 bytes. It verifies v1a signatures.
	PublicKeyPrefix = "whpk_"
	// PrivateKeyPrefix starts an Ed25519 private key: whsk_ + base64 of the
	// 64-byte ed25519.PrivateKey (parsing also accepts the 32-byte seed).
	// It signs v1a signatures and never leaves the sender.
	PrivateKeyPrefix = "whsk_"
)

// Signature versions as they appear in the webhook-signature header.
const (
	versionHMAC    = "v1"
	versionEd25519 = "v1a"
)

// Sentinel errors. The errors returned by this package wrap them with detail,
// so test for them with errors.Is. No error text ever contains key material
// or a signature.
var (
	// ErrMissingHeader means webhook-id, webhook-timestamp or
	// webhook-signature is missing or empty.
	ErrMissingHeader = errors.New("webhook: missing header")
	// ErrInvalidHeader means the webhook-signature header is malformed: an
	// entry without a comma, a v1 or v1a signature that is not base64 of
	// the right length, or a header that is too long.
	ErrInvalidHeader = errors.New("webhook: invalid signature header")
	// ErrInvalidTimestamp means webhook-timestamp is not decimal Unix
	// seconds: digits only, without sign, fraction or leading zeros, so
	// that the text signed is the text sent.
	ErrInvalidTimestamp = errors.New("webhook: invalid timestamp")
	// ErrTooOld means the timestamp is further in the past than the
	// tolerance allows.
	ErrTooOld = errors.New("webhook: message too old")
	// ErrTooNew means the timestamp is further in the future than the
	// tolerance allows.
	ErrTooNew = errors.New("webhook: message too new")
	// ErrNoMatchingSignature means no signature in the header was made by
	// any of the verifier's keys over this message.
	ErrNoMatchingSignature = errors.New("webhook: no matching signature")
	// ErrInvalidKey means a key passed to NewSigner, NewVerifier or
	// PublicKey is malformed. The error names the key by position and says
	// what is wrong with it (prefix, base64, length).
	ErrInvalidKey = errors.New("webhook: invalid key")
)

// Envelope is the JSON body of every hookd delivery. Its ID equals the
// webhook-id header and stays the same across retries and redeliveries, so
// receivers can deduplicate on it.
type Envelope struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	Timestamp time.Time       `json:"timestamp"`
	AccountID string          `json:"account_id"`
	Data      json.RawMessage `json:"data"`
}

type envelopeKey struct{}

// EnvelopeFromContext returns the envelope that Verifier.Middleware stored in
// the request context after a successful verification.
func EnvelopeFromContext(ctx context.Context) (*Envelope, bool) {
	env, ok := ctx.Value(envelopeKey{}).(*Envelope)
	return env, ok && env != nil
}
