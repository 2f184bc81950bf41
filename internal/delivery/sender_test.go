package delivery

import (
	"context"
	"encoding/base64"

	"github.com/hookd/hookd/internal/hostile"
	"github.com/hookd/hookd/webhook"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 5 ", 5 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"99999999999", time.Hour},
		{"Fri, 27 Nov 2026 12:10:00 GMT", 10 * time.Minute},
		{"Fri, 27 Nov 2026 11:00:00 GMT", 0}, // in the past
		{"Sat, 28 Nov 2026 12:00:00 GMT", time.Hour},
		{"soon", 0},
		{"1.5", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Fri, 27 Nov 2026 12:10:00 GMT", "-1", "1e9", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if got := parseRetryAfter(v, now); got < 0 || got > MaxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %v, want within [0, 1h]", v, got)
		}
	})
}

func TestRedactSignatures(t *testing.T) {
	t.Parallel()
	got := redactSignatures("v1,abc= v1a,def==")
	if got != "v1,[redacted] v1a,[redacted]" {
		t.Errorf("redactSignatures = %q", got)
	}
}

func TestKeepBody(t *testing.T) {
	t.Parallel()
	body := []byte(strings.Repeat("a", 4095) + "é" + strings.Repeat("b", 10))
	got := keepBody(body)
	if len(got) > maxResponseKept || !utf8.ValidString(got) || got != strings.Repeat("a", 4095) {
		t.Errorf("keepBody cut a rune or kept too much: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if got := keepBody([]byte("ok\xff\x00")); got != "ok\uFFFD\uFFFD" {
		t.Errorf("keepBody(invalid UTF-8) = %q", got)
	}
}

// TestSenderHostile runs one attempt against each hostile receiver: each
// ends with the error a customer can act on, within the attempt timeout
// plus a margin, and leaves no connection behind.
func TestSenderHostile(t *testing.T) {
	t.Parallel()
	// Long enough for a TLS handshake on a loaded machine (2 cores, -race,
	// other tests).
	const timeout = 2 * time.Second
	pool, err := hostile.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := webhook.NewSigner("whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind   hostile.Kind
		status int
		err    string // the recorded error, or its start when it ends with *
	}{
		{hostile.Hang, 0, "timeout: no complete response within 2s"},
		{hostile.TrickleHeaders, 0, "timeout: no complete response within 2s"},
		{hostile.InfoHold, 0, "timeout: no complete response within 2s"},
		{hostile.SwitchHold, 101, "http_status: 101 Switching Protocols, an informational status is not an answer; the connection was closed"},
		{hostile.EndlessBody, 200, "timeout: no complete response within 2s"},
		{hostile.FloodBody, 200, ""}, // 64 KiB read, then the connection is closed
		{hostile.CloseHeaders, 0, "connect: the server closed the connection without a complete response"},
		{hostile.CloseBody, 200, "connect: the server closed the connection without a complete response"},
		{hostile.HugeHeaders, 0, "connect: the response headers exceed 64 KiB"},
		{hostile.Redirect301, 301, "redirect: 301 Moved Permanently to https://example.com/moved, redirects are not followed"},
		{hostile.Redirect302, 302, "redirect: 302 Found to https://example.com/moved, redirects are not followed"},
		{hostile.Redirect307, 307, "redirect: 307 Temporary Redirect to https://example.com/moved, redirects are not followed"},
		{hostile.Reset, 0, "connect: *"},
		{hostile.WrongNameTLS, 0, "tls: certificate is not valid for 127.0.0.1"},
		{hostile.ExpiredTLS, 0, "tls: certificate has expired or is not yet valid"},
		{hostile.GarbageStatus, 0, "connect: malformed HTTP *"},
		{hostile.BinaryBody, 500, "http_status: 500 Internal Server Error"}, // the body is kept as printable text
		{hostile.BadUTF8Header, 302, "redirect: 302 Found to https://example.com/\uFFFD(, redirects are not followed"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			srv, err := hostile.Start(tt.kind, hostile.Options{TLS: true})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			s := NewSender(SenderConfig{Timeout: timeout, RootCAs: pool, UserAgent: "hookd/test"})
			defer s.CloseIdleConnections()
			o := s.Send(context.Background(), &Request{URL: srv.URL(), MsgID: "evt_1", Body: []byte(`{}`), Signer: signer})
			if tt.err == "" && o.Error != "" {
				t.Errorf("error = %q, want success", o.Error)
			} else if want, ok := strings.CutSuffix(tt.err, "*"); ok && !strings.HasPrefix(o.Error, want) || !ok && o.Error != tt.err {
				t.Errorf("error = %q, want %q", o.Error, tt.err)
			}
			if o.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", o.StatusCode, tt.status)
			}
			if o.Code != strings.SplitN(tt.err, ":", 2)[0] {
				t.Errorf("code = %q for %q", o.Code, o.Error)
			}
			if !utf8.ValidString(o.Error) || !utf8.ValidString(o.ResponseBody) || strings.ContainsRune(o.ResponseBody, 0) {
				t.Errorf("error %q or body %q is not printable text", o.Error, o.ResponseBody)
			}
			// One wall clock: generous margin for a loaded machine.
			if o.Duration > timeout+2*time.Second {
				t.Errorf("the attempt took %v, want at most %v", o.Duration, timeout+2*time.Second)
			}
			// The connection is closed (an idle pooled one is closed here):
			// the server sees it go.
			s.CloseIdleConnections()
			deadline := time.Now().Add(5 * time.Second)
			for {
				if _, open := srv.Accepted(); open == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the server still holds a connection 5s after the attempt")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestHintHostile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		o    Outcome
		want string
	}{
		{Outcome{Code: "http_status", StatusCode: 101, Error: "http_status: 101 Switching Protocols, an informational status is not an answer; the connection was closed"},
			"The endpoint answered 101 Switching Protocols: hookd does not switch protocols; return a 2xx status once the event is received."},
		{Outcome{Code: "connect", Error: "connect: the response headers exceed 64 KiB"},
			"The endpoint answered, but the response headers exceed 64 KiB: send smaller response headers."},
		{Outcome{Code: "connect", Error: "connect: connection refused"},
			"Could not connect (connection refused): is your server running and publicly reachable?"},
	}
	for _, tt := range tests {
		if got := Hint(&tt.o, 5*time.Second); got != tt.want {
			t.Errorf("Hint(%q) = %q, want %q", tt.o.Error, got, tt.want)
		}
	}
}

// A developer testing an endpoint on their own machine is told what fits
// it: not to make a local server publicly reachable, and which flag lets
// hookd reach it.
func TestHintForLocalTargets(t *testing.T) {
	t.Parallel()
	refused := &Outcome{Code: "connect", Error: "connect: connection refused"}
	blocked := &Outcome{Code: "blocked_target", Error: "blocked_target: target address not allowed: 127.0.0.1 is loopback"}
	for _, target := range []string{"http://localhost:9000/", "http://127.0.0.1:9000/", "https://[::1]:8443/x"} {
		got := HintFor(refused, 5*time.Second, target)
		if strings.Contains(got, "publicly reachable") || !strings.Contains(got, "is your server running") {
			t.Errorf("HintFor(refused, %s) = %q; want it to ask whether the server runs, not for it to be publicly reachable", target, got)
		}
		got = HintFor(blocked, 5*time.Second, target)
		_, second, _ := strings.Cut(got, ". ")
		if !strings.Contains(got, "this address is not allowed") || !strings.Contains(second, "--allow-private-targets") {
			t.Errorf("HintFor(blocked, %s) = %q; want %q and the flag in the second sentence", target, got, "this address is not allowed")
		}
	}
	if got := HintFor(refused, 5*time.Second, "https://hooks.example.com/"); !strings.Contains(got, "publicly reachable") {
		t.Errorf("HintFor(refused, a public URL) = %q; want it to ask whether the server is publicly reachable", got)
	}
}
