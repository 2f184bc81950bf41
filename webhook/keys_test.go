package webhook_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/hookd/hookd/webhook"
)

func TestNewSecret(t *testing.T) {
	t.Parallel()

	seen := make(map[string]bool)
	for range 10 {
		secret, err := webhook.NewSecret()
		if err != nil {
			t.Fatalf("NewSecret() = %v, want nil", err)
		}
		rest, ok := strings.CutPrefix(secret, webhook.SecretPrefix)
		if !ok {
			t.Fatalf("NewSecret() = %q, want prefix %q", secret[:6], webhook.SecretPrefix)
		}
		key, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(key) != 32 {
			t.Fatalf("NewSecret() decodes to %d bytes, %v; want 32 bytes, nil", len(key), err)
		}
		if seen[secret] {
			t.Fatalf("NewSecret() returned the same secret twice")
		}
		seen[secret] = true
		if _, err := webhook.NewSigner(secret); err != nil {
			t.Fatalf("NewSigner(NewSecret()) = %v, want nil", err)
		}
	}
}

func TestNewKeyPair(t *testing.T) {
	t.Parallel()

	priv, pub, err := webhook.NewKeyPair()
	if err != nil {
		t.Fatalf("NewKeyPair() = %v, want nil", err)
	}
	if !strings.HasPrefix(priv, webhook.PrivateKeyPrefix) || !strings.HasPrefix(pub, webhook.PublicKeyPrefix) {
		t.Fatalf("NewKeyPair() prefixes = %q, %q; want %q, %q", priv[:5], pub[:5], webhook.PrivateKeyPrefix, webhook.PublicKeyPrefix)
	}
	privBytes, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(priv, webhook.PrivateKeyPrefix))
	if err != nil || len(privBytes) != ed25519.PrivateKeySize {
		t.Fatalf("NewKeyPair() private key decodes to %d bytes, %v; want %d, nil", len(privBytes), err, ed25519.PrivateKeySize)
	}
	if got, err := webhook.PublicKey(priv); err != nil || got != pub {
		t.Fatalf("PublicKey(NewKeyPair() private key) = %v; want the pair's public key", err)
	}

	s := mustSigner(t, priv)
	v := mustVerifier(t, pub)
	if err := v.Verify(signedHeader(s, testMsgID, testTS, testBody), testBody); err != nil {
		t.Fatalf("Verify(signed with a new key pair) = %v, want nil", err)
	}
}

