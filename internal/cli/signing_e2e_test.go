package cli_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/cli"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/webhook"
)

// An ed25519 endpoint gets v1a signatures only, verifiable with its public
// key; hookd never hands out the private key.
func TestEd25519Endpoint(t *testing.T) {
	t.Parallel()
	b := start(t)
	rcv := newReceiver(t, always(reply{}))
	acc, c := b.account()
	ep := b.endpoint(c, rcv, client.CreateEndpointParams{Signing: "ed25519"})
	if ep.Secret != "" || ep.PublicKey == nil || !strings.HasPrefix(*ep.PublicKey, "whpk_") || ep.Signing != "ed25519" {
		t.Fatalf("ed25519 endpoint: secret %q public_key %v signing %s", ep.Secret, ep.PublicKey, ep.Signing)
	}
	rcv.setSecret(*ep.PublicKey)
	s, err := c.GetSecret(b.ctx, ep.ID)
	if err != nil || s.Secret != "" || s.PublicKey != *ep.PublicKey {
		t.Errorf("GetSecret = %+v, %v; want only the public key", s, err)
	}
	b.send(acc.ID, "sms.received")
	got := rcv.next()
	sig := got.Header.Get(webhook.HeaderSignature)
	if got.Verified != nil || !strings.HasPrefix(sig, "v1a,") || strings.Contains(sig, "v1,") {
		t.Errorf("signature %q verified %v; want a v1a signature that verifies", sig, got.Verified)
	}
}

// After a rotation each request carries both signatures, newest first,
// for the overlap window; a receiver with either secret verifies.
func TestSecretRotation(t *testing.T) {
	t.Parallel()
	for _, signing := range []string{"hmac-sha256", "ed25519"} {
		t.Run(signing, func(t *testing.T) {
			t.Parallel()
			b := start(t).with(t)
			rcv := newReceiver(t, always(reply{}))
			acc, c := b.account()
			ep := b.endpoint(c, rcv, client.CreateEndpointParams{Signing: signing})
			oldKey := ep.Secret
			if signing == "ed25519" {
				oldKey = *ep.PublicKey
			}
			rot, err := c.RotateSecret(b.ctx, ep.ID)
			if err != nil {
				t.Fatal(err)
			}
			newKey := rot.Secret
			if signing == "ed25519" {
				newKey = rot.PublicKey
			}
			if newKey == "" || newKey == oldKey {
				t.Fatalf("rotate answered %+v", rot)
			}
			cur, _ := c.GetSecret(b.ctx, ep.ID)
			if cur.Secret+cur.PublicKey != newKey {
				t.Errorf("GetSecret after rotate = %+v, want the new key", cur)
			}
			if e, _ := c.GetEndpoint(b.ctx, ep.ID); signing == "ed25519" && *e.PublicKey != newKey {
				t.Errorf("endpoint public_key = %s, want the new one", *e.PublicKey)
			}
			b.send(acc.ID, "call.received")
			got := rcv.next()
			sigs := strings.Fields(got.Header.Get(webhook.HeaderSignature))
			if len(sigs) != 2 {
				t.Fatalf("signatures = %v, want two during the overlap", sigs)
			}
			for i, key := range []string{newKey, oldKey} {
				v, _ := webhook.NewVerifier([]string{key}, nil)
				if err := v.VerifyValues(got.Header.Get(webhook.HeaderID), got.Header.Get(webhook.HeaderTimestamp), sigs[i], got.Body); err != nil {
					t.Errorf("signature %d does not verify with the %s key: %v", i, []string{"new", "old"}[i], err)
				}
			}
		})
	}
}

// SIGTERM drains: an attempt under way finishes and is recorded before
// hookd exits; nothing is left leased.
func TestGracefulShutdownFinishesAttempts(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	rcv := newReceiver(t, always(reply{Wait: release}))
	dataDir := t.TempDir()
	b := start(t, func(c *config.Config) { c.DataDir = dataDir })
	acc, c := b.account()
	b.endpoint(c, rcv, client.CreateEndpointParams{})
	res := b.send(acc.ID, "call.received")
	rcv.next() // the attempt is under way

	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		stopped <- b.node.Stop(ctx)
	}()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while an attempt was under way", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v", err)
	}
	// Restart on the same data: the delivery was recorded as succeeded.
	n2, err := cli.StartNode(context.Background(), b.cfg, cli.NodeOptions{RootCAs: testRoots()})
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Stop(context.Background())
	c2, _ := checkedClient(t, "http://"+n2.Addr(), adminToken)
	d, err := c2.GetDelivery(context.Background(), res.Deliveries[0].ID)
	if err != nil || d.Status != "succeeded" || d.Attempts != 1 {
		t.Errorf("after a graceful stop: %+v, %v; want succeeded after 1 attempt", d, err)
	}
	if rcv.count() != 1 {
		t.Errorf("receiver got %d requests, want 1 (nothing redelivered)", rcv.count())
	}
}

// A second hookd on the same SQLite database refuses to start, and says
// why.
func TestOneNodePerDataDir(t *testing.T) {
	t.Parallel()
	b := start(t)
	cfg := *b.cfg
	cfg.Addr = "127.0.0.1:0"
	n, err := cli.StartNode(context.Background(), &cfg, cli.NodeOptions{})
	if err == nil {
		n.Stop(context.Background())
		t.Fatal("a second node on the same data dir started")
	}
	if !strings.Contains(err.Error(), "in use by another hookd process") {
		t.Errorf("error = %v, want it to say the database is in use", err)
	}
}
