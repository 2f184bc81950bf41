package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/cli"
	"github.com/hookd/hookd/internal/version"
)

// run runs hookd with args and no environment.
func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Run(context.Background(), args, cli.Env{Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(""),
		Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errOut.String()
}

func TestVersionSpellingsAgree(t *testing.T) {
	t.Parallel()
	want := "hookd " + version.Version + "\n"
	for _, arg := range []string{"version", "--version", "-version", "-v"} {
		if code, out, _ := run(t, nil, arg); code != 0 || out != want {
			t.Errorf("hookd %s = %d, %q; want 0, %q", arg, code, out, want)
		}
	}
}

// TestFlagMistakes: a mistyped flag is reported in one line that names it,
// with a pointer to -h, not drowned in the whole flag list.
func TestFlagMistakes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"serve", "--bogus"}, nil, "hookd serve: unknown flag --bogus\nRun 'hookd serve -h' to list its flags.\n"},
		{[]string{"serve", "--retry-base", "2"}, nil, "hookd serve: --retry-base \"2\": a duration needs a unit: use e.g. 30s, 2m or 1h\nRun 'hookd serve -h' to list its flags.\n"},
		{[]string{"serve"}, map[string]string{"HOOKD_ATTEMPT_TIMEOUT": "5"}, "hookd serve: HOOKD_ATTEMPT_TIMEOUT=\"5\" (--attempt-timeout): a duration needs a unit"},
		{[]string{"migrate", "--dbb", "x"}, nil, "hookd migrate: unknown flag --dbb\n"},
		{[]string{"send", "--acount", "acc_1"}, nil, "hookd send: unknown flag --acount\n"},
		{[]string{"backup", "--data-dirr", "d", "copy.db"}, nil, "hookd backup: unknown flag --data-dirr\n"},
	} {
		code, out, errOut := run(t, tc.env, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("hookd %s: exit %d, stderr %q; want 2 and %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
		if strings.Count(errOut, "\n") > 3 || out != "" {
			t.Errorf("hookd %s printed more than the mistake:\nstdout %q\nstderr %q", strings.Join(tc.args, " "), out, errOut)
		}
	}
}

func TestHelpListsFlagsWithTheirEnvironmentTwins(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "-h"}, []string{"Usage: hookd serve [flags]", "  --attempt-timeout duration   HOOKD_ATTEMPT_TIMEOUT\n", "(default 5s)"}},
		{[]string{"migrate", "--help"}, []string{"  --db string   HOOKD_DB\n"}},
		{[]string{"send", "-h"}, []string{"  --event string   HOOKD_EVENT\n"}},
		{[]string{"listen", "-h"}, []string{"  --secret string   HOOKD_LISTEN_SECRET\n"}},
		{[]string{"backup", "-h"}, []string{"Usage: hookd backup [--data-dir DIR | --db sqlite:PATH] DEST", "  --data-dir string   HOOKD_DATA_DIR\n"}},
	} {
		code, out, _ := run(t, nil, tc.args...)
		if code != 0 {
			t.Errorf("hookd %s exited %d, want 0", strings.Join(tc.args, " "), code)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("hookd %s lacks %q:\n%s", strings.Join(tc.args, " "), w, out)
			}
		}
	}
}

func TestSendExplainsMistakes(t *testing.T) {
	t.Parallel()
	b := start(t)
	acc, _ := b.account()
	env := map[string]string{"HOOKD_URL": b.url, "HOOKD_ADMIN_TOKEN": adminToken}
	code, _, errOut := run(t, env, "send", "--account", acc.ID, "--event", "call.recieved")
	if code != 1 || !strings.Contains(errOut, `unknown event type "call.recieved"; the known ones are call.received, sms.received`) {
		t.Errorf("send with a misspelt event type: exit %d, %q; want the known types listed", code, errOut)
	}
	env["HOOKD_ADMIN_TOKEN"] = acc.Token
	code, _, errOut = run(t, env, "send", "--account", acc.ID, "--event", "call.received")
	if code != 1 || !strings.HasPrefix(errOut, "hookd send: forbidden: ") || strings.Contains(errOut, "hookd: ") {
		t.Errorf("send with an account token: exit %d, %q; want one \"hookd send: forbidden: …\" line", code, errOut)
	}
}
