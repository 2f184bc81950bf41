package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/webhook"
)

// Limits on what is read and kept of a response.
const (
	maxResponseRead    = 64 << 10 // read at most this much of a body
	maxResponseKept    = 4 << 10  // keep at most this much in the attempt log
	maxResponseHeaders = 64 << 10 // status line and headers, as Transport.MaxResponseHeaderBytes
)

// SenderConfig configures a Sender.
type SenderConfig struct {
	// Timeout bounds a whole attempt: connect, TLS, request, response
	// headers and reading the body (--attempt-timeout). Required.
	Timeout time.Duration
	// Guard checks every dialed IP; nil dials anything (the operator
	// webhook, whose URL the operator sets).
	Guard *netguard.Guard
	// RootCAs verifies receivers' certificates; nil means the system
	// roots (SSL_CERT_FILE and SSL_CERT_DIR work as for any Go program).
	RootCAs *x509.CertPool
	// UserAgent is sent as User-Agent, e.g. "hookd/1.0.0".
	UserAgent string
	// MaxConnsPerHost bounds open connections per receiver host; 0 means
	// no bound beyond the dispatcher's per-endpoint limit.
	MaxConnsPerHost int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Sender makes signed attempts. It is safe for concurrent use.
type Sender struct {
	cfg    SenderConfig
	client *http.Client
}

// NewSender returns a Sender with its own connection pool. It panics if
// cfg.Timeout is not positive: an attempt without a time limit could hold
// a worker for ever, and the limit's default belongs to internal/config.
func NewSender(cfg SenderConfig) *Sender {
	if cfg.Timeout <= 0 {
		panic(fmt.Sprintf("delivery: NewSender with Timeout %v: want a positive attempt timeout", cfg.Timeout))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	dial := dialer.DialContext
	if cfg.Guard != nil {
		dial = cfg.Guard.DialContext(dialer)
	}
	transport := &http.Transport{
		// Never a proxy from the environment: the guard must see the
		// receiver's own address.
		Proxy:                 nil,
		DialContext:           dial,
		TLSClientConfig:       &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   256,
		MaxConnsPerHost:       cfg.MaxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		// A receiver's headers cost memory while they are read: at most
		// this much per attempt, instead of Go's default of 10 MiB.
		MaxResponseHeaderBytes: maxResponseHeaders,
		// HTTP/1.1 only: one request per connection at a time keeps the
		// per-endpoint limit meaningful and Go's HTTP/1 client is the
		// cheaper of the two per request.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	return &Sender{
		cfg: cfg,
		client: &http.Client{
			Transport: transport,
			// A redirect is a failed attempt, never followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Timeout is the attempt timeout.
func (s *Sender) Timeout() time.Duration { return s.cfg.Timeout }

// CloseIdleConnections closes pooled connections.
func (s *Sender) CloseIdleConnections() { s.client.CloseIdleConnections() }

// Request is one attempt to make.
type Request struct {
	URL    string
	MsgID  string // webhook-id: the event id
	Body   []byte // the envelope, sent as is
	Signer *webhook.Signer
	// Headers are the endpoint's custom headers, values in plain text;
	// the attempt log lists them masked.
	Headers []hook.Header
}

// Outcome is what came of an attempt.
type Outcome struct {
	StartedAt  time.Time
	Duration   time.Duration
	StatusCode int    // 0 without a response
	Error      string // "" on success; else "code: detail"
	// Code is the error code alone ("timeout", "http_status", …).
	Code string
	// ResponseBody is the start of the body, valid UTF-8, ≤ 4 KiB.
	ResponseBody string
	// RequestHeaders are the headers sent, signatures redacted.
	RequestHeaders map[string]string
	// RetryAfter is the receiver's Retry-After on a 429 or 503, if any.
	RetryAfter time.Duration
}

// OK reports whether the attempt succeeded.
func (o *Outcome) OK() bool { return o.Error == "" }

// Send makes one attempt. It never returns an error: every failure is
// described in the Outcome.
func (s *Sender) Send(ctx context.Context, r *Request) *Outcome {
	start := s.cfg.Now()
	o := &Outcome{StartedAt: start}
	ts := start.Unix()
	sig := r.Signer.Sign(r.MsgID, ts, r.Body)
	o.RequestHeaders = map[string]string{
		"content-type":          "application/json",
		"user-agent":            s.cfg.UserAgent,
		webhook.HeaderID:        r.MsgID,
		webhook.HeaderTimestamp: strconv.FormatInt(ts, 10),
		webhook.HeaderSignature: redactSignatures(sig),
	}
	for _, ch := range r.Headers {
		o.RequestHeaders[strings.ToLower(ch.Name)] = ch.Masked
	}

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		o.fail(hook.ErrCodeConnect, "invalid request: "+err.Error())
		o.Duration = s.cfg.Now().Sub(start)
		return o
	}
	h := req.Header
	// Custom headers first: hookd's own (which custom ones may not name)
	// are set after them.
	for _, ch := range r.Headers {
		h[ch.Name] = []string{ch.Value}
	}
	h["Content-Type"] = []string{"application/json"}
	h["User-Agent"] = []string{s.cfg.UserAgent}
	h[webhook.HeaderID] = []string{r.MsgID}
	h[webhook.HeaderTimestamp] = []string{o.RequestHeaders[webhook.HeaderTimestamp]}
	h[webhook.HeaderSignature] = []string{sig}

	resp, err := s.client.Do(req)
	if err != nil {
		o.classify(err, ctx, s.cfg.Timeout)
		o.Duration = s.cfg.Now().Sub(start)
		return o
	}
	if resp.StatusCode < 200 {
		// An informational status that reaches here (101 Switching
		// Protocols: Go's client reads past 100 and 103 itself) is not an
		// answer. Its body is the raw connection, which no deadline
		// covers: close it at once, never read it.
		resp.Body.Close()
		o.Duration = s.cfg.Now().Sub(start)
		o.StatusCode = resp.StatusCode
		o.fail(hook.ErrCodeHTTPStatus, strings.TrimSpace(fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode)))+
			", an informational status is not an answer; the connection was closed")
		return o
	}
	// The body read ends at the attempt's deadline whatever the body is:
	// closing it unblocks a read the transport would not interrupt.
	stop := context.AfterFunc(ctx, func() { resp.Body.Close() })
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseRead))
	stop()
	resp.Body.Close()
	o.Duration = s.cfg.Now().Sub(start)
	o.StatusCode = resp.StatusCode
	o.ResponseBody = keepBody(body)
	if readErr != nil && ctx.Err() != nil {
		// A read ended by the deadline may report the closed body rather
		// than the deadline.
		readErr = errors.Join(readErr, ctx.Err())
	}

	switch {
	case readErr != nil:
		// The status arrived, the body did not: the receiver did not
		// answer in time (or broke the connection).
		o.classify(readErr, ctx, s.cfg.Timeout)
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		// Success.
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		msg := fmt.Sprintf("%d %s, redirects are not followed", resp.StatusCode, http.StatusText(resp.StatusCode))
		if loc := resp.Header.Get("Location"); loc != "" {
			msg = fmt.Sprintf("%d %s to %s, redirects are not followed", resp.StatusCode, http.StatusText(resp.StatusCode), truncate(printable(loc), 200))
		}
		o.fail(hook.ErrCodeRedirect, msg)
	default:
		o.fail(hook.ErrCodeHTTPStatus, strings.TrimSpace(fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))))
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			o.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), s.cfg.Now())
		}
	}
	return o
}

