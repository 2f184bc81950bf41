package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/hookd/hookd/webhook"
)

// recordingHandler is the next handler behind the middleware. It records
// what it saw.
type recordingHandler struct {
	called   bool
	body     []byte
	envelope *webhook.Envelope
	hasEnv   bool
}

func (h *recordingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.called = true
	h.body, _ = io.ReadAll(r.Body)
	h.envelope, h.hasEnv = webhook.EnvelopeFromContext(r.Context())
	w.WriteHeader(http.StatusNoContent)
}

func TestMiddleware(t *testing.T) {
	t.Parallel()

	s := mustSigner(t, testSecretNew)
	wrong := mustSigner(t, testSecretOther)
	signed := func(signer *webhook.Signer, ts int64, body []byte) func(*http.Request) {
		return func(r *http.Request) {
			for k, v := range signedHeader(signer, testMsgID, ts, body) {
				r.Header[k] = v
			}
		}
	}
	large := []byte(`{"id":"evt_1","event":"call.received","data":"` + strings.Repeat("a", 2000) + `"}`)
	tests := []struct {
		name       string
		opts       webhook.VerifierOptions
		body       io.Reader
		setHeaders func(*http.Request)
		wantStatus int
		wantText   string // substring of the response body
	}{
		{name: "OK", body: bytes.NewReader(testBody), setHeaders: signed(s, testTS, testBody), wantStatus: http.StatusNoContent},
		{name: "OKNoBodyCap", opts: webhook.VerifierOptions{MaxBodyBytes: -1}, body: bytes.NewReader(large), setHeaders: signed(s, testTS, large), wantStatus: http.StatusNoContent},
		{name: "OKBodyAtCap", opts: webhook.VerifierOptions{MaxBodyBytes: int64(len(large))}, body: bytes.NewReader(large), setHeaders: signed(s, testTS, large), wantStatus: http.StatusNoContent},

		{name: "ErrNoHeaders", body: bytes.NewReader(testBody), setHeaders: func(*http.Request) {}, wantStatus: http.StatusBadRequest, wantText: "missing"},
		{name: "ErrMissingSignature", body: bytes.NewReader(testBody), setHeaders: func(r *http.Request) {
			signed(s, testTS, testBody)(r)
			r.Header.Del(webhook.HeaderSignature)
		}, wantStatus: http.StatusBadRequest, wantText: "missing"},
		{name: "ErrBadTimestamp", body: bytes.NewReader(testBody), setHeaders: func(r *http.Request) {
			signed(s, testTS, testBody)(r)
			r.Header.Set(webhook.HeaderTimestamp, "yesterday")
		}, wantStatus: http.StatusBadRequest, wantText: "webhook-timestamp"},
		{name: "ErrMalformedSignature", body: bytes.NewReader(testBody), setHeaders: func(r *http.Request) {
			signed(s, testTS, testBody)(r)
			r.Header.Set(webhook.HeaderSignature, "v1,not-base64")
		}, wantStatus: http.StatusBadRequest, wantText: "webhook-signature"},
		{name: "ErrReadBody", body: iotest.ErrReader(io.ErrUnexpectedEOF), setHeaders: signed(s, testTS, testBody), wantStatus: http.StatusBadRequest, wantText: "read"},
		{name: "ErrBodyNotJSON", body: strings.NewReader("hello"), setHeaders: signed(s, testTS, []byte("hello")), wantStatus: http.StatusBadRequest, wantText: "envelope"},
		{name: "ErrBodyJSONNull", body: strings.NewReader("null"), setHeaders: signed(s, testTS, []byte("null")), wantStatus: http.StatusBadRequest, wantText: "envelope"},
		{name: "ErrBodyJSONArray", body: strings.NewReader("[]"), setHeaders: signed(s, testTS, []byte("[]")), wantStatus: http.StatusBadRequest, wantText: "envelope"},
		{name: "ErrBodyNoEvent", body: strings.NewReader(`{"id":"evt_1"}`), setHeaders: signed(s, testTS, []byte(`{"id":"evt_1"}`)), wantStatus: http.StatusBadRequest, wantText: "envelope"},

		{name: "ErrWrongSecret", body: bytes.NewReader(testBody), setHeaders: signed(wrong, testTS, testBody), wantStatus: http.StatusUnauthorized, wantText: "invalid webhook signature"},
		{name: "ErrTamperedBody", body: strings.NewReader(string(testBody) + " "), setHeaders: signed(s, testTS, testBody), wantStatus: http.StatusUnauthorized, wantText: "invalid webhook signature"},
		{name: "ErrTooOld", body: bytes.NewReader(testBody), setHeaders: signed(s, testTS-3600, testBody), wantStatus: http.StatusUnauthorized, wantText: "too old"},
		{name: "ErrTooNew", body: bytes.NewReader(testBody), setHeaders: signed(s, testTS+3600, testBody), wantStatus: http.StatusUnauthorized, wantText: "too new"},

		{name: "ErrTooLarge", opts: webhook.VerifierOptions{MaxBodyBytes: int64(len(large)) - 1}, body: bytes.NewReader(large), setHeaders: signed(s, testTS, large), wantStatus: http.StatusRequestEntityTooLarge, wantText: "too large"},
		{name: "ErrTooLargeDefault", body: bytes.NewReader(bytes.Repeat([]byte(" "), webhook.DefaultMaxBodyBytes+1)), setHeaders: signed(s, testTS, testBody), wantStatus: http.StatusRequestEntityTooLarge, wantText: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			opts.Now = func() time.Time { return testNow }
			v, err := webhook.NewVerifier([]string{testSecretNew}, &opts)
			if err != nil {
				t.Fatalf("NewVerifier() = %v, want nil", err)
			}
			next := &recordingHandler{}
			req := httptest.NewRequest(http.MethodPost, "/webhooks", tt.body)
			tt.setHeaders(req)
			sigHeader := req.Header.Get(webhook.HeaderSignature)
			rec := httptest.NewRecorder()

			v.Middleware(next).ServeHTTP(rec, req)

			if rec.Code != tt.wantStatus {
				t.Fatalf("Middleware status = %d, want %d (body %q)", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if tt.wantStatus != http.StatusNoContent {
				if next.called {
					t.Fatalf("Middleware called next for status %d", rec.Code)
				}
				got := rec.Body.String()
				if !strings.Contains(got, tt.wantText) {
					t.Fatalf("Middleware body = %q, want it to contain %q", got, tt.wantText)
				}
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Fatalf("Middleware Content-Type = %q, want text/plain", ct)
				}
				_, enc, _ := strings.Cut(sigHeader, ",")
				if len(got) > 100 || (len(enc) >= 8 && strings.Contains(got, enc)) || strings.Contains(got, strings.TrimPrefix(testSecretNew, "whsec_")) {
					t.Fatalf("Middleware body = %q, want a short reason without key material or signatures", got)
				}
				return
			}
			if !next.called {
				t.Fatalf("Middleware did not call next")
			}
			if !next.hasEnv || next.envelope == nil {
				t.Fatalf("EnvelopeFromContext() = %v, %v; want an envelope, true", next.envelope, next.hasEnv)
			}
		})
	}
}

