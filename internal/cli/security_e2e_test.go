package cli_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/webhook"
)

// No token, secret or signature ever appears in logs, metrics, error
// messages or list responses, through a scenario that exercises them all.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	op := newReceiver(t, always(reply{}))
	b := start(t, withOperator(op), func(c *config.Config) { c.MaxRetries = 0; c.DisableAfter = 1; c.LogLevel = "debug" })
	ok := newReceiver(t, always(reply{}))
	bad := newReceiver(t, always(reply{Status: 500, Body: "nope"}))
	acc, c := b.account()
	hmac := b.endpoint(c, ok, client.CreateEndpointParams{EventTypes: []string{"call.received"}})
	ed := b.endpoint(c, nil, client.CreateEndpointParams{URL: ok.URL(), EventTypes: []string{"call.received"}, Signing: "ed25519"})
	failing := b.endpoint(c, bad, client.CreateEndpointParams{EventTypes: []string{"sms.received"}})
	rotated, err := c.RotateSecret(b.ctx, hmac.ID)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{adminToken, acc.Token, hmac.Secret, rotated.Secret, failing.Secret, operatorSecret}
	newTok, _ := b.admin.RotateAccountToken(b.ctx, acc.ID)
	secrets = append(secrets, newTok)
	c = b.as(newTok)

	res := b.send(acc.ID, "call.received")
	for _, d := range res.Deliveries {
		b.waitStatus(c, d.ID, "succeeded")
	}
	sms := b.send(acc.ID, "sms.received")
	b.waitStatus(c, sms.Deliveries[0].ID, "failed")
	op.next() // endpoint.disabled
	c.TestEndpoint(b.ctx, ed.ID)
	c.TestEndpoint(b.ctx, failing.ID)
	b.rawCall("GET", "/v1/endpoints", "wrong-"+newTok, "", nil)

	// Signatures as sent, and the key material inside the secrets.
	for _, r := range drain(ok) {
		for _, sig := range strings.Fields(r.Header.Get(webhook.HeaderSignature)) {
			secrets = append(secrets, sig[strings.Index(sig, ",")+1:])
		}
	}
	if len(secrets) < 10 {
		t.Fatalf("collected %d secrets and signatures, want at least 10", len(secrets))
	}
	for _, s := range secrets[:] {
		if raw, ok := strings.CutPrefix(s, "whsec_"); ok {
			secrets = append(secrets, raw)
		}
	}

	var seen strings.Builder
	seen.WriteString(b.logs.String())
	for _, path := range []string{"/v1/endpoints", "/v1/endpoints/" + hmac.ID, "/v1/deliveries", "/v1/deliveries/" + res.Deliveries[0].ID + "/attempts",
		"/v1/deliveries?endpoint_id=" + ed.ID, "/v1/events/" + res.ID} {
		seen.WriteString(get(t, b.url+path, newTok))
	}
	seen.WriteString(get(t, b.url+"/metrics", ""))
	all := seen.String()
	for _, s := range secrets {
		if len(s) >= 16 && strings.Contains(all, s) {
			t.Errorf("a secret (%.8s…) appears in logs, metrics or list responses", s)
		}
	}
	if !strings.Contains(all, "endpoint disabled") {
		t.Errorf("the scenario did not run as expected: no disable in the logs")
	}
}

func get(t *testing.T, url, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := checkedHTTPClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// With --secret-key, signing secrets are encrypted in the database; a
// hookd started without the key says what is wrong instead of signing.
func TestSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	dataDir := t.TempDir()
	b := start(t, func(c *config.Config) { c.SecretKey = key; c.DataDir = dataDir })
	rcv := newReceiver(t, always(reply{}))
	acc, c := b.account()
	ep := b.endpoint(c, rcv, client.CreateEndpointParams{})
	res := b.send(acc.ID, "call.received")
	if got := rcv.next(); got.Verified != nil {
		t.Fatalf("delivery signed with a sealed key does not verify: %v", got.Verified)
	}
	b.waitStatus(c, res.Deliveries[0].ID, "succeeded")
	if s, err := c.GetSecret(b.ctx, ep.ID); err != nil || s.Secret != ep.Secret {
		t.Errorf("GetSecret = %v, %v; want the secret", s, err)
	}
	raw := strings.TrimPrefix(ep.Secret, "whsec_")
	for _, name := range []string{"hookd.db", "hookd.db-wal"} {
		db, err := os.ReadFile(filepath.Join(dataDir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(db, []byte(raw)) {
			t.Errorf("%s holds the endpoint secret in plaintext", name)
		}
	}
}

// An account token over its rate gets 429 with Retry-After; the admin
// token (the producer) is not limited by default.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	b := start(t, func(c *config.Config) { c.RateLimit = 1; c.RateBurst = 3 })
	acc, _ := b.account()
	codes := []int{}
	for range 5 {
		status, _ := b.rawCall("GET", "/v1/endpoints", acc.Token, "", nil)
		codes = append(codes, status)
	}
	if codes[0] != 200 || codes[2] != 200 || codes[4] != 429 {
		t.Errorf("statuses = %v, want 200 ×3 then 429", codes)
	}
	req, _ := http.NewRequest("GET", b.url+"/v1/endpoints", nil)
	req.Header.Set("Authorization", "Bearer "+acc.Token)
	resp, err := b.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("limited answer: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for range 20 {
		if status, _ := b.rawCall("GET", "/v1/endpoints?account_id="+acc.ID, adminToken, "", nil); status != 200 {
			t.Fatalf("admin token limited: %d", status)
		}
	}
}