func (o *Outcome) fail(code, detail string) {
	o.Code = code
	// A detail may quote what a receiver sent; the error is stored as text.
	o.Error = code + ": " + printable(detail)
}

// printable makes s valid UTF-8 without NUL or other control characters,
// so what a receiver sent can be stored as text and shown to a person.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '\uFFFD'
		}
		return r
	}, s)
}

// classify describes a transport error by its cause. Messages never carry
// the URL: a URL may hold a customer's credentials in its query.
func (o *Outcome) classify(err error, ctx context.Context, timeout time.Duration) {
	var (
		blocked *netguard.BlockedError
		dnsErr  *net.DNSError
		opErr   *net.OpError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &blocked):
		o.fail(hook.ErrCodeBlockedTarget, blocked.Error())
	case strings.Contains(err.Error(), "server response headers exceeded"):
		// Go's wording for Transport.MaxResponseHeaderBytes. Classified
		// like any other response that is not HTTP hookd can read.
		o.fail(hook.ErrCodeConnect, fmt.Sprintf("the response headers exceed %d KiB", maxResponseHeaders>>10))
	case errors.Is(err, context.Canceled) && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		o.fail(hook.ErrCodeCanceled, "the attempt was canceled")
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		o.fail(hook.ErrCodeTimeout, fmt.Sprintf("no complete response within %s", timeout))
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			o.fail(hook.ErrCodeDNS, "no such host "+dnsErr.Name)
		} else {
			o.fail(hook.ErrCodeDNS, "lookup of "+dnsErr.Name+" failed: "+dnsErr.Err)
		}
	case isTLSError(err):
		o.fail(hook.ErrCodeTLS, tlsDetail(err))
	case errors.As(err, &opErr) && opErr.Op == "dial":
		o.fail(hook.ErrCodeConnect, unwrapDetail(opErr.Err))
	default:
		o.fail(hook.ErrCodeConnect, unwrapDetail(err))
	}
}

