package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/hookd/hookd/webhook"
)

// listenExecOutputMax caps the output of an --exec run that is kept and
// printed.
const listenExecOutputMax = 4 << 10

// listenExecInput is what an --exec run gets about its event.
type listenExecInput struct {
	msgID     string
	env       *webhook.Envelope
	timestamp string // webhook-timestamp of the attempt
	body      []byte // the envelope exactly as received
}

// listenExecResult is how an --exec run went.
type listenExecResult struct {
	output []byte // stdout and stderr, interleaved, at most listenExecOutputMax
	err    error  // nil on exit status 0
}

// listenExec runs command with sh -c: the envelope JSON on stdin, and
// WEBHOOK_ID, WEBHOOK_EVENT, WEBHOOK_ACCOUNT_ID and WEBHOOK_TIMESTAMP added
// to the environment. It stops the command, and any process it started,
// after timeout or when ctx ends.
func listenExec(ctx context.Context, command string, timeout time.Duration, in listenExecInput) listenExecResult {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Stdin = bytes.NewReader(in.body)
	cmd.Env = append(os.Environ(),
		"WEBHOOK_ID="+in.msgID,
		"WEBHOOK_EVENT="+in.env.Event,
		"WEBHOOK_ACCOUNT_ID="+in.env.AccountID,
		"WEBHOOK_TIMESTAMP="+in.timestamp,
	)
	out := &listenCappedBuffer{max: listenExecOutputMax}
	cmd.Stdout, cmd.Stderr = out, out
	listenExecProcessGroup(cmd)
	// A background process that keeps the output open must not hold up
	// the answer beyond the timeout.
	cmd.WaitDelay = time.Second

	err := cmd.Run()
	res := listenExecResult{output: out.bytes()}
	switch {
	case err == nil:
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.err = fmt.Errorf("exec timed out after %v (--exec-timeout)", timeout)
	case ctx.Err() != nil:
		res.err = fmt.Errorf("exec stopped: %w", context.Cause(ctx))
	default:
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && exitErr.Exited() {
			res.err = fmt.Errorf("exec exited with status %d", exitErr.ExitCode())
		} else {
			res.err = fmt.Errorf("exec: %w", err)
		}
	}
	return res
}

// listenCappedBuffer keeps the first max bytes written to it. exec.Cmd
// writes to it from one goroutine at a time, since Stdout and Stderr are
// the same writer.
type listenCappedBuffer struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (b *listenCappedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room < len(p) {
		b.truncated = true
		b.buf.Write(p[:max(room, 0)])
	} else {
		b.buf.Write(p)
	}
	return len(p), nil
}

func (b *listenCappedBuffer) bytes() []byte {
	out := b.buf.Bytes()
	if b.truncated {
		out = append(out, "\n… (output truncated)\n"...)
	}
	return out
}
