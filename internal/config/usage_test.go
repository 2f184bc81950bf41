package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

func TestParseFlagsErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--bogus"}, nil, "unknown flag --bogus"},
		{[]string{"-bogus=1"}, nil, "unknown flag --bogus"},
		{[]string{"--retry-base", "2"}, nil, `--retry-base "2": a duration needs a unit: use e.g. 30s, 2m or 1h`},
		{[]string{"--retry-base", "soon"}, nil, `--retry-base "soon": not a duration: use e.g. 30s, 2m or 1h`},
		{[]string{"--max-retries", "three"}, nil, `--max-retries "three": not a valid value`},
		{[]string{"--allow-http=maybe"}, nil, `--allow-http "maybe": not a valid value`},
		{[]string{"--addr"}, nil, "--addr needs a value"},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
		{nil, map[string]string{"HOOKD_LEASE": "60"}, `HOOKD_LEASE="60" (--lease): a duration needs a unit`},
	} {
		c := &Config{}
		var out bytes.Buffer
		fs := c.FlagSet("hookd serve", &out)
		err := ParseFlags(fs, tc.args, func(k string) string { return tc.env[k] })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFlags(%q, %v) = %v, want an error containing %q", tc.args, tc.env, err, tc.want)
		}
		if out.Len() != 0 {
			t.Errorf("ParseFlags(%q) printed %q; the caller reports errors", tc.args, out.String())
		}
	}
}

func TestParseFlagsDurationStillParses(t *testing.T) {
	t.Parallel()
	c := &Config{}
	fs := c.FlagSet("hookd serve", io.Discard)
	if err := ParseFlags(fs, []string{"--retry-base", "2s"}, func(k string) string {
		return map[string]string{"HOOKD_LEASE": "1m"}[k]
	}); err != nil {
		t.Fatal(err)
	}
	if c.RetryBase.String() != "2s" || c.Lease.String() != "1m0s" {
		t.Errorf("RetryBase = %v, Lease = %v; want 2s and 1m0s", c.RetryBase, c.Lease)
	}
}

func TestPrintUsage(t *testing.T) {
	t.Parallel()
	c := &Config{}
	fs := c.FlagSet("hookd serve", io.Discard)
	if err := ParseFlags(fs, []string{"-h"}, func(string) string { return "" }); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("ParseFlags(-h) = %v, want flag.ErrHelp", err)
	}
	var out bytes.Buffer
	PrintUsage(&out, "hookd serve [flags]", fs, EnvName)
	for _, want := range []string{
		"Usage: hookd serve [flags]\n",
		"  --retry-base duration   HOOKD_RETRY_BASE\n      wait before the first retry (default 30s)\n",
		"  --addr string   HOOKD_ADDR\n      address the API listens on (default \":8080\")\n",
		"  --allow-http   HOOKD_ALLOW_HTTP\n      accept http:// endpoint URLs (development)\n",
		"  --max-retries int   HOOKD_MAX_RETRIES\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "\n  -a") {
		t.Errorf("usage names a flag with one dash:\n%s", out.String())
	}
}