func TestMiddlewareNextSeesBodyAndEnvelope(t *testing.T) {
	t.Parallel()

	s := mustSigner(t, testSecretNew)
	v := mustVerifier(t, testSecretNew)
	next := &recordingHandler{}
	req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(testBody))
	req.Header = signedHeader(s, testMsgID, testTS, testBody)
	rec := httptest.NewRecorder()

	v.Middleware(next).ServeHTTP(rec, req)

	if rec.Code != http.StatusNoContent {
		t.Fatalf("Middleware status = %d, want %d (body %q)", rec.Code, http.StatusNoContent, rec.Body.String())
	}
	if !bytes.Equal(next.body, testBody) {
		t.Fatalf("next read body %q, want %q", next.body, testBody)
	}
	want := &webhook.Envelope{
		ID:        "evt_01JDQ8Z4C3V6W9X2Y5Z8A1B4C7",
		Event:     "call.received",
		Timestamp: time.Date(2026, 11, 27, 12, 30, 0, 0, time.UTC),
		AccountID: "acc_01JDQ7XW2E5F8G1H4J7K0M3N6P",
		Data:      json.RawMessage(`{"call_id":"call_1","status":"completed"}`),
	}
	got := next.envelope
	if got == nil || got.ID != want.ID || got.Event != want.Event || !got.Timestamp.Equal(want.Timestamp) || got.AccountID != want.AccountID || !bytes.Equal(got.Data, want.Data) {
		t.Fatalf("EnvelopeFromContext() = %+v, want %+v", got, want)
	}
}

func TestEnvelopeFromContextEmpty(t *testing.T) {
	t.Parallel()

	if env, ok := webhook.EnvelopeFromContext(context.Background()); ok || env != nil {
		t.Fatalf("EnvelopeFromContext(empty) = %v, %v; want nil, false", env, ok)
	}
}

// TestMiddlewareRealTransport runs the middleware behind a real HTTP server
// and signs requests as hookd's delivery engine does.
func TestMiddlewareRealTransport(t *testing.T) {
	t.Parallel()

	v, err := webhook.NewVerifier([]string{testPublicKey, testSecretOld}, nil)
	if err != nil {
		t.Fatalf("NewVerifier() = %v, want nil", err)
	}
	srv := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env, _ := webhook.EnvelopeFromContext(r.Context())
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, env.Event+" "+strconv.Itoa(len(body)))
	})))
	t.Cleanup(srv.Close)

	tests := []struct {
		name       string
		keys       []string
		wantStatus int
		wantBody   string
	}{
		{name: "Ed25519", keys: []string{testPrivateKey}, wantStatus: http.StatusOK, wantBody: "call.received " + strconv.Itoa(len(testBody))},
		{name: "RotatedSecret", keys: []string{testSecretNew, testSecretOld}, wantStatus: http.StatusOK, wantBody: "call.received " + strconv.Itoa(len(testBody))},
		{name: "UnknownSecret", keys: []string{testSecretNew}, wantStatus: http.StatusUnauthorized, wantBody: "invalid webhook signature\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustSigner(t, tt.keys...)
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, bytes.NewReader(testBody))
			if err != nil {
				t.Fatalf("NewRequest() = %v", err)
			}
			ts := time.Now().Unix()
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(webhook.HeaderID, testMsgID)
			req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts, 10))
			req.Header.Set(webhook.HeaderSignature, s.Sign(testMsgID, ts, testBody))
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatalf("POST = %v", err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody {
				t.Fatalf("POST = %d %q, want %d %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}
