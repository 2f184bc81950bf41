package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/cli"
)

// hookd send --file sends a file of events in batches: each line is
// answered on its own, the accepted events are delivered, keyed lines
// replay when the file is sent again, and a file with a broken line sends
// nothing.
func TestSendFile(t *testing.T) {
	t.Parallel()
	b := start(t)
	acc, c := b.account()
	rcv := newReceiver(t, always(reply{Status: 200}))
	b.endpoint(c, rcv, client.CreateEndpointParams{})
	line := func(event, key string, data json.RawMessage) string {
		l, err := json.Marshal(map[string]any{"account_id": acc.ID, "event": event, "data": data, "idempotency_key": key})
		if err != nil {
			t.Fatal(err)
		}
		return string(l)
	}
	file := filepath.Join(t.TempDir(), "events.ndjson")
	lines := []string{
		line("sms.received", "m1", example("sms.received")), // 1
		line("sms.received", "", json.RawMessage(`{}`)),     // 2: refused
		"", // 3: blank
		line("call.received", "", example("call.received")),   // 4
		line("call.received", "m1", example("call.received")), // 5: key of line 1, other content
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOOKD_URL": b.url, "HOOKD_ADMIN_TOKEN": adminToken}
	code, out, errOut := run(t, env, "send", "--file", file, "--batch-size", "2")
	if code != 1 || !strings.Contains(errOut, "2 of 4 events refused") {
		t.Errorf("send --file: exit %d, stderr %q; want 1 and the refused count", code, errOut)
	}
	for _, want := range []string{
		`(?m)^line 1: event evt_\w+ accepted, 1 deliveries$`,
		`(?m)^line 2: refused: invalid_event \(data\.\S+\): `,
		`(?m)^line 4: event evt_\w+ accepted, 1 deliveries$`,
		`(?m)^line 5: refused: idempotency_conflict \(idempotency_key\): `,
		`(?m)^4 events: 2 accepted, 0 already accepted, 2 refused$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("send --file output lacks %s:\n%s", want, out)
		}
	}
	// Both accepted events reach the endpoint, signed.
	for range 2 {
		if r := rcv.next(); r.Verified != nil {
			t.Errorf("delivery %s: signature: %v", r.Header.Get("webhook-id"), r.Verified)
		}
	}
	first := regexp.MustCompile(`line 1: event (evt_\w+)`).FindStringSubmatch(out)[1]

	// Again, from standard input: line 1 replays its key.
	code, out2 := runStdin(t, env, strings.Join(lines[:1], "\n"), "send", "--file", "-")
	if code != 0 || !strings.Contains(out2, fmt.Sprintf("line 1: event %s already accepted (same idempotency key), 1 deliveries", first)) {
		t.Errorf("send --file - again: exit %d:\n%s", code, out2)
	}

	// A broken line: nothing is sent.
	if err := os.WriteFile(file, []byte(lines[0]+"\n{\"account_id\":\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, env, "send", "--file", file)
	if code != 1 || !strings.Contains(errOut, "line 2: not an event object") || out != "" {
		t.Errorf("send --file with a broken line: exit %d, %q, %q", code, out, errOut)
	}
	if code, _, errOut := run(t, env, "send", "--file", file, "--event", "sms.received"); code == 0 || !strings.Contains(errOut, "leave out --account") {
		t.Errorf("send --file with --event: exit %d, %q", code, errOut)
	}
	ds, err := c.ListDeliveries(b.ctx, client.DeliveryListParams{})
	if err != nil || len(ds.Data) != 2 {
		t.Errorf("the account has %v deliveries (%v), want 2", ds, err)
	}
}

// runStdin runs hookd with stdin as standard input and returns the exit
// code and standard output.
func runStdin(t *testing.T, env map[string]string, stdin string, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), args, cli.Env{Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(stdin),
		Getenv: func(k string) string { return env[k] }})
	if errOut.Len() > 0 {
		t.Logf("stderr: %s", errOut.String())
	}
	return code, out.String()
}
