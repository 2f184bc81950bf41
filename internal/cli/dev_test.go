package cli_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/cli"
)

// devSteps splits hookd dev's "Next" commands into steps: each starts
// with a "# N." line and holds the command lines up to a blank line.
func devSteps(banner string) [][]string {
	var steps [][]string
	in := false
	for _, line := range strings.Split(banner, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case regexp.MustCompile(`^# \d+\.`).MatchString(line):
			steps = append(steps, nil)
			in = true
		case line == "":
			in = false
		case in && !strings.HasPrefix(line, "#"):
			steps[len(steps)-1] = append(steps[len(steps)-1], line)
		}
	}
	return steps
}

// waitFor polls cond until it holds, or fails after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hookd dev, run as a newcomer would: it starts alone, and the commands it
// prints, pasted into a shell one step after another, do what it says.
func TestDevNewcomer(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: hookd dev's printed commands cannot be run", tool)
		}
	}
	bin := hookdBinary(t)
	data := t.TempDir()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"dev", "--addr", "127.0.0.1:0", "--receiver-addr", "127.0.0.1:0", "--data", data},
			cli.Env{Stdout: out, Stderr: errOut, Stdin: strings.NewReader(""), Getenv: func(string) string { return "" }})
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("hookd dev exited %d; stderr:\n%s", code, errOut.String())
			}
		case <-time.After(60 * time.Second):
			t.Errorf("hookd dev did not stop within 60 s of its context's end")
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("hookd dev's output:\n%s\nstderr:\n%s", out.String(), errOut.String())
		}
	})
	waitFor(t, "hookd dev's banner", func() bool {
		select {
		case code := <-done:
			t.Fatalf("hookd dev exited %d before it was ready: %s", code, errOut.String())
		default:
		}
		return strings.Contains(out.String(), "Webhooks received:")
	})
	banner := out.String()
	for _, want := range []string{"acc_", "hkt_", "ep_", "whsec_", "/ui/link/", "hka_"} {
		if !strings.Contains(banner, want) {
			t.Errorf("the banner shows no %s…", want)
		}
	}
	steps := devSteps(banner)
	if len(steps) != 5 {
		t.Fatalf("%d steps of commands, want 5:\n%s", len(steps), banner)
	}

	// The shell has the built hookd on its PATH, and nothing of hookd's
	// environment but what step 1 exports.
	env := []string{"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	exports := strings.Join(steps[0], "\n")
	run := func(lines ...string) string {
		t.Helper()
		cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", exports+"\n"+strings.Join(lines, "\n"))
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s\n%s", err, strings.Join(lines, "\n"), b)
		}
		return string(b)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(\w+)=(\S+)`).FindAllStringSubmatch(exports, -1) {
		vars[m[1]] = m[2]
	}
	acct, err := client.New(vars["HOOKD_URL"], vars["ACCOUNT_TOKEN"])
	if err != nil {
		t.Fatalf("step 1 exports no usable HOOKD_URL and ACCOUNT_TOKEN: %v\n%s", err, exports)
	}
	received := func(event, status string) int {
		n := 0
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.Contains(line, "  "+event+"  ") && strings.Contains(line, "→ "+status) {
				n++
			}
		}
		return n
	}

	// 2. An event sent with hookd send arrives, verified, at the receiver.
	if got := run(steps[1]...); !strings.Contains(got, "event evt_") || !strings.Contains(got, `"data":[`) {
		t.Errorf("step 2 printed:\n%s\nwant the accepted event and the deliveries list", got)
	}
	waitFor(t, "the call event at the receiver", func() bool { return received("call.received", "204") == 1 })

	// 3. The connection test succeeds.
	if got := run(steps[2]...); !strings.Contains(got, `"ok":true`) {
		t.Errorf("step 3 (test) printed %s; want ok", got)
	}

	// 4. Pointed at the failing path, three events disable the endpoint.
	// The step's last line waits a fixed time for a human; the test waits
	// for the disable itself, then runs the check without the sleep.
	last := steps[3][len(steps[3])-1]
	if !strings.HasPrefix(last, "sleep ") {
		t.Fatalf("step 4 ends with %q, want a sleep then a look at the endpoint", last)
	}
	run(steps[3][:len(steps[3])-1]...)
	waitFor(t, "the endpoint to be disabled", func() bool {
		ep, err := acct.GetEndpoint(context.Background(), vars["ENDPOINT_ID"])
		return err == nil && !ep.Enabled
	})
	if got := run(last[strings.Index(last, ";")+1:]); !strings.Contains(got, `"enabled":false`) || !strings.Contains(got, "consecutive_failures") {
		t.Errorf("step 4's check printed %s; want a disabled endpoint", got)
	}
	if received("sms.received", "503") == 0 {
		t.Errorf("the receiver printed no refused sms.received attempt")
	}

	// 5. Re-enabled and recovered: the three missed events arrive.
	if got := run(steps[4]...); !strings.Contains(got, `"queued":`) {
		t.Errorf("step 5 printed %s; want the recover answer", got)
	}
	waitFor(t, "the recovered events at the receiver", func() bool { return received("sms.received", "204") == 3 })
	stop()
}
