package config

import (
	"flag"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := Parse("serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DataDir != "./hookd-data" || c.AttemptTimeout != 5*time.Second || c.MaxRetries != 3 ||
		c.RetryBase != 30*time.Second || c.RetryFactor != 8 || c.DisableAfter != 3 || c.EndpointConcurrency != 10 ||
		c.Lease != 30*time.Second || c.Retention != 720*time.Hour || c.MaxEventBytes != 1<<20 || c.AllowHTTP || c.AllowPrivateTargets {
		t.Errorf("defaults = %+v", c)
	}
	if kind, where := c.Backend(); kind != BackendSQLite || where != "hookd-data/hookd.db" {
		t.Errorf("Backend() = %s %s", kind, where)
	}
}

func TestEnvironmentTwins(t *testing.T) {
	t.Parallel()
	c, err := Parse("serve", []string{"--max-retries", "5"}, env(map[string]string{
		"HOOKD_RETRY_BASE":  "2s",
		"HOOKD_MAX_RETRIES": "1", // the flag wins
		"HOOKD_ALLOW_HTTP":  "true",
		"HOOKD_DB":          "sqlite:/tmp/x.db",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.RetryBase != 2*time.Second || c.MaxRetries != 5 || !c.AllowHTTP {
		t.Errorf("RetryBase=%v MaxRetries=%d AllowHTTP=%v", c.RetryBase, c.MaxRetries, c.AllowHTTP)
	}
	if kind, where := c.Backend(); kind != BackendSQLite || where != "/tmp/x.db" {
		t.Errorf("Backend() = %s %s", kind, where)
	}
	if _, err := Parse("serve", nil, env(map[string]string{"HOOKD_RETRY_BASE": "soon"}), io.Discard); err == nil ||
		!strings.Contains(err.Error(), "HOOKD_RETRY_BASE") {
		t.Errorf("bad environment value: err = %v, want one naming HOOKD_RETRY_BASE", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // part of the error; "" for valid
	}{
		{[]string{"--db", "mysql://x"}, "--db"},
		{[]string{"--db", "postgres://localhost/hookd"}, "--admin-token is required"},
		{[]string{"--db", "postgresql://localhost/hookd", "--admin-token", "0123456789abcdef"}, ""},
		{[]string{"--lease", "9s"}, "--lease"},
		{[]string{"--attempt-timeout", "1s", "--lease", "2s"}, ""},
		{[]string{"--max-retries", "-1"}, "--max-retries"},
		{[]string{"--retry-factor", "0.5"}, "--retry-factor"},
		{[]string{"--endpoint-concurrency", "0"}, "--endpoint-concurrency"},
		{[]string{"--account-concurrency", "-1"}, "--account-concurrency must be 0"},
		{[]string{"--account-concurrency", "257"}, "must not exceed --concurrency 256"},
		{[]string{"--account-concurrency", "9"}, "must be at least --endpoint-concurrency 10"},
		{[]string{"--account-concurrency", "256"}, ""},
		{[]string{"--account-concurrency", "10"}, ""},
		{[]string{"--concurrency", "4", "--account-concurrency", "4"}, ""},
		{[]string{"--concurrency", "4"}, ""},
		{[]string{"--tls-cert", "c.pem"}, "--tls-key"},
		{[]string{"--allow-target-cidrs", "10.0.0.0/8,nope"}, "nope"},
		{[]string{"--operator-webhook", "https://ops.example.com/"}, "--operator-webhook-secret"},
		{[]string{"--operator-webhook", "https://ops.example.com/", "--operator-webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, ""},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--admin-token", "short"}, "--admin-token"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"--ui-frame-ancestors", "'self' https://app.example.com"}, ""},
		{[]string{"--ui-frame-ancestors", "'none'; script-src *"}, "--ui-frame-ancestors"},
		{[]string{"--ui-frame-ancestors", " "}, "--ui-frame-ancestors"},
		{[]string{"--shutdown-timeout", "-1s"}, "--shutdown-timeout"},
		{[]string{"--shutdown-timeout", "1s"}, ""},
		{[]string{"--disable-after", "-1"}, "--disable-after"},
		{[]string{"--disable-after", "0"}, ""},
	}
	for _, tt := range tests {
		_, err := Parse("serve", tt.args, env(nil), io.Discard)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Parse(%q) = %v, want no error", tt.args, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Parse(%q) = %v, want an error about %s", tt.args, err, tt.want)
		}
	}
}

// --account-concurrency 0 (the default) is derived from the other limits,
// and always passes the checks an explicit value must pass.
func TestAccountConcurrencyDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want int
	}{
		{nil, 64},
		{[]string{"--concurrency", "1000"}, 250},
		{[]string{"--concurrency", "32"}, 10},
		{[]string{"--concurrency", "4"}, 4},
		{[]string{"--endpoint-concurrency", "100"}, 100},
		{[]string{"--account-concurrency", "20"}, 20},
	}
	for _, tt := range tests {
		c, err := Parse("serve", tt.args, env(nil), io.Discard)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.args, err)
			continue
		}
		if c.AccountConcurrency != tt.want {
			t.Errorf("Parse(%q): AccountConcurrency = %d, want %d", tt.args, c.AccountConcurrency, tt.want)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("Parse(%q): the derived value does not validate again: %v", tt.args, err)
		}
	}
	c, err := Parse("serve", nil, env(map[string]string{"HOOKD_ACCOUNT_CONCURRENCY": "32"}), io.Discard)
	if err != nil || c.AccountConcurrency != 32 {
		t.Errorf("HOOKD_ACCOUNT_CONCURRENCY=32: AccountConcurrency = %v, err %v; want 32", c, err)
	}
}

// The README documents every flag with its environment twin.
func TestREADMEListsEveryFlag(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	c.FlagSet("serve", io.Discard).VisitAll(func(f *flag.Flag) {
		row := "| `--" + f.Name + "` | `" + EnvName(f.Name) + "` |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md has no row %q", row)
		}
	})
}

// --shutdown-timeout 0 (the default) is 10 s more than the attempt
// timeout; a value given is kept.
func TestShutdownTimeoutDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want time.Duration
	}{
		{nil, 15 * time.Second},
		{[]string{"--attempt-timeout", "30s", "--lease", "1m"}, 40 * time.Second},
		{[]string{"--shutdown-timeout", "3s"}, 3 * time.Second},
	}
	for _, tt := range tests {
		c, err := Parse("serve", tt.args, env(nil), io.Discard)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.args, err)
		}
		if c.ShutdownTimeout != tt.want {
			t.Errorf("Parse(%q): ShutdownTimeout = %v, want %v", tt.args, c.ShutdownTimeout, tt.want)
		}
		// Validating again (StartNode does) changes nothing.
		if err := c.Validate(); err != nil || c.ShutdownTimeout != tt.want {
			t.Errorf("Parse(%q), Validate again: %v, ShutdownTimeout %v", tt.args, err, c.ShutdownTimeout)
		}
	}
}
