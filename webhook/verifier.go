package webhook

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for VerifierOptions.
const (
	DefaultTolerance    = 5 * time.Minute
	DefaultMaxBodyBytes = 1 << 20
)

// Limits on the webhook-signature header. A sender rotating keys puts two or
// three entries in it; the caps bound the work an attacker can cause, since
// every v1a entry costs an Ed25519 verification per public key.
const (
	maxSignatureHeaderBytes = 8 << 10
	maxSignatureEntries     = 16
)

// maxTimestampDigits keeps parsed timestamps far from int64 overflow while
// allowing any date a sender could mean (10 digits last until the year 2286).
const maxTimestampDigits = 18

// VerifierOptions configures a Verifier. The zero value gives the defaults.
type VerifierOptions struct {
	// MaxBodyBytes caps the request body that Middleware reads; a larger
	// body is answered with 413. 0 means DefaultMaxBodyBytes (1 MiB);
	// negative means no cap.
	MaxBodyBytes int64
	// Now returns the current time for the tolerance check. nil means
	// time.Now.
	Now func() time.Time
	// Tolerance is the largest accepted difference between the current time
	// and the webhook-timestamp, in either direction; it limits replays. 0
	// means DefaultTolerance (5 minutes); negative disables the check.
	Tolerance time.Duration
}

// Verifier checks webhook signatures against one or more keys. It is safe for
// concurrent use.
type Verifier struct {
	hmacKeys     []*sync.Pool // of hash.Hash, one pool per secret
	publicKeys   []ed25519.PublicKey
	tolerance    time.Duration
	now          func() time.Time
	maxBodyBytes int64

	// equal compares an expected MAC with a presented one. It is
	// hmac.Equal, which takes the same time whatever the bytes are, so a
	// forger cannot learn a valid MAC byte by byte. Tests replace it to
	// prove that every v1 comparison goes through it.
	equal func(mac1, mac2 []byte) bool
}

// NewVerifier returns a Verifier that accepts a message if any of its
// signatures was made with any of keys:
//
//   - "whsec_" secrets (or bare base64 secrets without the prefix, as the
//     official Standard Webhooks libraries accept) check v1 signatures;
//   - "whpk_" Ed25519 public keys check v1a signatures.
//
// Pass several keys while a sender rotates them. Unlike NewSigner it accepts
// secrets of any non-empty length. opts may be nil. The error wraps
// ErrInvalidKey and says which key is bad and why; it never quotes the key.
func NewVerifier(keys []string, opts *VerifierOptions) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, errors.New("webhook: new verifier: no keys")
	}
	if opts == nil {
		opts = &VerifierOptions{}
	}
	v := &Verifier{
		tolerance:    opts.Tolerance,
		now:          opts.Now,
		maxBodyBytes: opts.MaxBodyBytes,
		equal:        hmac.Equal,
	}
	if v.tolerance == 0 {
		v.tolerance = DefaultTolerance
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.maxBodyBytes == 0 {
		v.maxBodyBytes = DefaultMaxBodyBytes
	}
	for i, k := range keys {
		switch {
		case strings.HasPrefix(k, PublicKeyPrefix):
			pub, err := parsePublicKey(k)
			if err != nil {
				return nil, invalidKey(i, len(keys), err)
			}
			v.publicKeys = append(v.publicKeys, pub)
		case strings.HasPrefix(k, PrivateKeyPrefix):
			return nil, invalidKey(i, len(keys), keyError("whsk_ is a private key; verify with its whpk_ public key"))
		default:
			key, err := parseVerifyingSecret(k)
			if err != nil {
				return nil, invalidKey(i, len(keys), err)
			}
			v.hmacKeys = append(v.hmacKeys, &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }})
		}
	}
	return v, nil
}

// Verify checks the Standard Webhooks headers of a request against its body,
// which must be the exact bytes received. It returns nil if the timestamp is
// within the tolerance and a signature matches; otherwise the error wraps
// ErrMissingHeader, ErrInvalidTimestamp, ErrInvalidHeader, ErrTooOld,
// ErrTooNew or ErrNoMatchingSignature.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	return v.VerifyValues(headerValue(h, HeaderID), headerValue(h, HeaderTimestamp), headerValue(h, HeaderSignature), body)
}

// headerValue is h.Get, falling back to the lower-case key for headers that
// were put into the map directly rather than through Set.
func headerValue(h http.Header, key string) string {
	if v := h.Get(key); v != "" {
		return v
	}
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// VerifyValues is Verify for header values obtained elsewhere: msgID,
// timestamp and signature are the values of webhook-id, webhook-timestamp
// and webhook-signature.
func (v *Verifier) VerifyValues(msgID, timestamp, signature string, body []byte) error {
	// Check everything the sender controls for syntax first, so that a
	// malformed request is reported as such whatever the clock says.
	switch {
	case msgID == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderID)
	case timestamp == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderTimestamp)
	case signature == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderSignature)
	}
	ts, err := parseTimestamp(timestamp)
	if err != nil {
		return err
	}
	sigs, err := parseSignatureHeader(signature)
	if err != nil {
		return err
	}

	if v.tolerance > 0 {
		// Compare at full precision, as the official libraries do: with
		// the default tolerance a message stamped 12:00:00 is accepted
		// until 12:05:00 exactly. Sub saturates, so huge timestamps
		// cannot overflow.
		now, sent := v.now(), time.Unix(ts, 0)
		if age := now.Sub(sent); age > v.tolerance {
			return fmt.Errorf("%w: timestamp is %v in the past, tolerance is %v", ErrTooOld, age.Truncate(time.Second), v.tolerance)
		}
		if ahead := sent.Sub(now); ahead > v.tolerance {
			return fmt.Errorf("%w: timestamp is %v in the future, tolerance is %v", ErrTooNew, ahead.Truncate(time.Second), v.tolerance)
		}
	}

	if v.match(msgID, ts, sigs, body) {
		return nil
	}
	return ErrNoMatchingSignature
}

