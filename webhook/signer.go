package webhook

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"hash"
	"strconv"
	"strings"
	"sync"
)

// Encoded signature lengths: "v1," + base64(32 bytes) and
// "v1a," + base64(64 bytes).
var (
	hmacSigLen    = len(versionHMAC) + 1 + b64.EncodedLen(sha256.Size)
	ed25519SigLen = len(versionEd25519) + 1 + b64.EncodedLen(ed25519.SignatureSize)
)

// maxInt64Digits is the length of "-9223372036854775808".
const maxInt64Digits = 20

// Signer signs webhook messages with one or more keys. It is safe for
// concurrent use.
type Signer struct {
	keys []signingKey
}

type signingKey interface {
	// appendSignature appends one "version,base64" entry to dst. It may use
	// dst's spare capacity as scratch space.
	appendSignature(dst []byte, msgID string, timestamp int64, body []byte) []byte
	// sigLen is the length of the entry appendSignature appends.
	sigLen() int
	// scratchLen is the extra capacity appendSignature needs beyond sigLen.
	scratchLen(msgID string, body []byte) int
}

// NewSigner returns a Signer for the given keys, newest first: "whsec_"
// secrets (24–64 bytes) make v1 signatures and "whsk_" Ed25519 private keys
// make v1a signatures. During a key rotation pass the new key and the old
// one; every message then carries both signatures.
//
// The error wraps ErrInvalidKey and says which key is bad and why; it never
// quotes the key.
func NewSigner(keys ...string) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("webhook: new signer: no keys")
	}
	s := &Signer{keys: make([]signingKey, 0, len(keys))}
	for i, k := range keys {
		var (
			sk  signingKey
			err error
		)
		switch {
		case strings.HasPrefix(k, SecretPrefix):
			var key []byte
			if key, err = parseSigningSecret(k); err == nil {
				sk = newHMACKey(key)
			}
		case strings.HasPrefix(k, PrivateKeyPrefix):
			var priv ed25519.PrivateKey
			if priv, err = parsePrivateKey(k); err == nil {
				sk = ed25519Key{priv: priv}
			}
		case strings.HasPrefix(k, PublicKeyPrefix):
			err = keyError("whpk_ public key cannot sign; pass the whsk_ private key")
		default:
			err = keyError("unknown key prefix, want " + SecretPrefix + " or " + PrivateKeyPrefix)
		}
		if err != nil {
			return nil, invalidKey(i, len(keys), err)
		}
		s.keys = append(s.keys, sk)
	}
	return s, nil
}

// Sign returns the webhook-signature header value for a message: one
// "version,base64" entry per key, in the order the keys were given,
// separated by spaces. The signed content is msgID + "." + timestamp (decimal
// Unix seconds) + "." + body.
func (s *Signer) Sign(msgID string, timestamp int64, body []byte) string {
	n, scratch := 0, 0
	for i, k := range s.keys {
		if i > 0 {
			n++ // the space between entries
		}
		n += k.sigLen()
		scratch = max(scratch, k.scratchLen(msgID, body))
	}
	return string(s.AppendSignature(make([]byte, 0, n+scratch), msgID, timestamp, body))
}

// AppendSignature appends the webhook-signature header value that Sign
// returns to dst and returns the extended buffer. It allocates nothing once
// dst has room for the signatures plus len(msgID)+len(body)+100 bytes of
// scratch space, which it may overwrite beyond the returned length.
func (s *Signer) AppendSignature(dst []byte, msgID string, timestamp int64, body []byte) []byte {
	for i, k := range s.keys {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = k.appendSignature(dst, msgID, timestamp, body)
	}
	return dst
}

// appendSignedPrefix appends msgID + "." + timestamp + "." to dst.
func appendSignedPrefix(dst []byte, msgID string, timestamp int64) []byte {
	dst = append(dst, msgID...)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, timestamp, 10)
	return append(dst, '.')
}

// hmacKey makes v1 signatures. HMAC states are pooled because hmac.New
// allocates and hashes the key on every call.
type hmacKey struct {
	pool *sync.Pool
}

func newHMACKey(key []byte) hmacKey {
	return hmacKey{pool: &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

func (k hmacKey) sigLen() int { return hmacSigLen }

func (k hmacKey) scratchLen(msgID string, _ []byte) int {
	return len(msgID) + maxInt64Digits + 2 + sha256.Size
}

func (k hmacKey) appendSignature(dst []byte, msgID string, timestamp int64, body []byte) []byte {
	// Layout: dst | "v1," | base64 MAC | scratch: signed prefix, then MAC.
	start := len(dst)
	end := start + hmacSigLen
	dst = append(dst, versionHMAC+","...)
	dst = append(dst, make([]byte, end-len(dst))...)
	dst = appendSignedPrefix(dst, msgID, timestamp)

	h := k.pool.Get().(hash.Hash)
	h.Reset()
	h.Write(dst[end:])
	h.Write(body)
	dst = h.Sum(dst[:end])
	k.pool.Put(h)

	b64.Encode(dst[start+len(versionHMAC)+1:end], dst[end:])
	return dst[:end]
}

// ed25519Key makes v1a signatures.
type ed25519Key struct {
	priv ed25519.PrivateKey
}

func (k ed25519Key) sigLen() int { return ed25519SigLen }

func (k ed25519Key) scratchLen(msgID string, body []byte) int {
	return len(msgID) + maxInt64Digits + 2 + len(body)
}

func (k ed25519Key) appendSignature(dst []byte, msgID string, timestamp int64, body []byte) []byte {
	// Layout: dst | "v1a," | base64 signature | scratch: signed content.
	// Ed25519 hashes the message twice, so it must be contiguous.
	start := len(dst)
	end := start + ed25519SigLen
	dst = append(dst, versionEd25519+","...)
	dst = append(dst, make([]byte, end-len(dst))...)
	dst = appendSignedPrefix(dst, msgID, timestamp)
	dst = append(dst, body...)

	sig := ed25519.Sign(k.priv, dst[end:])
	b64.Encode(dst[start+len(versionEd25519)+1:end], sig)
	return dst[:end]
}
