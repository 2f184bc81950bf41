//go:build unix

package cli_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quickstartBlocks returns the README's shell blocks that a comment marks
// as run by TestREADMEQuickstart, in order.
func quickstartBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	rest := string(b)
	for {
		i := strings.Index(rest, "runs this block")
		if i < 0 {
			break
		}
		rest = rest[i:]
		start := strings.Index(rest, "```sh\n")
		end := strings.Index(rest[start+6:], "\n```")
		if start < 0 || end < 0 {
			t.Fatal("README: a marked quickstart block is not a ```sh block")
		}
		blocks = append(blocks, rest[start+6:start+6+end+1])
		rest = rest[start+6+end:]
	}
	return blocks
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// The README's quickstart is pasteable as a whole: its blocks, run one
// after the other in one bash with the built hookd on the PATH, deliver a
// verified call, disable the endpoint when the receiver is gone, and
// recover the missed calls after re-enabling it. Only the ports change
// (8080 and 9000 may be taken on the machine running the tests).
func TestREADMEQuickstart(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the README's quickstart needs it", tool)
		}
	}
	blocks := quickstartBlocks(t)
	if len(blocks) != 2 {
		t.Fatalf("README: %d quickstart blocks marked, want 2", len(blocks))
	}
	script := strings.Join(blocks, "\n")
	for _, want := range []string{"jq -r .id", "SINCE=", "$ENDPOINT_ID", "recover"} {
		if !strings.Contains(script, want) {
			t.Errorf("README quickstart: no %q", want)
		}
	}
	api, rcv := freePort(t), freePort(t)
	script = strings.NewReplacer("localhost:8080", "localhost:"+api, "localhost:9000", "localhost:"+rcv).Replace(script)

	bin := hookdBinary(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + dir}
	// Its own process group: the servers it starts in the background are
	// stopped with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A file, not a pipe: the servers in the background keep writing
	// after bash exits, and Wait must not wait for them.
	outFile, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	cmd.Stdout, cmd.Stderr = outFile, outFile
	output := func() string { b, _ := os.ReadFile(outFile.Name()); return string(b) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) })
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the quickstart failed: %v\n%s", err, output())
	}
	// The script ends when recover answers; the calls arrive after.
	waitFor(t, "the first call and the three recovered ones at the receiver", func() bool {
		return strings.Count(output(), "→ 204") >= 4
	})
	got := output()
	for _, want := range []string{
		`"status":"succeeded"`, // the deliveries list
		`{"ok":true,`,          // the connection test
		`{"enabled":false,"disabled_reason":"consecutive_failures"}`,
		`{"enabled":true}`,
		`{"queued":3}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the quickstart's output has no %s", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
}
