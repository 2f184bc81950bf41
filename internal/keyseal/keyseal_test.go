package keyseal

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	b, err := New(k1)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	sealed, err := b.Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, secret) || strings.Contains(sealed, "MfKQ9r8G") || !strings.HasPrefix(sealed, "enc:v1:") {
		t.Fatalf("Seal = %q: plaintext visible or no prefix", sealed)
	}
	if again, _ := b.Seal(secret); again == sealed {
		t.Errorf("two seals of the same value are equal: nonce reuse")
	}
	if got, err := b.Open(sealed); err != nil || got != secret {
		t.Errorf("Open = %q, %v", got, err)
	}
	// Rotation: a box with a new first key still opens old values.
	rotated, _ := New(k2, k1)
	if got, err := rotated.Open(sealed); err != nil || got != secret {
		t.Errorf("rotated Open = %q, %v", got, err)
	}
	// Wrong key, no key.
	other, _ := New(k2)
	if _, err := other.Open(sealed); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Open with another key: err = %v, want ErrWrongKey", err)
	}
	if _, err := Open(sealed); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Open without a key: err = %v, want ErrWrongKey", err)
	}
	// Plaintext passes either way.
	if got, err := b.Open(secret); err != nil || got != secret {
		t.Errorf("Open(plain) = %q, %v", got, err)
	}
	// Tampering is detected.
	tampered := sealed[:len(sealed)-2] + "AA"
	if tampered == sealed {
		tampered = sealed[:len(sealed)-2] + "BB"
	}
	if _, err := b.Open(tampered); err == nil {
		t.Errorf("Open(tampered) succeeded")
	}
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	good := "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" // 32 bytes of 1
	for _, s := range []string{good, strings.TrimRight(good, "="), good + ", " + good} {
		if _, err := ParseKeys(s); err != nil {
			t.Errorf("ParseKeys(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "short", "AQEB", "not base64!!"} {
		if _, err := ParseKeys(s); err == nil {
			t.Errorf("ParseKeys(%q) succeeded", s)
		} else if strings.Contains(err.Error(), s) && s != "" {
			t.Errorf("ParseKeys error quotes the key: %v", err)
		}
	}
}

func TestReseal(t *testing.T) {
	t.Parallel()
	k1, k2, k3 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	old, _ := New(k1)
	underOld, _ := old.Seal(secret)
	b, _ := New(k2, k1) // k2 seals, k1 opens
	underNew, _ := b.Seal(secret)

	for _, tt := range []struct {
		name, stored string
		changed      bool
	}{
		{"plaintext", secret, true},
		{"sealed by an older key", underOld, true},
		{"sealed by the first key", underNew, false},
	} {
		got, changed, err := b.Reseal(tt.stored)
		if err != nil {
			t.Fatalf("%s: Reseal: %v", tt.name, err)
		}
		if changed != tt.changed {
			t.Errorf("%s: Reseal changed = %v, want %v", tt.name, changed, tt.changed)
		}
		if !strings.HasPrefix(got, "enc:v1:"+b.KeyID()+":") {
			t.Errorf("%s: Reseal = %q, want it sealed by key %s", tt.name, got, b.KeyID())
		}
		if !tt.changed && got != tt.stored {
			t.Errorf("%s: Reseal rewrote a value sealed by the first key", tt.name)
		}
		if plain, err := b.Open(got); err != nil || plain != secret {
			t.Errorf("%s: Open(Reseal) = %q, %v; want the secret", tt.name, plain, err)
		}
		// Only the first key is needed from now on.
		only, _ := New(k2)
		if plain, err := only.Open(got); err != nil || plain != secret {
			t.Errorf("%s: Open with the first key alone = %q, %v", tt.name, plain, err)
		}
	}
	stranger, _ := New(k3)
	underOther, _ := stranger.Seal(secret)
	if _, _, err := b.Reseal(underOther); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Reseal of a value sealed by a key not held: err = %v, want ErrWrongKey", err)
	}
}
