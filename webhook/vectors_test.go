package webhook_test

import (
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

// vector is one case of testdata/vectors.json; testdata/README.md describes
// the format.
type vector struct {
	Name       string  `json:"name"`
	Kind       string  `json:"kind"`
	Secret     string  `json:"secret"`
	PrivateKey string  `json:"private_key"`
	PublicKey  string  `json:"public_key"`
	MsgID      string  `json:"msg_id"`
	Timestamp  string  `json:"timestamp"`
	Body       string  `json:"body"`
	Signature  string  `json:"signature"`
	Now        int64   `json:"now"`
	Signed     bool    `json:"signed"`
	Error      *string `json:"error"`
}

func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	data, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		tb.Fatalf("read vectors: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var vs []vector
	if err := dec.Decode(&vs); err != nil {
		tb.Fatalf("decode vectors: %v", err)
	}
	return vs
}

// TestVectors checks the library against the published vectors: it must
// produce every signature marked signed and reach every verdict.
func TestVectors(t *testing.T) {
	t.Parallel()

	vs := loadVectors(t)
	counts := make(map[string]int)
	names := make(map[string]bool)
	for _, tc := range vs {
		if names[tc.Name] {
			t.Fatalf("vector name %q is not unique", tc.Name)
		}
		names[tc.Name] = true
		verdict := "valid"
		if tc.Error != nil {
			verdict = "invalid"
		}
		counts[tc.Kind+" "+verdict]++

		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()

			var signKey, verifyKey string
			switch tc.Kind {
			case "v1":
				signKey, verifyKey = tc.Secret, tc.Secret
			case "v1a":
				signKey, verifyKey = tc.PrivateKey, tc.PublicKey
				if tc.PrivateKey != "" {
					if got, err := webhook.PublicKey(tc.PrivateKey); err != nil || got != tc.PublicKey {
						t.Fatalf("PublicKey(private_key) = %q, %v; want public_key %q", got, err, tc.PublicKey)
					}
				}
			default:
				t.Fatalf("kind = %q, want v1 or v1a", tc.Kind)
			}

			if tc.Signed {
				ts, err := strconv.ParseInt(tc.Timestamp, 10, 64)
				if err != nil {
					t.Fatalf("signed vector with timestamp %q: %v", tc.Timestamp, err)
				}
				s := mustSigner(t, signKey)
				if got := s.Sign(tc.MsgID, ts, []byte(tc.Body)); got != tc.Signature {
					t.Fatalf("Sign(%q, %d, body) = %q, want %q", tc.MsgID, ts, got, tc.Signature)
				}
			}

			var want error
			if tc.Error != nil {
				var ok bool
				if want, ok = sentinels[*tc.Error]; !ok {
					t.Fatalf("error = %q, want the name of a sentinel error", *tc.Error)
				}
			}
			v, err := webhook.NewVerifier([]string{verifyKey}, &webhook.VerifierOptions{Now: func() time.Time { return time.Unix(tc.Now, 0) }})
			if err != nil {
				t.Fatalf("NewVerifier(key) = %v, want nil", err)
			}
			if got := v.VerifyValues(tc.MsgID, tc.Timestamp, tc.Signature, []byte(tc.Body)); !errors.Is(got, want) || (want == nil) != (got == nil) {
				t.Fatalf("VerifyValues(...) = %v, want %v", got, want)
			}
		})
	}

	// The file must keep covering both kinds, both ways.
	for _, k := range []string{"v1 valid", "v1 invalid", "v1a valid", "v1a invalid"} {
		if counts[k] < 3 {
			t.Errorf("vectors have %d %s cases, want at least 3", counts[k], k)
		}
	}
	for name := range sentinels {
		found := false
		for _, tc := range vs {
			found = found || (tc.Error != nil && *tc.Error == name)
		}
		if !found {
			t.Errorf("vectors have no case with error %s", name)
		}
	}
}
