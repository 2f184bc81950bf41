package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hookd/hookd/webhook"
)

// hookdAttemptTimeout is hookd's default attempt timeout (docs/delivery.md). listen
// warns when --delay or --exec-timeout would make it miss it.
const hookdAttemptTimeout = 5 * time.Second

const listenUsage = `Usage: hookd listen --secret whsec_… | --public-key whpk_… [flags]

A local webhook receiver: it verifies each request's signature, prints the
event, deduplicates by webhook-id and answers. Use it to try hookd, and to
watch retries (--status 500), a disable (--status 410) and timeouts
(--delay 6s). Every flag has an environment twin: --secret →
HOOKD_LISTEN_SECRET, --exec-timeout → HOOKD_LISTEN_EXEC_TIMEOUT.

Flags:
`

// listenFlags are the parsed flags of hookd listen.
type listenFlags struct {
	addr        string
	delay       time.Duration
	exec        string
	execTimeout time.Duration
	publicKeys  string
	secrets     string
	status      int
	store       string
	verbose     bool
}

func runListen(ctx context.Context, args []string, env Env) error {
	var f listenFlags
	fs := flag.NewFlagSet("hookd listen", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), listenUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.secrets, "secret", "", "the endpoint's `whsec_…` secret; several comma-separated while a secret rotates")
	fs.StringVar(&f.publicKeys, "public-key", "", "the endpoint's `whpk_…` public key (ed25519 endpoints); several comma-separated while it rotates")
	fs.StringVar(&f.addr, "addr", ":9000", "address to listen on")
	fs.IntVar(&f.status, "status", http.StatusNoContent, "answer every verified request with this status: 500 to watch retries, 410 to watch a disable")
	fs.DurationVar(&f.delay, "delay", 0, "wait this long before answering: 6s to watch hookd time out")
	fs.BoolVar(&f.verbose, "verbose", false, "also print each event's custom headers (the endpoint's own) and its data, indented")
	fs.StringVar(&f.store, "store", "", "keep each verified event once in this SQLite `file` (table events, views calls and sms)")
	fs.StringVar(&f.exec, "exec", "", "run this `command` (sh -c) for each new event, the envelope on stdin; a non-zero exit answers 500")
	fs.DurationVar(&f.execTimeout, "exec-timeout", 4*time.Second, "stop --exec after this long and answer 500")
	if err := parseCommand(fs, "hookd listen --secret whsec_… [flags]", args, env, "LISTEN_"); err != nil {
		return err
	}
	keys := append(listenSplitList(f.secrets), listenSplitList(f.publicKeys)...)
	switch {
	case len(keys) == 0:
		return errors.New("--secret whsec_… or --public-key whpk_… is required")
	case f.status < 200 || f.status > 599:
		return fmt.Errorf("--status %d: want a final HTTP status, 200 to 599", f.status)
	case f.delay < 0:
		return fmt.Errorf("--delay %v: want 0 or more", f.delay)
	case f.execTimeout <= 0:
		return fmt.Errorf("--exec-timeout %v: want more than 0", f.execTimeout)
	}
	v, err := webhook.NewVerifier(keys, nil)
	if err != nil {
		return err
	}

	var st *listenStore
	if f.store != "" {
		if st, err = openListenStore(ctx, f.store); err != nil {
			return err
		}
		defer st.Close()
	}
	rc := newReceiver(receiverConfig{
		Out:         env.Stdout,
		Verifier:    v,
		Status:      f.status,
		Delay:       f.delay,
		Verbose:     f.verbose,
		Store:       st,
		Exec:        f.exec,
		ExecTimeout: f.execTimeout,
	})

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	// Requests run under their own context, canceled at shutdown so that
	// a --delay or an --exec under way does not hold the exit up.
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	srv := &http.Server{
		Handler:           rc,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	// One write, so a reader of the output sees the banner whole.
	var banner strings.Builder
	fmt.Fprintf(&banner, "hookd listen: verifying webhooks on http://%s/ (Ctrl-C to stop)\n", displayAddr(ln.Addr().String()))
	for _, line := range f.describe(ctx, keys, st) {
		fmt.Fprintf(&banner, "  %s\n", line)
	}
	io.WriteString(env.Stdout, banner.String())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		cancelRequests()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(shutdownCtx)
		<-errc
		return err
	case err := <-errc:
		return err
	}
}

// describe returns what listen does with a verified request, one line per
// setting, for the start banner. It never shows key material.
func (f *listenFlags) describe(ctx context.Context, keys []string, st *listenStore) []string {
	var secrets, publicKeys int
	for _, k := range keys {
		if strings.HasPrefix(k, webhook.PublicKeyPrefix) {
			publicKeys++
		} else {
			secrets++
		}
	}
	var kinds []string
	if secrets > 0 {
		kinds = append(kinds, listenPlural(secrets, "secret")+" (v1)")
	}
	if publicKeys > 0 {
		kinds = append(kinds, listenPlural(publicKeys, "public key")+" (v1a)")
	}
	lines := []string{fmt.Sprintf("keys: %s; timestamps more than %v away are rejected",
		strings.Join(kinds, ", "), webhook.DefaultTolerance)}
	if listenIs2xx(f.status) {
		lines = append(lines, fmt.Sprintf("answer: %d to each verified event; duplicates (same webhook-id) are answered %d again, not processed again", f.status, f.status))
	} else {
		lines = append(lines, fmt.Sprintf("answer: %d to every verified request (--status): nothing is processed, hookd will count failures", f.status))
	}
	if f.delay > 0 {
		line := fmt.Sprintf("delay: %v before each answer", f.delay)
		if f.delay >= hookdAttemptTimeout {
			line += fmt.Sprintf(" (hookd gives up after %v by default, and retries)", hookdAttemptTimeout)
		}
		lines = append(lines, line)
	}
	if st != nil {
		line := "store: " + st.path
		if n, err := st.Count(ctx); err == nil {
			line += fmt.Sprintf(" (%s so far; sqlite3 %s 'SELECT * FROM calls')", listenPlural(n, "event"), st.path)
		}
		lines = append(lines, line)
	}
	if f.exec != "" {
		line := fmt.Sprintf("exec: sh -c %q per new event (timeout %v; exit 0 answers %d, anything else 500)", f.exec, f.execTimeout, f.status)
		if f.execTimeout+f.delay >= hookdAttemptTimeout {
			line += fmt.Sprintf("; note: hookd gives up after %v by default", hookdAttemptTimeout)
		}
		lines = append(lines, line)
	}
	return lines
}

func listenPlural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// listenSplitList splits a comma-separated flag value, dropping blanks.
func listenSplitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// prefixedEnv maps a flag's HOOKD_X twin to HOOKD_<prefix>X, so listen's
// --addr reads HOOKD_LISTEN_ADDR rather than serve's HOOKD_ADDR.
func prefixedEnv(getenv func(string) string, prefix string) func(string) string {
	return func(name string) string {
		return getenv("HOOKD_" + prefix + name[len("HOOKD_"):])
	}
}