func TestPublicKey(t *testing.T) {
	t.Parallel()

	seed := bytes.Repeat([]byte{0x11}, ed25519.SeedSize)
	tests := []struct {
		name    string
		priv    string
		want    string
		wantErr bool
	}{
		{name: "OK", priv: testPrivateKey, want: testPublicKey},
		{name: "OKSeed", priv: "whsk_" + base64.StdEncoding.EncodeToString(seed), want: testPublicKey},
		{name: "ErrNoPrefix", priv: strings.TrimPrefix(testPrivateKey, "whsk_"), wantErr: true},
		{name: "ErrPublicKey", priv: testPublicKey, wantErr: true},
		{name: "ErrSecret", priv: testSecretNew, wantErr: true},
		{name: "ErrBase64", priv: "whsk_!!!!", wantErr: true},
		{name: "ErrLength", priv: "whsk_" + base64.StdEncoding.EncodeToString(make([]byte, 48)), wantErr: true},
		{name: "ErrEmpty", priv: "whsk_", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := webhook.PublicKey(tt.priv)
			if tt.wantErr {
				if !errors.Is(err, webhook.ErrInvalidKey) {
					t.Fatalf("PublicKey() error = %v, want ErrInvalidKey", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("PublicKey() = %q, %v; want %q, nil", got, err, tt.want)
			}
		})
	}
}

// mismatchedPrivateKey is a 64-byte Ed25519 private key whose public half
// belongs to another seed.
func mismatchedPrivateKey() string {
	a := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	b := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	k := append(append([]byte{}, a[:32]...), b[32:]...)
	return "whsk_" + base64.StdEncoding.EncodeToString(k)
}

func TestNewSigner(t *testing.T) {
	t.Parallel()

	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name    string
		keys    []string
		wantErr string // substring of the error; empty means success
	}{
		{name: "OKSecret", keys: []string{testSecretNew}},
		{name: "OKPrivateKey", keys: []string{testPrivateKey}},
		{name: "OKSeed", keys: []string{"whsk_" + b64(bytes.Repeat([]byte{7}, 32))}},
		{name: "OKRotation", keys: []string{testSecretNew, testSecretOld}},
		{name: "OKMixed", keys: []string{testPrivateKey, testSecretNew}},
		{name: "OKSecret24", keys: []string{"whsec_" + b64(make([]byte, 24))}},
		{name: "OKSecret64", keys: []string{"whsec_" + b64(make([]byte, 64))}},
		{name: "ErrNoKeys", keys: nil, wantErr: "no keys"},
		{name: "ErrNoPrefix", keys: []string{strings.TrimPrefix(testSecretNew, "whsec_")}, wantErr: "unknown key prefix"},
		{name: "ErrPublicKey", keys: []string{testPublicKey}, wantErr: "cannot sign"},
		{name: "ErrEmptySecret", keys: []string{"whsec_"}, wantErr: "empty"},
		{name: "ErrBase64", keys: []string{"whsec_not*base64*at*all*here*at*all"}, wantErr: "base64"},
		{name: "ErrUnpadded", keys: []string{strings.TrimRight("whsec_"+b64(make([]byte, 32)), "=")}, wantErr: "base64"},
		{name: "ErrSecret23", keys: []string{"whsec_" + b64(make([]byte, 23))}, wantErr: "23 bytes, want 24 to 64"},
		{name: "ErrSecret65", keys: []string{"whsec_" + b64(make([]byte, 65))}, wantErr: "65 bytes, want 24 to 64"},
		{name: "ErrPrivateKeyLength", keys: []string{"whsk_" + b64(make([]byte, 33))}, wantErr: "33 bytes, want 32 or 64"},
		{name: "ErrPrivateKeyMismatch", keys: []string{mismatchedPrivateKey()}, wantErr: "does not match"},
		{name: "ErrSecondKey", keys: []string{testSecretNew, "whsec_" + b64(make([]byte, 8))}, wantErr: "key 2 of 2: whsec_ secret decodes to 8 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := webhook.NewSigner(tt.keys...)
			if tt.wantErr == "" {
				if err != nil || s == nil {
					t.Fatalf("NewSigner() = %v, %v; want a signer, nil", s, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewSigner() error = %v, want one containing %q", err, tt.wantErr)
			}
			if tt.keys != nil && !errors.Is(err, webhook.ErrInvalidKey) {
				t.Fatalf("NewSigner() error = %v, want errors.Is(err, ErrInvalidKey)", err)
			}
			assertNoKeyMaterial(t, err.Error(), tt.keys...)
		})
	}
}

func TestNewVerifier(t *testing.T) {
	t.Parallel()

	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name    string
		keys    []string
		wantErr string
	}{
		{name: "OKSecret", keys: []string{testSecretNew}},
		{name: "OKBareSecret", keys: []string{strings.TrimPrefix(testSecretNew, "whsec_")}},
		{name: "OKShortSecret", keys: []string{"whsec_" + b64([]byte{1})}},
		{name: "OKLongSecret", keys: []string{"whsec_" + b64(make([]byte, 200))}},
		{name: "OKPublicKey", keys: []string{testPublicKey}},
		{name: "OKMixed", keys: []string{testSecretNew, testPublicKey, testSecretOld}},
		{name: "ErrNoKeys", keys: nil, wantErr: "no keys"},
		{name: "ErrEmptySecret", keys: []string{"whsec_"}, wantErr: "empty"},
		{name: "ErrEmptyString", keys: []string{""}, wantErr: "empty"},
		{name: "ErrBase64", keys: []string{"whsec_%%%%"}, wantErr: "base64"},
		{name: "ErrBareNotBase64", keys: []string{"not a secret"}, wantErr: "base64"},
		{name: "ErrPrivateKey", keys: []string{testPrivateKey}, wantErr: "private key"},
		{name: "ErrPublicKeyLength", keys: []string{"whpk_" + b64(make([]byte, 31))}, wantErr: "31 bytes, want 32"},
		{name: "ErrPublicKeyBase64", keys: []string{"whpk_@@@@"}, wantErr: "base64"},
		{name: "ErrThirdKey", keys: []string{testSecretNew, testPublicKey, "whpk_"}, wantErr: "key 3 of 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := webhook.NewVerifier(tt.keys, nil)
			if tt.wantErr == "" {
				if err != nil || v == nil {
					t.Fatalf("NewVerifier() = %v, %v; want a verifier, nil", v, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewVerifier() error = %v, want one containing %q", err, tt.wantErr)
			}
			if tt.keys != nil && !errors.Is(err, webhook.ErrInvalidKey) {
				t.Fatalf("NewVerifier() error = %v, want errors.Is(err, ErrInvalidKey)", err)
			}
			assertNoKeyMaterial(t, err.Error(), tt.keys...)
		})
	}
}

// assertNoKeyMaterial fails if msg quotes any part of a key longer than its
// prefix.
func assertNoKeyMaterial(tb testing.TB, msg string, keys ...string) {
	tb.Helper()
	for _, k := range keys {
		for _, p := range []string{webhook.SecretPrefix, webhook.PublicKeyPrefix, webhook.PrivateKeyPrefix} {
			k = strings.TrimPrefix(k, p)
		}
		if len(k) >= 8 && strings.Contains(msg, k[:8]) {
			tb.Fatalf("error %q quotes key material", msg)
		}
	}
}