// match reports whether any signature was made by any key.
func (v *Verifier) match(msgID string, ts int64, sigs []signature, body []byte) bool {
	var hasV1, hasV1a bool
	for _, s := range sigs {
		hasV1 = hasV1 || s.version == versionHMAC
		hasV1a = hasV1a || s.version == versionEd25519
	}
	prefix := appendSignedPrefix(make([]byte, 0, len(msgID)+maxInt64Digits+2+sha256.Size), msgID, ts)

	if hasV1 {
		mac := prefix[len(prefix):]
		for _, pool := range v.hmacKeys {
			h := pool.Get().(hash.Hash)
			h.Reset()
			h.Write(prefix)
			h.Write(body)
			mac = h.Sum(mac[:0])
			pool.Put(h)
			// Compare with every v1 entry, in constant time: the time
			// spent says nothing about how close a wrong MAC came.
			matched := false
			for _, s := range sigs {
				if s.version == versionHMAC && v.equal(mac, s.sig) {
					matched = true
				}
			}
			if matched {
				return true
			}
		}
	}

	if hasV1a && len(v.publicKeys) > 0 {
		msg := append(prefix[:len(prefix):len(prefix)], body...)
		for _, pub := range v.publicKeys {
			for _, s := range sigs {
				if s.version == versionEd25519 && ed25519.Verify(pub, msg, s.sig) {
					return true
				}
			}
		}
	}
	return false
}

// parseTimestamp parses webhook-timestamp: decimal Unix seconds, digits only,
// without sign or leading zeros, so that the signed text is the header text.
func parseTimestamp(s string) (int64, error) {
	if len(s) > maxTimestampDigits {
		return 0, fmt.Errorf("%w: more than %d digits", ErrInvalidTimestamp, maxTimestampDigits)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: not decimal Unix seconds", ErrInvalidTimestamp)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%w: leading zero", ErrInvalidTimestamp)
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: not decimal Unix seconds", ErrInvalidTimestamp)
	}
	return ts, nil
}

// signature is one entry of the webhook-signature header.
type signature struct {
	version string
	sig     []byte // decoded for v1 and v1a, nil for other versions
}

// parseSignatureHeader splits a webhook-signature value into its
// space-separated "version,base64" entries. Entries of unknown versions are
// kept undecoded so that newer senders still work with this verifier; v1 and
// v1a entries must be padded standard base64 of 32 and 64 bytes. Repeated
// spaces are tolerated. Errors wrap ErrInvalidHeader.
func parseSignatureHeader(header string) ([]signature, error) {
	if len(header) > maxSignatureHeaderBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidHeader, maxSignatureHeaderBytes)
	}
	var sigs []signature
	for rest := header; rest != ""; {
		var entry string
		entry, rest, _ = strings.Cut(rest, " ")
		if entry == "" {
			continue
		}
		n := len(sigs) + 1
		if n > maxSignatureEntries {
			return nil, fmt.Errorf("%w: more than %d signatures", ErrInvalidHeader, maxSignatureEntries)
		}
		version, enc, ok := strings.Cut(entry, ",")
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: signature %d: no comma between version and signature", ErrInvalidHeader, n)
		case version == "":
			return nil, fmt.Errorf("%w: signature %d: empty version", ErrInvalidHeader, n)
		case enc == "":
			return nil, fmt.Errorf("%w: signature %d: empty signature", ErrInvalidHeader, n)
		}
		var size int
		switch version {
		case versionHMAC:
			size = sha256.Size
		case versionEd25519:
			size = ed25519.SignatureSize
		default:
			sigs = append(sigs, signature{version: version})
			continue
		}
		if len(enc) != b64.EncodedLen(size) {
			return nil, fmt.Errorf("%w: signature %d: %s signature is %d characters, want %d", ErrInvalidHeader, n, version, len(enc), b64.EncodedLen(size))
		}
		// Decode needs room for DecodedLen bytes: 44 characters without
		// padding decode to 33.
		sig := make([]byte, b64.DecodedLen(len(enc)))
		m, err := b64Strict.Decode(sig, []byte(enc))
		if err != nil || m != size {
			return nil, fmt.Errorf("%w: signature %d: %s signature is not standard padded base64", ErrInvalidHeader, n, version)
		}
		sigs = append(sigs, signature{version: version, sig: sig[:size:size]})
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("%w: no signatures", ErrInvalidHeader)
	}
	return sigs, nil
}
