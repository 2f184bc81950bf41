package cli_test

import (
	"bufio"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/webhook"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// hookdBinary builds cmd/hookd once per test run.
func hookdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hookd-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "hookd")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), append(args, "github.com/hookd/hookd/cmd/hookd")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is a hookd serve subprocess.
type process struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
	done chan struct{}
}

var listenLine = regexp.MustCompile(`listening on (http://\S+)`)

// startProcess runs hookd serve with args and waits until it listens.
func startProcess(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(hookdBinary(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("hookd process logs:\n%s", p.logs.String())
		}
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case p.url = <-urls:
	case <-p.done:
		t.Fatalf("hookd exited before listening:\n%s", p.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("hookd did not start listening:\n%s", p.logs.String())
	}
	return p
}

// writeTestCA writes httptest's certificate as a PEM file for SSL_CERT_FILE.
func writeTestCA(t *testing.T, rcv *receiver) string {
	path := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rcv.srv.Certificate().Raw})
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// overloadTolerant are the delivery flags of the tests that run hookd
// processes to prove nothing accepted is lost. A short lease lets a
// restarted or surviving node take the work of a dead one quickly; the
// rest keeps a test machine that is overloaded (the receiver, hookd and
// the submitters share two cores under -race) from turning slow answers
// into failed deliveries and disabled endpoints, which would be correct
// behaviour but not what these tests are about.
var overloadTolerant = []string{"--attempt-timeout", "2s", "--lease", "4s",
	"--retry-base", "100ms", "--max-retries", "8", "--disable-after", "0", "--rate-limit", "0"}

// kill -9 in the middle of a burst loses no accepted event: after a
// restart on the same data dir, every event that got a 202 is delivered.
func TestKill9LosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs hookd processes")
	}
	t.Parallel()
	rcv := newReceiver(t, func(int) reply { time.Sleep(2 * time.Millisecond); return reply{} })
	env := []string{"SSL_CERT_FILE=" + writeTestCA(t, rcv)}
	dataDir := t.TempDir()
	args := slices.Concat(overloadTolerant, []string{"--data-dir", dataDir, "--admin-token", adminToken, "--allow-private-targets"})
	p := startProcess(t, env, args...)

	ctx := context.Background()
	admin, _ := checkedClient(t, p.url, adminToken)
	acc, err := admin.CreateAccount(ctx, "Crash Test")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i := range 3 {
		path := fmt.Sprintf("/endpoint/%d", i)
		if _, err := admin.CreateEndpoint(ctx, client.CreateEndpointParams{AccountID: acc.ID, URL: rcv.srv.URL + path, EventTypes: []string{"*"}}); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	var (
		mu       sync.Mutex
		accepted = map[string]bool{}
		count    atomic.Int64
		wg       sync.WaitGroup
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				res, err := admin.SubmitEvent(ctx, client.SubmitEventParams{AccountID: acc.ID, Event: "sms.received", Data: example("sms.received")})
				if err != nil {
					return // the process is gone
				}
				mu.Lock()
				accepted[res.ID] = true
				mu.Unlock()
				count.Add(1)
			}
		}()
	}
	// Kill once a good part of the burst is in and deliveries are under way.
	for count.Load() < 300 || rcv.count() < 100 {
		select {
		case <-p.done:
			t.Fatalf("hookd exited early:\n%s", p.logs.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	wg.Wait()
	t.Logf("accepted %d events before kill -9; receiver had %d requests", len(accepted), rcv.count())

	p2 := startProcess(t, env, args...)
	admin2, _ := checkedClient(t, p2.url, adminToken)
	// Every (event, endpoint) pair must arrive at least once.
	want := map[[2]string]bool{}
	for id := range accepted {
		for _, path := range paths {
			want[[2]string{id, path}] = true
		}
	}
	arrivals := 0
	deadline := time.After(60 * time.Second)
	for len(want) > 0 {
		r, ok := rcv.take(deadline)
		if !ok {
			t.Fatalf("%d accepted (event, endpoint) pairs never delivered after restart", len(want))
		}
		arrivals++
		delete(want, [2]string{r.Header.Get(webhook.HeaderID), r.Path})
	}
	t.Logf("%d requests for %d pairs: %d duplicates", arrivals, len(accepted)*len(paths), arrivals-len(accepted)*len(paths))
	for id := range accepted {
		if _, err := admin2.GetEvent(ctx, id); err != nil {
			t.Errorf("accepted event %s lost: %v", id, err)
			break
		}
	}
}
