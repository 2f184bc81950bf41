package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/webhook"
)

// listener is hookd listen: a receiver that verifies each request and
// prints it.
type listener struct {
	out      io.Writer
	verifier *webhook.Verifier
	mu       sync.Mutex // serialises output
}

func runListen(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("hookd listen", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	secret := fs.String("secret", "", "the endpoint's whsec_ secret")
	publicKey := fs.String("public-key", "", "the endpoint's whpk_ public key (ed25519 endpoints)")
	addr := fs.String("addr", ":9000", "address to listen on")
	if err := config.ParseFlags(fs, args, prefixedEnv(env.Getenv, "LISTEN_")); err != nil {
		return flagErr(err)
	}
	var keys []string
	for _, k := range []string{*secret, *publicKey} {
		if k != "" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return errors.New("--secret whsec_… or --public-key whpk_… is required")
	}
	v, err := webhook.NewVerifier(keys, nil)
	if err != nil {
		return err
	}
	l := &listener{out: env.Stdout, verifier: v}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: l.handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(env.Stdout, "hookd listen: verifying webhooks on http://%s/ (Ctrl-C to stop)\n", displayAddr(ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	case err := <-errc:
		return err
	}
}

// prefixedEnv maps a flag's HOOKD_X twin to HOOKD_<prefix>X, so listen's
// --addr reads HOOKD_LISTEN_ADDR rather than serve's HOOKD_ADDR.
func prefixedEnv(getenv func(string) string, prefix string) func(string) string {
	return func(name string) string {
		return getenv("HOOKD_" + prefix + name[len("HOOKD_"):])
	}
}

func (l *listener) handler() http.Handler {
	return l.verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env, _ := webhook.EnvelopeFromContext(r.Context())
		l.print(r, env)
		w.WriteHeader(http.StatusNoContent)
	}))
}

func (l *listener) print(r *http.Request, env *webhook.Envelope) {
	latency := ""
	if ts, err := strconv.ParseInt(r.Header.Get(webhook.HeaderTimestamp), 10, 64); err == nil {
		latency = fmt.Sprintf(" (signed %s ago)", time.Since(time.Unix(ts, 0)).Round(time.Second))
	}
	var data bytes.Buffer
	if err := json.Indent(&data, env.Data, "  ", "  "); err != nil {
		data.Reset()
		data.Write(env.Data)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.out, "%s  %s  %s  account %s  signature verified%s\n  %s\n",
		time.Now().UTC().Format(time.TimeOnly), env.Event, env.ID, env.AccountID, latency, data.String())
}
