// Package keyseal encrypts endpoint signing keys at rest with
// AES-256-GCM under the operator's --secret-key.
//
// A sealed value reads "enc:v1:<key id>:<base64(nonce || ciphertext)>",
// where the key id is the first 8 hex digits of SHA-256(key): it tells
// which key sealed a value, so a wrong or missing key is reported as such
// instead of as corrupt data. Values without the "enc:" prefix are
// plaintext (keys stored before a secret key was configured) and open as
// they are. hookd serve seals them, and re-seals values sealed by an
// older key of the list, at start (see Box.Reseal); hookd seal does it
// on demand. (The seal is AES-256-GCM, not the XSalsa20-Poly1305 of
// NaCl's secretbox, whose name this package once had.)
package keyseal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

const prefix = "enc:v1:"

// Box seals with its first key and opens with any of its keys, so that
// the secret key can be rotated: put the new key first, keep the old one
// until every endpoint secret was rotated.
type Box struct {
	keys []key
}

type key struct {
	id   string
	aead cipher.AEAD
}

// ParseKeys reads a comma-separated list of base64 (standard or URL,
// padded or not) 32-byte keys.
func ParseKeys(s string) (*Box, error) {
	var raws [][]byte
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		raw, err := decodeKey(part)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("secret key %d: want the base64 of 32 random bytes (e.g. openssl rand -base64 32)", i+1)
		}
		raws = append(raws, raw)
	}
	if len(raws) == 0 {
		return nil, errors.New("no secret key given")
	}
	return New(raws...)
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// New returns a Box for 32-byte keys, the first one sealing.
func New(keys ...[]byte) (*Box, error) {
	b := &Box{}
	for _, raw := range keys {
		if len(raw) != 32 {
			return nil, errors.New("keyseal: keys are 32 bytes")
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(raw)
		b.keys = append(b.keys, key{id: hex.EncodeToString(sum[:4]), aead: aead})
	}
	if len(b.keys) == 0 {
		return nil, errors.New("keyseal: no key")
	}
	return b, nil
}

// Seal encrypts plain.
func (b *Box) Seal(plain string) (string, error) {
	k := b.keys[0]
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := k.aead.Seal(nonce, nonce, []byte(plain), []byte(k.id))
	return prefix + k.id + ":" + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// ErrWrongKey means a value was sealed with a key this Box does not hold.
var ErrWrongKey = errors.New("keyseal: sealed with another secret key")

// Open decrypts a sealed value; a plaintext value is returned as is.
func (b *Box) Open(stored string) (string, error) {
	return open(b, stored)
}

// Open opens stored without a key: plaintext passes, sealed values fail
// with ErrWrongKey (hookd started without --secret-key).
func Open(stored string) (string, error) {
	return open(nil, stored)
}

func open(b *Box, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, prefix)
	if !ok {
		return stored, nil
	}
	id, data, ok := strings.Cut(rest, ":")
	if !ok {
		return "", errors.New("keyseal: malformed sealed value")
	}
	if b == nil {
		return "", ErrWrongKey
	}
	for _, k := range b.keys {
		if k.id != id {
			continue
		}
		raw, err := base64.RawStdEncoding.DecodeString(data)
		if err != nil || len(raw) < k.aead.NonceSize() {
			return "", errors.New("keyseal: malformed sealed value")
		}
		plain, err := k.aead.Open(nil, raw[:k.aead.NonceSize()], raw[k.aead.NonceSize():], []byte(id))
		if err != nil {
			return "", errors.New("keyseal: sealed value does not authenticate")
		}
		return string(plain), nil
	}
	return "", ErrWrongKey
}

// Reseal returns stored sealed under the Box's first key: a plaintext
// value, or one sealed by another key the Box holds, is sealed anew
// (changed true); one already sealed by the first key is returned as is.
// A value sealed by a key the Box does not hold fails with ErrWrongKey.
func (b *Box) Reseal(stored string) (out string, changed bool, err error) {
	if rest, ok := strings.CutPrefix(stored, prefix); ok {
		if id, _, _ := strings.Cut(rest, ":"); id == b.keys[0].id {
			return stored, false, nil
		}
	}
	plain, err := b.Open(stored)
	if err != nil {
		return "", false, err
	}
	out, err = b.Seal(plain)
	if err != nil {
		return "", false, err
	}
	return out, true, nil
}

// KeyID returns the id of the Box's first key, as sealed values name it.
func (b *Box) KeyID() string { return b.keys[0].id }

// Plain is the key sealer of a hookd without --secret-key: keys are
// stored as they are, and a sealed value (from a run with a key) cannot
// be opened.
type Plain struct{}

// Seal returns plain unchanged.
func (Plain) Seal(plain string) (string, error) { return plain, nil }

// Open returns plaintext values and fails with ErrWrongKey on sealed ones.
func (Plain) Open(stored string) (string, error) { return Open(stored) }
