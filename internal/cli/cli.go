// Package cli is hookd's command line: serve, migrate, seal, listen, send
// and version (SPEC §7). It parses flags and the environment, builds the
// components with their dependencies, and runs them.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/hookd/hookd/internal/version"
)

// Env is what a command may use of the process: standard streams and the
// environment. Tests pass their own.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Stdin  io.Reader
	Getenv func(string) string
}

// OSEnv is the process's own Env.
func OSEnv() Env {
	return Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Getenv: os.Getenv}
}

const usage = `hookd delivers webhooks: signed, retried, logged.

Usage:
  hookd serve   [flags]   run the API and the delivery engine
  hookd migrate [flags]   create or upgrade the database schema, then exit
  hookd seal    [flags]   re-seal stored signing keys under the first --secret-key and scrub the old ones
  hookd listen  [flags]   a local receiver that verifies and prints webhooks
  hookd send    [flags]   submit an event (producer CLI)
  hookd version           print the version

Run "hookd <command> -h" for a command's flags. Every serve flag has an
environment twin: --retry-base → HOOKD_RETRY_BASE.
`

// Run runs the command in args and returns the process exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], env)
	case "migrate":
		err = runMigrate(ctx, args[1:], env)
	case "seal":
		err = runSeal(ctx, args[1:], env)
	case "listen":
		err = runListen(ctx, args[1:], env)
	case "send":
		err = runSend(ctx, args[1:], env)
	case "version", "--version", "-version":
		fmt.Fprintln(env.Stdout, "hookd", version.Version)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
	default:
		fmt.Fprintf(env.Stderr, "hookd: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(env.Stderr, "hookd %s: %v\n", args[0], err)
	return 1
}

// errUsage marks an error already reported by the flag package.
var errUsage = errors.New("usage")

func flagErr(err error) error {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	if strings.HasPrefix(err.Error(), "flag provided but not defined") || strings.Contains(err.Error(), "invalid value") {
		return errUsage
	}
	return err
}

// newLogger builds the process logger: slog, text or JSON, on stderr.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level)) // validated by config
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
