package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a process started by run: hookd or the receiver. Its stdout and
// stderr go to a log file; waitLine watches stdout for the line that says
// it is ready.
type child struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	sampler *Sampler

	lines chan string // stdout lines until the ready line is found
	done  chan struct{}
	err   error // Wait's result, set before done closes
}

// startChild starts cmd with stdout and stderr copied to logPath.
func startChild(name string, cmd *exec.Cmd, logPath string) (*child, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	cmd.Stderr = logFile
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, logPath: logPath, lines: make(chan string, 64), done: make(chan struct{})}
	c.sampler = StartSampler(cmd.Process.Pid, 250*time.Millisecond)
	var copied sync.WaitGroup
	copied.Add(1)
	go func() {
		defer copied.Done()
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logFile, line)
			select {
			case c.lines <- line:
			default: // nobody is waiting any more
			}
		}
		io.Copy(logFile, stdout)
	}()
	go func() {
		copied.Wait() // Wait closes stdout: read it all first
		c.err = cmd.Wait()
		c.sampler.Stop()
		logFile.Close()
		close(c.done)
	}()
	return c, nil
}

// pid is the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// waitLine waits for a stdout line that re matches and returns its
// submatches. If the child exits first, the error quotes its log's end.
func (c *child) waitLine(ctx context.Context, re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				<-c.done
				return nil, fmt.Errorf("%s exited before it was ready (%v): %s", c.name, c.err, c.logTail(800))
			}
			if m := re.FindStringSubmatch(line); m != nil {
				return m, nil
			}
		case <-t.C:
			return nil, fmt.Errorf("%s not ready after %s: %s", c.name, timeout, c.logTail(800))
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// logTail returns the end of the child's log, on one line.
func (c *child) logTail(n int) string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = append([]byte("…"), b[len(b)-n:]...)
	}
	return strings.Join(strings.Fields(string(b)), " ") + " (log: " + c.logPath + ")"
}

// exited reports whether the child has exited.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits up to grace for the exit, then kills. It
// returns the exit error unless the exit was clean (or the kill ours).
func (c *child) stop(grace time.Duration) error {
	if c.exited() {
		return c.exitErr()
	}
	c.sampler.Sample() // the last CPU time and high-water mark
	c.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.done:
		return c.exitErr()
	case <-t.C:
		c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within %s of SIGTERM; killed", c.name, grace)
	}
}

func (c *child) exitErr() error {
	if c.err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) && ee.Exited() {
		return fmt.Errorf("%s: %w: %s", c.name, c.err, c.logTail(400))
	}
	return fmt.Errorf("%s: %w", c.name, c.err)
}

// childEnv is the environment of children: this process's, without
// HOOKD_* variables (every hookd setting comes from the flags run passes),
// plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "HOOKD_") || strings.HasPrefix(kv, "SSL_CERT_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}
