package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// Env is what the command uses of its process. Tests pass their own.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	// Self returns a command that runs this program with args; run uses
	// it to start the receiver ("receive"). Nil re-executes
	// os.Executable().
	Self func(args ...string) *exec.Cmd
}

// OSEnv is the process's own Env.
func OSEnv() Env { return Env{Stdout: os.Stdout, Stderr: os.Stderr} }

const usageText = `hookd-bench measures hookd: throughput, latency, memory and CPU.

Usage:
  hookd-bench run --scenario max|steady|steady-fanout|batch|backlog|isolation|pg|soak [flags]
  hookd-bench receive --cert-file PATH   the HTTPS receiver (run starts it)
  hookd-bench relay --topology FILE --cert-file PATH
                                         the minimal relay, the yardstick (run starts it)

Run it from the repository root: run builds ./cmd/hookd unless --hookd is
given. "hookd-bench run -h" lists the flags; docs/performance.md has the
scenarios, the method and results.
`

// Main runs the command in args and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Self == nil {
		env.Self = func(args ...string) *exec.Cmd {
			exe, err := os.Executable()
			if err != nil {
				exe = os.Args[0]
			}
			return exec.Command(exe, args...)
		}
	}
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usageText)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = runBench(ctx, args[1:], env)
	case "receive":
		err = runReceive(ctx, args[1:], env)
	case "relay":
		err = runRelay(ctx, args[1:], env)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usageText)
		return 0
	default:
		fmt.Fprintf(env.Stderr, "hookd-bench: unknown command %q\n\n%s", args[0], usageText)
		return 2
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(env.Stderr, "hookd-bench %s: %v\n", args[0], err)
	return 1
}

// errUsage marks an error the flag package has reported already.
var errUsage = errors.New("usage")
