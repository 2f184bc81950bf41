// Package cli is hookd's command line: serve, migrate, seal, listen, send
// and version (README, Commands). It parses flags and the environment, builds the
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

	"github.com/hookd/hookd/internal/config"
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
  hookd dev     [flags]   try hookd alone: a node, a receiver, an account and an endpoint, and what to try next
  hookd serve   [flags]   run the API and the delivery engine
  hookd migrate [flags]   create or upgrade the database schema, then exit
  hookd seal    [flags]   re-seal stored signing keys under the first --secret-key and scrub the old ones
  hookd listen  [flags]   a local receiver that verifies and prints webhooks
  hookd send    [flags]   submit an event (producer CLI)
  hookd backup  [flags] DEST   copy the SQLite database, also while serving
  hookd version           print the version (also hookd --version, hookd -v)

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
	case "dev":
		err = runDev(ctx, args[1:], env)
	case "migrate":
		err = runMigrate(ctx, args[1:], env)
	case "seal":
		err = runSeal(ctx, args[1:], env)
	case "listen":
		err = runListen(ctx, args[1:], env)
	case "send":
		err = runSend(ctx, args[1:], env)
	case "backup":
		err = runBackup(ctx, args[1:], env)
	case "version", "--version", "-version", "-v":
		fmt.Fprintln(env.Stdout, "hookd", version.Version)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
	default:
		fmt.Fprintf(env.Stderr, "hookd: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "hookd %s: %v\nRun 'hookd %s -h' to list its flags.\n", args[0], ue.err, args[0])
		return 2
	}
	fmt.Fprintf(env.Stderr, "hookd %s: %v\n", args[0], err)
	return 1
}

// usageError is a mistake on the command line: reported in one line
// with a pointer to -h, exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// parseCommand parses a command's flags and their HOOKD_<prefix>NAME
// environment twins. -h prints the flags to standard output and returns
// flag.ErrHelp; a bad flag returns a usageError.
func parseCommand(fs *flag.FlagSet, synopsis string, args []string, env Env, envPrefix string) error {
	getenv, envName := env.Getenv, config.EnvName
	if envPrefix != "" {
		getenv = prefixedEnv(env.Getenv, envPrefix)
		envName = func(name string) string { return config.EnvName(envPrefix + name) }
	}
	err := config.ParseFlags(fs, args, getenv)
	switch {
	case errors.Is(err, flag.ErrHelp):
		config.PrintUsage(env.Stdout, synopsis, fs, envName)
		return err
	case err != nil:
		return usageError{err}
	}
	return nil
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
