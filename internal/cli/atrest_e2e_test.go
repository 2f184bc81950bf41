package cli_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/cli"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/keyseal"
)

// startStoppable is start with a Stop the test calls itself (and that the
// cleanup calls if the test did not).
func startStoppable(t *testing.T, opts ...nodeOpt) (*bundle, func()) {
	t.Helper()
	var cfg config.Config
	fs := cfg.FlagSet("test", io.Discard)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.AdminToken = adminToken
	cfg.AllowPrivateTargets = true
	cfg.AttemptTimeout = 2 * time.Second
	cfg.RateLimit = 0
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	node, err := cli.StartNode(context.Background(), &cfg, cli.NodeOptions{Logger: logger, RootCAs: testRoots()})
	if err != nil {
		t.Fatalf("StartNode: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := node.Stop(ctx); err != nil {
				t.Errorf("Stop: %v", err)
			}
			if t.Failed() {
				t.Logf("hookd logs:\n%s", logs.String())
			}
		})
	}
	t.Cleanup(stop)
	url := "http://" + node.Addr()
	admin, err := checkedClient(t, url, adminToken)
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{t: t, ctx: context.Background(), node: node, cfg: &cfg, url: url, admin: admin, logs: logs}, stop
}

func newSecretKey(t *testing.T) (string, *keyseal.Box) {
	t.Helper()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	box, err := keyseal.New(raw)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(raw), box
}

// filesContaining returns the files in dir whose raw bytes contain s.
func filesContaining(t *testing.T, dir, s string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(s)) {
			out = append(out, e.Name())
		}
	}
	return out
}

// Turning --secret-key on, rotating it, and hookd seal leave no plaintext
// signing key (whsec_ secret, whsk_ private key) and no value sealed by a
// retired key anywhere in the database's files (database, WAL, shared
// memory), while hookd runs and after it stops; every endpoint still
// signs, with every key it had.
func TestSecretsAtRestLeaveNothingBehind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inDir := func(key string) nodeOpt {
		return func(c *config.Config) { c.DataDir, c.SecretKey = dir, key }
	}
	hmacRcv := newReceiver(t, always(reply{}))
	edRcv := newReceiver(t, always(reply{}))
	// nothingLeft fails if any file in dir holds one of the strings.
	nothingLeft := func(when string, ss ...string) {
		t.Helper()
		for _, s := range ss {
			if files := filesContaining(t, dir, s); len(files) > 0 {
				t.Errorf("%s: %q is in %v", when, s, files)
			}
		}
	}
	// signs checks that both endpoints still sign verifiably.
	signs := func(b *bundle, accountID, when string) {
		t.Helper()
		b.send(accountID, "sms.received")
		for name, r := range map[string]*receiver{"hmac": hmacRcv, "ed25519": edRcv} {
			if got := r.next(); got.Verified != nil {
				t.Errorf("%s: the %s endpoint's delivery does not verify: %v", when, name, got.Verified)
			}
		}
	}

	// 1. Without a key: secrets stored as they are, rotated once (the old
	// one stays for the overlap), one endpoint deleted.
	b, stop := startStoppable(t, inDir(""))
	acc, c := b.account()
	hmacEp := b.endpoint(c, hmacRcv, client.CreateEndpointParams{})
	edEp := b.endpoint(c, nil, client.CreateEndpointParams{URL: edRcv.URL(), Signing: "ed25519"})
	gone := b.endpoint(c, nil, client.CreateEndpointParams{URL: edRcv.URL() + "/gone", EventTypes: []string{"call.received"}})
	if err := c.DeleteEndpoint(b.ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	rot, err := c.RotateSecret(b.ctx, hmacEp.ID)
	if err != nil {
		t.Fatal(err)
	}
	hmacRcv.setSecret(rot.Secret)
	edRot, err := c.RotateSecret(b.ctx, edEp.ID)
	if err != nil {
		t.Fatal(err)
	}
	edRcv.setSecret(edRot.PublicKey)
	stop()
	// The check can fail: the plaintext is there to be found.
	for _, s := range []string{"whsec_", "whsk_", hmacEp.Secret, rot.Secret, gone.Secret} {
		if len(filesContaining(t, dir, s)) == 0 {
			t.Fatalf("%q is nowhere in %s before sealing: the check below proves nothing", s, dir)
		}
	}

	// 2. --secret-key K1: every key is sealed at start, nothing readable is
	// left, the secrets are the same.
	k1, box1 := newSecretKey(t)
	b, stop = startStoppable(t, inDir(k1))
	nothingLeft("running with K1", "whsec_", "whsk_")
	if s, err := c.GetSecret(b.ctx, hmacEp.ID); err == nil {
		t.Fatalf("the old node answered GetSecret: %+v", s)
	}
	c = b.as(acc.Token)
	if s, err := c.GetSecret(b.ctx, hmacEp.ID); err != nil || s.Secret != rot.Secret {
		t.Errorf("GetSecret after sealing = %+v, %v; want the same secret", s, err)
	}
	signs(b, acc.ID, "with K1")
	sealed1 := "enc:v1:" + box1.KeyID() + ":"
	if len(filesContaining(t, dir, sealed1)) == 0 {
		t.Fatalf("no value sealed by K1 (%s) in %s", sealed1, dir)
	}
	stop()
	nothingLeft("stopped after K1", "whsec_", "whsk_")

	// 3. --secret-key K2,K1: K2 seals everything anew, K1's values are gone.
	k2, box2 := newSecretKey(t)
	b, stop = startStoppable(t, inDir(k2+","+k1))
	nothingLeft("running with K2,K1", "whsec_", "whsk_", sealed1)
	c = b.as(acc.Token)
	signs(b, acc.ID, "with K2,K1")
	stop()
	nothingLeft("stopped after K2,K1", "whsec_", "whsk_", sealed1)

	// 4. hookd seal --secret-key K3,K2, then K3 alone is enough.
	k3, box3 := newSecretKey(t)
	var out, errOut bytes.Buffer
	env := cli.Env{Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(""), Getenv: func(string) string { return "" }}
	if code := cli.Run(context.Background(), []string{"seal", "--data-dir", dir, "--secret-key", k3 + "," + k2}, env); code != 0 {
		t.Fatalf("hookd seal exited %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "sealed 5 signing keys of 3 endpoints") {
		t.Errorf("hookd seal printed %q, want it to count 5 keys (2 + 2 + the deleted endpoint's 1) of 3 endpoints", out.String())
	}
	nothingLeft("after hookd seal", "whsec_", "whsk_", sealed1, "enc:v1:"+box2.KeyID()+":")
	if len(filesContaining(t, dir, "enc:v1:"+box3.KeyID()+":")) == 0 {
		t.Errorf("no value sealed by K3 after hookd seal")
	}
	b, stop = startStoppable(t, inDir(k3))
	c = b.as(acc.Token)
	if s, err := c.GetSecret(b.ctx, hmacEp.ID); err != nil || s.Secret != rot.Secret {
		t.Errorf("GetSecret with K3 alone = %+v, %v; want the same secret", s, err)
	}
	signs(b, acc.ID, "with K3 alone")

	// hookd seal refuses to run beside a running hookd on the same
	// SQLite database, and says why.
	errOut.Reset()
	if code := cli.Run(context.Background(), []string{"seal", "--data-dir", dir, "--secret-key", k3}, env); code != 1 ||
		!strings.Contains(errOut.String(), "in use by another hookd process") {
		t.Errorf("hookd seal beside a running hookd exited %d with %q, want 1 and the database in use", code, errOut.String())
	}
	stop()
}