func isTLSError(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		record    tls.RecordHeaderError
		alert     tls.AlertError
	)
	return errors.As(err, &verify) || errors.As(err, &unknownCA) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &record) || errors.As(err, &alert) ||
		strings.Contains(err.Error(), "tls: ") || strings.Contains(err.Error(), "HTTP response to HTTPS client")
}

func tlsDetail(err error) string {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		record    tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknownCA):
		return "certificate signed by an unknown authority"
	case errors.As(err, &hostname):
		return "certificate is not valid for " + hostname.Host
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return "certificate has expired or is not yet valid"
		}
		return "certificate is not valid: " + invalid.Error()
	case errors.As(err, &record), strings.Contains(err.Error(), "HTTP response to HTTPS client"):
		return "the server did not answer with TLS (is it serving plain HTTP?)"
	}
	return strings.TrimPrefix(unwrapDetail(err), "tls: ")
}

// unwrapDetail is the innermost useful message of a transport error,
// without the "Post \"https://…\":" prefix that would leak the URL.
func unwrapDetail(err error) string {
	for {
		var next error
		switch e := err.(type) {
		case interface{ Unwrap() error }:
			next = e.Unwrap()
		}
		if next == nil {
			break
		}
		err = next
	}
	msg := err.Error()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "the server closed the connection without a complete response"
	}
	return msg
}

// redactSignatures keeps the scheme of each signature and drops its value:
// attempt logs show what was sent without handing out signatures.
func redactSignatures(header string) string {
	parts := strings.Fields(header)
	for i, p := range parts {
		if v, _, ok := strings.Cut(p, ","); ok {
			parts[i] = v + ",[redacted]"
		}
	}
	return strings.Join(parts, " ")
}

// keepBody returns the first maxResponseKept bytes of b as valid UTF-8.
func keepBody(b []byte) string {
	if len(b) > maxResponseKept {
		b = b[:maxResponseKept]
		// Do not cut a rune in half.
		for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.Valid(b); i++ {
			b = b[:len(b)-1]
		}
	}
	// NUL is valid UTF-8 but no database text column wants it.
	return strings.ReplaceAll(strings.ToValidUTF8(string(b), "\uFFFD"), "\x00", "\uFFFD")
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an
// HTTP-date. Anything else, or a time in the past, is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(MaxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), MaxRetryAfter)
	}
	return 0
}
