package webhook

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// Secret lengths in bytes (after base64 decoding) accepted for signing. The
// lower bound is the 192 bits Standard Webhooks recommends; 64 bytes is the
// SHA-256 block size, beyond which HMAC hashes the key first.
const (
	minSecretBytes = 24
	maxSecretBytes = 64
	newSecretBytes = 32
)

var (
	b64 = base64.StdEncoding
	// b64Strict rejects non-zero padding bits, so that every signature has
	// exactly one accepted encoding.
	b64Strict = base64.StdEncoding.Strict()
)

// NewSecret returns a new symmetric signing secret: "whsec_" followed by the
// base64 of 32 bytes from crypto/rand.
func NewSecret() (string, error) {
	key := make([]byte, newSecretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("webhook: new secret: %w", err)
	}
	return SecretPrefix + b64.EncodeToString(key), nil
}

// NewKeyPair returns a new Ed25519 key pair for v1a signatures: the private
// key as "whsk_" + base64 of the 64-byte ed25519.PrivateKey, and the public
// key as "whpk_" + base64 of its 32 bytes.
func NewKeyPair() (privateKey, publicKey string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("webhook: new key pair: %w", err)
	}
	return PrivateKeyPrefix + b64.EncodeToString(priv), PublicKeyPrefix + b64.EncodeToString(pub), nil
}

// PublicKey returns the "whpk_" public key that belongs to a "whsk_" private
// key. The error wraps ErrInvalidKey if privateKey is malformed.
func PublicKey(privateKey string) (string, error) {
	priv, err := parsePrivateKey(privateKey)
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrInvalidKey, err)
	}
	return PublicKeyPrefix + b64.EncodeToString(priv.Public().(ed25519.PublicKey)), nil
}

// keyError describes what is wrong with a key without quoting it.
type keyError string

func (e keyError) Error() string { return string(e) }

func invalidKey(i, n int, err error) error {
	if n == 1 {
		return fmt.Errorf("%w: %s", ErrInvalidKey, err)
	}
	return fmt.Errorf("%w: key %d of %d: %s", ErrInvalidKey, i+1, n, err)
}

// decodeKey decodes the base64 part of a key. The error says where the
// base64 is broken but not what it contains.
func decodeKey(kind, s string) ([]byte, error) {
	if s == "" {
		return nil, keyError(kind + " is empty")
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, keyError(kind + " is not standard padded base64: " + err.Error())
	}
	return b, nil
}

// parseSigningSecret parses a "whsec_" secret for signing: 24–64 bytes.
func parseSigningSecret(s string) ([]byte, error) {
	key, err := decodeKey("whsec_ secret", strings.TrimPrefix(s, SecretPrefix))
	if err != nil {
		return nil, err
	}
	if len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, keyError(fmt.Sprintf("whsec_ secret decodes to %d bytes, want %d to %d", len(key), minSecretBytes, maxSecretBytes))
	}
	return key, nil
}

// parseVerifyingSecret parses a secret for verification, with or without the
// "whsec_" prefix. Like the official libraries it accepts any non-empty key.
func parseVerifyingSecret(s string) ([]byte, error) {
	key, err := decodeKey("secret", strings.TrimPrefix(s, SecretPrefix))
	if err != nil {
		return nil, err
	}
	if len(key) == 0 {
		return nil, keyError("secret decodes to 0 bytes")
	}
	return key, nil
}

// parsePrivateKey parses a "whsk_" key holding either a 64-byte
// ed25519.PrivateKey or its 32-byte seed.
func parsePrivateKey(s string) (ed25519.PrivateKey, error) {
	rest, ok := strings.CutPrefix(s, PrivateKeyPrefix)
	if !ok {
		return nil, keyError("private key must start with " + PrivateKeyPrefix)
	}
	b, err := decodeKey("whsk_ private key", rest)
	if err != nil {
		return nil, err
	}
	switch len(b) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	case ed25519.PrivateKeySize:
		// The second half of an ed25519.PrivateKey is its public key. A
		// key whose halves disagree would sign messages that its published
		// public key never verifies, so refuse it here.
		priv := ed25519.NewKeyFromSeed(b[:ed25519.SeedSize])
		if !bytes.Equal(priv[ed25519.SeedSize:], b[ed25519.SeedSize:]) {
			return nil, keyError("whsk_ private key: public half does not match the seed")
		}
		return priv, nil
	default:
		return nil, keyError(fmt.Sprintf("whsk_ private key decodes to %d bytes, want %d or %d", len(b), ed25519.SeedSize, ed25519.PrivateKeySize))
	}
}

// parsePublicKey parses a "whpk_" key: exactly 32 bytes.
func parsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := decodeKey("whpk_ public key", strings.TrimPrefix(s, PublicKeyPrefix))
	if err != nil {
		return nil, err
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, keyError(fmt.Sprintf("whpk_ public key decodes to %d bytes, want %d", len(b), ed25519.PublicKeySize))
	}
	return ed25519.PublicKey(b), nil
}
