package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/cli"
	"github.com/hookd/hookd/internal/config"
	"github.com/jackc/pgx/v5"
)

// On PostgreSQL, a node started with --secret-key seals every stored key,
// and hookd seal, run beside a node that already holds the next key,
// re-seals them under it and rewrites the endpoints table so that the old
// row versions are gone from its file (checked on the table's file when
// the server's data directory is readable here).
func TestSecretsAtRestPostgres(t *testing.T) {
	t.Parallel()
	db := postgresDB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	storedKeys := func() string {
		t.Helper()
		var all string
		if err := conn.QueryRow(ctx, `SELECT COALESCE(string_agg(keys::text, ' '), '') FROM endpoints`).Scan(&all); err != nil {
			t.Fatal(err)
		}
		return all
	}
	// tableFile returns the endpoints table's file as the server wrote it,
	// or nil when it cannot be read from here.
	tableFile := func() []byte {
		t.Helper()
		var dir, rel string
		if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
			t.Logf("CHECKPOINT: %v (table file not checked)", err)
			return nil
		}
		if err := conn.QueryRow(ctx, `SELECT current_setting('data_directory'), pg_relation_filepath('endpoints')`).Scan(&dir, &rel); err != nil {
			t.Logf("table file: %v (not checked)", err)
			return nil
		}
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Logf("table file: %v (not checked)", err)
			return nil
		}
		return b
	}
	rcv := newReceiver(t, always(reply{}))
	withKey := func(key string) nodeOpt {
		return func(c *config.Config) { c.DB, c.SecretKey = db, key }
	}

	b, stop := startStoppable(t, withKey(""))
	acc, c := b.account()
	ep := b.endpoint(c, rcv, client.CreateEndpointParams{})
	b.endpoint(c, nil, client.CreateEndpointParams{URL: rcv.URL() + "/ed", Signing: "ed25519", EventTypes: []string{"call.received"}})
	rot, err := c.RotateSecret(b.ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	rcv.setSecret(rot.Secret)
	stop()
	if s := storedKeys(); !strings.Contains(s, "whsec_") || !strings.Contains(s, "whsk_") {
		t.Fatalf("stored keys before sealing = %s, want plaintext to find", s)
	}

	k1, box1 := newSecretKey(t)
	b, stop = startStoppable(t, withKey(k1))
	if s := storedKeys(); strings.Contains(s, "whsec_") || strings.Contains(s, "whsk_") || !strings.Contains(s, "enc:v1:"+box1.KeyID()+":") {
		t.Errorf("stored keys with K1 = %s, want every key sealed by K1", s)
	}
	stop()

	// The rotation without downtime: nodes learn K2 first (K1 still
	// seals), then hookd seal makes K2 the sealing key beside them.
	k2, box2 := newSecretKey(t)
	b, stop = startStoppable(t, withKey(k1+","+k2))
	defer stop()
	var out, errOut bytes.Buffer
	env := cli.Env{Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(""), Getenv: func(string) string { return "" }}
	if code := cli.Run(ctx, []string{"seal", "--db", db, "--secret-key", k2 + "," + k1}, env); code != 0 {
		t.Fatalf("hookd seal exited %d: %s", code, errOut.String())
	}
	if s := storedKeys(); strings.Contains(s, box1.KeyID()) || !strings.Contains(s, "enc:v1:"+box2.KeyID()+":") {
		t.Errorf("stored keys after hookd seal = %s, want every key sealed by K2", s)
	}
	c = b.as(acc.Token)
	if s, err := c.GetSecret(b.ctx, ep.ID); err != nil || s.Secret != rot.Secret {
		t.Errorf("GetSecret on the running node after hookd seal = %+v, %v; want the same secret", s, err)
	}
	b.send(acc.ID, "sms.received")
	if got := rcv.next(); got.Verified != nil {
		t.Errorf("delivery after hookd seal does not verify: %v", got.Verified)
	}
	// The file holds no old value once a rewrite ran when no transaction
	// could still read one. With the other tests' databases busy on the
	// same server, PostgreSQL now and then keeps an old version through
	// one rewrite (about one run in ten), so hookd seal is run again, as
	// docs/security.md advises, before the file is judged.
	for run := 1; ; run++ {
		f := tableFile()
		if f == nil {
			return
		}
		var left []string
		for _, s := range []string{"whsec_", "whsk_", "enc:v1:" + box1.KeyID()} {
			if bytes.Contains(f, []byte(s)) {
				left = append(left, s)
			}
		}
		if len(left) == 0 {
			return
		}
		if run == 3 {
			t.Fatalf("the endpoints table's file still holds %q after hookd seal ran %d times", left, run)
		}
		t.Logf("the endpoints table's file still holds %q after hookd seal ran %d times; running it again", left, run)
		errOut.Reset()
		if code := cli.Run(ctx, []string{"seal", "--db", db, "--secret-key", k2 + "," + k1}, env); code != 0 {
			t.Fatalf("hookd seal exited %d: %s", code, errOut.String())
		}
	}
}
