package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

// Fixed keys built from repeated bytes, used by these tests only.
var (
	listenSecretNew   = "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x21}, 32))
	listenSecretOld   = "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x22}, 32))
	listenSecretOther = "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x23}, 32))

	listenPrivateKey, listenPublicKey = listenKeyPair(0x24)
	listenPrivateKeyOld, _            = listenKeyPair(0x25)
)

func listenKeyPair(b byte) (priv, pub string) {
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
	return "whsk_" + base64.StdEncoding.EncodeToString(k),
		"whpk_" + base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
}

// listenExamples are the catalogue's example data, compacted as hookd
// sends them.
var listenExamples = func() map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	for _, name := range []string{"call.received", "sms.received"} {
		b, err := os.ReadFile("../catalog/examples/" + name + ".json")
		if err != nil {
			panic(err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			panic(err)
		}
		m[name] = c.Bytes()
	}
	m["webhook.test"] = json.RawMessage(`{"test":true}`)
	return m
}()

// listenEnvelope returns a delivery body as hookd encodes it.
func listenEnvelope(id, event string, accepted time.Time, data json.RawMessage) []byte {
	if data == nil {
		data = listenExamples[event]
	}
	return fmt.Appendf(nil, `{"id":%q,"event":%q,"timestamp":%q,"account_id":"acc_1","data":%s}`,
		id, event, accepted.UTC().Format(listenStoreTime), data)
}

// listenBuffer is what a receiver prints, safe for concurrent use.
type listenBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *listenBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *listenBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor waits until the output matches re and returns the submatches.
func (b *listenBuffer) waitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("output does not match %q within 10s:\n%s", re, b.String())
	return nil
}

// listenBundle is a receiver behind a real HTTP server on loopback.
type listenBundle struct {
	t      *testing.T
	rc     *receiver
	url    string
	out    *listenBuffer
	client *http.Client
}

// listenSetup starts a receiver with cfg. Without a Verifier in cfg it
// verifies with listenSecretNew and listenPublicKey.
func listenSetup(t *testing.T, cfg receiverConfig) *listenBundle {
	t.Helper()
	if cfg.Verifier == nil {
		cfg.Verifier = listenVerifier(t, listenSecretNew, listenPublicKey)
	}
	out := &listenBuffer{}
	cfg.Out = out
	rc := newReceiver(cfg)
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 20 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	return &listenBundle{t: t, rc: rc, url: srv.URL + "/hooks", out: out, client: client}
}

func listenVerifier(t *testing.T, keys ...string) *webhook.Verifier {
	t.Helper()
	v, err := webhook.NewVerifier(keys, nil)
	if err != nil {
		t.Fatalf("NewVerifier() = %v", err)
	}
	return v
}

func listenSigner(t *testing.T, keys ...string) *webhook.Signer {
	t.Helper()
	s, err := webhook.NewSigner(keys...)
	if err != nil {
		t.Fatalf("NewSigner() = %v", err)
	}
	return s
}

// listenPost is one request to a receiver.
type listenPost struct {
	signer *webhook.Signer // nil: listenSecretNew
	id     string
	ts     time.Time     // webhook-timestamp; zero: now minus age
	age    time.Duration // how old the message is when sent (negative: from the future)
	body   []byte
	header func(http.Header) // changes the headers after signing
	client *http.Client      // nil: the bundle's
}

// post sends p and returns the status and body of the answer.
func (b *listenBundle) post(p listenPost) (int, string) {
	b.t.Helper()
	resp, err := b.do(p)
	if err != nil {
		b.t.Fatalf("POST %s: %v", p.id, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *listenBundle) do(p listenPost) (*http.Response, error) {
	if p.signer == nil {
		p.signer = listenSigner(b.t, listenSecretNew)
	}
	if p.ts.IsZero() {
		p.ts = time.Now().Add(-p.age)
	}
	if p.client == nil {
		p.client = b.client
	}
	req, err := http.NewRequest(http.MethodPost, b.url, bytes.NewReader(p.body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.HeaderID, p.id)
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(p.ts.Unix(), 10))
	req.Header.Set(webhook.HeaderSignature, p.signer.Sign(p.id, p.ts.Unix(), p.body))
	if p.header != nil {
		p.header(req.Header)
	}
	return p.client.Do(req)
}

// wantPost posts and fails unless the answer has the status.
func (b *listenBundle) wantPost(p listenPost, status int) string {
	b.t.Helper()
	got, body := b.post(p)
	if got != status {
		b.t.Fatalf("POST %s = %d %q, want %d\noutput:\n%s", p.id, got, body, status, b.out.String())
	}
	return body
}

// lines returns the printed lines that contain s.
func (b *listenBundle) lines(s string) []string {
	var out []string
	for line := range strings.Lines(b.out.String()) {
		if strings.Contains(line, s) {
			out = append(out, strings.TrimRight(line, "\n"))
		}
	}
	return out
}

func (b *listenBundle) wantLines(s string, n int) []string {
	b.t.Helper()
	got := b.lines(s)
	if len(got) != n {
		b.t.Fatalf("%d lines contain %q, want %d; output:\n%s", len(got), s, n, b.out.String())
	}
	return got
}

var listenLatency = regexp.MustCompile(`  latency (-?\d+)ms  `)

func TestListenPrintsEvents(t *testing.T) {
	t.Parallel()

	t.Run("CallV1", func(t *testing.T) {
		t.Parallel()
		b := listenSetup(t, receiverConfig{})
		accepted := time.Now().Add(-1500 * time.Millisecond)
		b.wantPost(listenPost{id: "evt_call", body: listenEnvelope("evt_call", "call.received", accepted, nil)}, http.StatusNoContent)
		line := b.wantLines("evt_call", 1)[0]
		want := regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{3}  call\.received  evt_call  acc_1  inbound \+14155550123 → \+14155550100 completed 357s  latency \d+ms  → 204$`)
		if !want.MatchString(line) {
			t.Fatalf("line = %q, want it to match %q", line, want)
		}
		ms, _ := strconv.Atoi(listenLatency.FindStringSubmatch(line)[1])
		if ms < 1500 || ms > 10_000 {
			t.Fatalf("latency = %dms, want about 1500ms (from the envelope's timestamp)", ms)
		}
		if strings.Contains(b.out.String(), "transcript") {
			t.Fatalf("data printed without --verbose:\n%s", b.out.String())
		}
	})

	t.Run("SMSV1a", func(t *testing.T) {
		t.Parallel()
		b := listenSetup(t, receiverConfig{})
		b.wantPost(listenPost{signer: listenSigner(t, listenPrivateKey), id: "evt_sms",
			body: listenEnvelope("evt_sms", "sms.received", time.Now(), nil)}, http.StatusNoContent)
		line := b.wantLines("evt_sms", 1)[0]
		if want := `sms.received  evt_sms  acc_1  +14155550123 → +14155550100 "Here's a photo of the damaged package, order 4821."  latency `; !strings.Contains(line, want) {
			t.Fatalf("line = %q, want it to contain %q", line, want)
		}
	})

	t.Run("SMSLongBody", func(t *testing.T) {
		t.Parallel()
		b := listenSetup(t, receiverConfig{})
		data := json.RawMessage(`{"from":{"number":"+14155550123"},"to":{"number":"+14155550100"},"body":"` +
			strings.Repeat("é", 50) + strings.Repeat("x", 50) + `\nmore"}`)
		b.wantPost(listenPost{id: "evt_long", body: listenEnvelope("evt_long", "sms.received", time.Now(), data)}, http.StatusNoContent)
		line := b.wantLines("evt_long", 1)[0]
		if want := `"` + strings.Repeat("é", 50) + strings.Repeat("x", 10) + `…"`; !strings.Contains(line, want) {
			t.Fatalf("line = %q, want the first 60 characters of the body: %q", line, want)
		}
	})

	t.Run("OtherType", func(t *testing.T) {
		t.Parallel()
		b := listenSetup(t, receiverConfig{})
		b.wantPost(listenPost{id: "evt_test", body: listenEnvelope("evt_test", "webhook.test", time.Now(), nil)}, http.StatusNoContent)
		line := b.wantLines("evt_test", 1)[0]
		if want := regexp.MustCompile(`  webhook\.test  evt_test  acc_1  latency \d+ms  → 204$`); !want.MatchString(line) {
			t.Fatalf("line = %q, want it to match %q", line, want)
		}
	})

	t.Run("Verbose", func(t *testing.T) {
		t.Parallel()
		b := listenSetup(t, receiverConfig{Verbose: true})
		b.wantPost(listenPost{id: "evt_v", body: listenEnvelope("evt_v", "call.received", time.Now(), nil),
			header: func(h http.Header) { h.Set("Authorization", "Bearer k-5f2c"); h.Set("X-Team", "on-call") }}, http.StatusNoContent)
		for _, want := range []string{"\n    header| Authorization: Bearer k-5f2c\n    header| X-Team: on-call\n", "\n    {\n      \"call_id\": \"call_01JDQ7Z3KX4M8N2P5R6S9T0V1W\",", "\n          \"speaker\": \"agent\","} {
			if !strings.Contains(b.out.String(), want) {
				t.Fatalf("output does not contain the indented data %q:\n%s", want, b.out.String())
			}
		}
	})
}

func TestListenRotation(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		signWith   []string
		verifyWith []string
		wantStatus int
	}{
		{"NewAndOldSignVerifyOld", []string{listenSecretNew, listenSecretOld}, []string{listenSecretOld}, http.StatusNoContent},
		{"OldSignsVerifyBoth", []string{listenSecretOld}, []string{listenSecretNew, listenSecretOld}, http.StatusNoContent},
		{"Ed25519Rotation", []string{listenPrivateKey, listenPrivateKeyOld}, []string{listenPublicKey}, http.StatusNoContent},
		{"MixedVerifier", []string{listenPrivateKey}, []string{listenSecretNew, listenSecretOld, listenPublicKey}, http.StatusNoContent},
		{"ErrRetiredSecret", []string{listenSecretOther}, []string{listenSecretNew, listenSecretOld}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := listenSetup(t, receiverConfig{Verifier: listenVerifier(t, tt.verifyWith...)})
			b.wantPost(listenPost{signer: listenSigner(t, tt.signWith...), id: "evt_rot",
				body: listenEnvelope("evt_rot", "call.received", time.Now(), nil)}, tt.wantStatus)
		})
	}
}

func TestListenRejects(t *testing.T) {
	t.Parallel()

	body := listenEnvelope("evt_bad", "call.received", time.Now(), nil)
	forged := listenSigner(t, listenSecretOther).Sign("evt_bad", time.Now().Unix(), body)
	tests := []struct {
		name       string
		post       listenPost
		method     string
		wantStatus int
		wantReason string
	}{
		{name: "BadSignature", post: listenPost{id: "evt_bad", body: body, header: func(h http.Header) {
			h.Set(webhook.HeaderSignature, forged)
		}}, wantStatus: 401, wantReason: `rejected  401 no matching signature  (webhook-id "evt_bad")`},
		{name: "TamperedBody", post: listenPost{id: "evt_bad", body: body, header: func(h http.Header) {
			h.Set(webhook.HeaderSignature, listenSigner(t, listenSecretNew).Sign("evt_bad", time.Now().Unix(), []byte("{}")))
		}}, wantStatus: 401, wantReason: "rejected  401 no matching signature"},
		{name: "Stale", post: listenPost{id: "evt_bad", body: body, age: 10 * time.Minute},
			wantStatus: 401, wantReason: "rejected  401 message too old: timestamp is 10m"},
		{name: "FromTheFuture", post: listenPost{id: "evt_bad", body: body, age: -time.Hour},
			wantStatus: 401, wantReason: "rejected  401 message too new"},
		{name: "MissingSignature", post: listenPost{id: "evt_bad", body: body, header: func(h http.Header) {
			h.Del(webhook.HeaderSignature)
		}}, wantStatus: 400, wantReason: "rejected  400 missing header: webhook-signature"},
		{name: "MalformedSignature", post: listenPost{id: "evt_bad", body: body, header: func(h http.Header) {
			h.Set(webhook.HeaderSignature, "v1,c2VjcmV0")
		}}, wantStatus: 400, wantReason: "rejected  400 invalid signature header: signature 1: v1 signature is 8 characters, want 44"},
		{name: "NotAnEnvelope", post: listenPost{id: "evt_bad", body: []byte(`{"hello":"world"}`)},
			wantStatus: 400, wantReason: "rejected  400 request body is not a webhook event envelope"},
		{name: "GET", method: http.MethodGet, wantStatus: 405, wantReason: "rejected  405 GET instead of POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := listenOpenStore(t, filepath.Join(t.TempDir(), "events.db"))
			b := listenSetup(t, receiverConfig{Store: st})
			var status int
			if tt.method != "" {
				resp, err := b.client.Get(b.url)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				status = resp.StatusCode
			} else {
				status, _ = b.post(tt.post)
			}
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d", status, tt.wantStatus)
			}
			out := b.out.String()
			if !strings.Contains(out, tt.wantReason) {
				t.Fatalf("output = %q, want a rejected line containing %q", out, tt.wantReason)
			}
			if strings.Count(out, "\n") != 1 {
				t.Fatalf("output = %q, want one line", out)
			}
			// Neither the secret nor a signature is printed.
			for _, secret := range []string{listenSecretNew, listenSecretOther, forged} {
				if k := strings.TrimPrefix(strings.TrimPrefix(secret, "whsec_"), "v1,"); strings.Contains(out, k[:12]) {
					t.Fatalf("output %q quotes key or signature material", out)
				}
			}
			if n, _ := st.Count(t.Context()); n != 0 {
				t.Fatalf("store has %d events, want 0", n)
			}
		})
	}
}

func TestListenDedup(t *testing.T) {
	t.Parallel()

	t.Run("SameIDTwice", func(t *testing.T) {
		t.Parallel()
		b := listenSetup(t, receiverConfig{})
		accepted := time.Now()
		body := listenEnvelope("evt_dup", "call.received", accepted, nil)
		b.wantPost(listenPost{id: "evt_dup", body: body}, http.StatusNoContent)
		// A retry: the same id and body, a new timestamp and signature.
		b.wantPost(listenPost{id: "evt_dup", body: body, ts: time.Now().Add(time.Second)}, http.StatusNoContent)
		b.wantLines("completed 357s", 1)
		dup := b.wantLines("duplicate of evt_dup, not processed again", 1)[0]
		if want := regexp.MustCompile(`  call\.received  evt_dup  acc_1  duplicate of evt_dup, not processed again  latency \d+ms  → 204$`); !want.MatchString(dup) {
			t.Fatalf("line = %q, want it to match %q", dup, want)
		}
		// Another id is processed.
		b.wantPost(listenPost{id: "evt_other", body: listenEnvelope("evt_other", "call.received", accepted, nil)}, http.StatusNoContent)
		b.wantLines("completed 357s", 2)
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		st := listenOpenStore(t, filepath.Join(dir, "events.db"))
		b := listenSetup(t, receiverConfig{Store: st,
			Exec: listenShellVar("D", dir) + `echo run >> "$D/runs"; sleep 0.2`})
		body := listenEnvelope("evt_race", "sms.received", time.Now(), nil)
		const n = 6
		var wg sync.WaitGroup
		statuses := make([]int, n)
		for i := range n {
			wg.Go(func() { statuses[i], _ = b.post(listenPost{id: "evt_race", body: body}) })
		}
		wg.Wait()
		for i, s := range statuses {
			if s != http.StatusNoContent {
				t.Fatalf("request %d: status %d, want 204", i, s)
			}
		}
		if runs := listenReadFile(t, filepath.Join(dir, "runs")); runs != "run\n" {
			t.Fatalf("exec ran %d times, want once", strings.Count(runs, "run"))
		}
		b.wantLines("duplicate of evt_race", n-1)
		if got := listenRows(t, st); got != 1 {
			t.Fatalf("store has %d events, want 1", got)
		}
	})

	t.Run("BoundedMemory", func(t *testing.T) {
		t.Parallel()
		b := listenSetup(t, receiverConfig{DedupSize: 2})
		for _, id := range []string{"evt_1", "evt_2", "evt_3", "evt_1"} {
			b.wantPost(listenPost{id: id, body: listenEnvelope(id, "call.received", time.Now(), nil)}, http.StatusNoContent)
		}
		// evt_1 was forgotten when evt_3 came; without --store it is
		// processed again.
		b.wantLines("completed 357s", 4)
		b.rc.mu.Lock()
		got := b.rc.seen.Len()
		b.rc.mu.Unlock()
		if got != 2 {
			t.Fatalf("remembered ids = %d, want 2", got)
		}
	})
}

func TestListenRecentIDs(t *testing.T) {
	t.Parallel()
	s := newRecentIDs(2)
	s.Add("a")
	s.Add("b")
	if !s.Contains("a") { // a is now the most recent
		t.Fatal("Contains(a) = false, want true")
	}
	s.Add("c") // drops b
	for id, want := range map[string]bool{"a": true, "b": false, "c": true} {
		if got := s.Contains(id); got != want {
			t.Errorf("Contains(%s) = %v, want %v", id, got, want)
		}
	}
	if s.Len() != 2 {
		t.Fatalf("Len() = %d, want 2", s.Len())
	}
}

func TestListenStatus(t *testing.T) {
	t.Parallel()

	t.Run("500", func(t *testing.T) {
		t.Parallel()
		st := listenOpenStore(t, filepath.Join(t.TempDir(), "events.db"))
		b := listenSetup(t, receiverConfig{Status: 500, Store: st})
		body := listenEnvelope("evt_s", "call.received", time.Now(), nil)
		for range 2 { // the first attempt and a retry
			if got := b.wantPost(listenPost{id: "evt_s", body: body}, 500); got != "not processed: --status 500\n" {
				t.Fatalf("answer body = %q", got)
			}
		}
		b.wantLines("completed 357s  latency", 2)
		b.wantLines("→ 500 (--status 500), not processed", 2)
		b.wantLines("duplicate", 0)
		if got := listenRows(t, st); got != 0 {
			t.Fatalf("store has %d events, want 0", got)
		}
	})

	t.Run("410", func(t *testing.T) {
		t.Parallel()
		b := listenSetup(t, receiverConfig{Status: 410})
		b.wantPost(listenPost{id: "evt_gone", body: listenEnvelope("evt_gone", "sms.received", time.Now(), nil)}, 410)
		b.wantLines("→ 410 (--status 410), not processed", 1)
	})

	t.Run("200", func(t *testing.T) {
		t.Parallel()
		b := listenSetup(t, receiverConfig{Status: 200})
		body := listenEnvelope("evt_ok", "sms.received", time.Now(), nil)
		if got := b.wantPost(listenPost{id: "evt_ok", body: body}, 200); got != "processed\n" {
			t.Fatalf("answer body = %q, want %q", got, "processed\n")
		}
		if got := b.wantPost(listenPost{id: "evt_ok", body: body}, 200); got != "duplicate, not processed again\n" {
			t.Fatalf("answer body = %q", got)
		}
	})

	t.Run("RejectedStillRejected", func(t *testing.T) {
		t.Parallel()
		b := listenSetup(t, receiverConfig{Status: 500})
		b.wantPost(listenPost{signer: listenSigner(t, listenSecretOther), id: "evt_x",
			body: listenEnvelope("evt_x", "sms.received", time.Now(), nil)}, 401)
	})
}

func TestListenDelay(t *testing.T) {
	t.Parallel()

	t.Run("AnswersLate", func(t *testing.T) {
		t.Parallel()
		b := listenSetup(t, receiverConfig{Delay: 300 * time.Millisecond})
		start := time.Now()
		b.wantPost(listenPost{id: "evt_slow", body: listenEnvelope("evt_slow", "call.received", time.Now(), nil)}, http.StatusNoContent)
		if took := time.Since(start); took < 300*time.Millisecond {
			t.Fatalf("answered after %v, want at least 300ms", took)
		}
		b.wantLines("→ 204 in 300ms", 1)
	})

	t.Run("SenderGivesUp", func(t *testing.T) {
		t.Parallel()
		b := listenSetup(t, receiverConfig{Delay: time.Second})
		impatient := &http.Client{Transport: &http.Transport{}, Timeout: 100 * time.Millisecond}
		defer impatient.CloseIdleConnections()
		body := listenEnvelope("evt_late", "call.received", time.Now(), nil)
		if resp, err := b.do(listenPost{id: "evt_late", body: body, client: impatient}); err == nil {
			resp.Body.Close()
			t.Fatalf("POST answered %d before the delay, want a client timeout", resp.StatusCode)
		}
		b.out.waitFor(t, regexp.MustCompile(`evt_late  hookd closed the connection after \S+, before the answer`))
		// The event was processed before the delay: the retry is a
		// duplicate.
		b.wantPost(listenPost{id: "evt_late", body: body}, http.StatusNoContent)
		b.wantLines("duplicate of evt_late", 1)
	})
}

func TestListenStore(t *testing.T) {
	t.Parallel()

	path := filepath.Join(t.TempDir(), "calls.db")
	st := listenOpenStore(t, path)
	b := listenSetup(t, receiverConfig{Store: st})
	accepted := time.Date(2026, 11, 27, 12, 30, 0, 123e6, time.UTC)
	call := listenEnvelope("evt_c1", "call.received", accepted, nil)
	sms := listenEnvelope("evt_s1", "sms.received", accepted, nil)
	b.wantPost(listenPost{id: "evt_c1", body: call}, http.StatusNoContent)
	b.wantPost(listenPost{id: "evt_s1", body: sms}, http.StatusNoContent)
	b.wantPost(listenPost{id: "evt_c1", body: call}, http.StatusNoContent)
	b.wantLines("duplicate of evt_c1", 1)
	if got := listenRows(t, st); got != 2 {
		t.Fatalf("store has %d events, want 2", got)
	}

	var event, account, acceptedAt, receivedAt, data string
	err := st.db.QueryRow(`SELECT event, account_id, accepted_at, received_at, data FROM events WHERE webhook_id = 'evt_c1'`).
		Scan(&event, &account, &acceptedAt, &receivedAt, &data)
	if err != nil {
		t.Fatal(err)
	}
	if event != "call.received" || account != "acc_1" || acceptedAt != "2026-11-27T12:30:00.123Z" || data != string(listenExamples["call.received"]) {
		t.Fatalf("row = %q %q %q %q, want call.received acc_1 2026-11-27T12:30:00.123Z and the data as sent", event, account, acceptedAt, data)
	}
	if _, err := time.Parse(listenStoreTime, receivedAt); err != nil {
		t.Fatalf("received_at = %q: %v", receivedAt, err)
	}

	var direction, from, to, status, summary string
	var duration int
	err = st.db.QueryRow(`SELECT direction, from_number, to_number, status, duration_seconds, summary FROM calls WHERE webhook_id = 'evt_c1'`).
		Scan(&direction, &from, &to, &status, &duration, &summary)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(direction, from, to, status, duration); got != "inbound+14155550123+14155550100completed357" {
		t.Fatalf("calls row = %s", got)
	}
	var smsBody string
	var media int
	if err := st.db.QueryRow(`SELECT from_number, body, media_count FROM sms`).Scan(&from, &smsBody, &media); err != nil {
		t.Fatal(err)
	}
	if from != "+14155550123" || !strings.HasPrefix(smsBody, "Here's a photo") || media != 1 {
		t.Fatalf("sms row = %q %q %d", from, smsBody, media)
	}

	// After a restart, with an empty memory, a retry is still a duplicate.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2 := listenOpenStore(t, path)
	b2 := listenSetup(t, receiverConfig{Store: st2})
	b2.wantPost(listenPost{id: "evt_c1", body: call}, http.StatusNoContent)
	b2.wantLines("duplicate of evt_c1, not processed again", 1)
	if got := listenRows(t, st2); got != 2 {
		t.Fatalf("store has %d events after the restart, want 2", got)
	}
	// The store also covers ids the bounded memory forgot.
	b3 := listenSetup(t, receiverConfig{Store: st2, DedupSize: 1})
	for _, id := range []string{"evt_c2", "evt_c3", "evt_c2"} {
		b3.wantPost(listenPost{id: id, body: listenEnvelope(id, "call.received", accepted, nil)}, http.StatusNoContent)
	}
	b3.wantLines("duplicate of evt_c2", 1)
}

func TestListenStoreRefusesOtherDatabases(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE events (id INTEGER PRIMARY KEY, body BLOB)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	st, err := openListenStore(t.Context(), path)
	if err == nil {
		st.Close()
		t.Fatal("openListenStore() = nil error, want one for a foreign events table")
	}
	if !strings.Contains(err.Error(), "not hookd listen's") {
		t.Fatalf("openListenStore() error = %v", err)
	}
}

func TestListenExec(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	exitFile := filepath.Join(dir, "exit")
	listenWriteFile(t, exitFile, "1")
	st := listenOpenStore(t, filepath.Join(dir, "events.db"))
	b := listenSetup(t, receiverConfig{Store: st, Exec: listenShellVar("D", dir) +
		`cat > "$D/stdin.json"; printf '%s %s\n' "$WEBHOOK_ID" "$WEBHOOK_EVENT" > "$D/env"; echo run >> "$D/runs"; ` +
		`echo "handling $WEBHOOK_ID"; exit "$(cat "$D/exit")"`})
	body := listenEnvelope("evt_x", "call.received", time.Now(), nil)

	// exit 1: 500, and the event is not processed.
	if got := b.wantPost(listenPost{id: "evt_x", body: body}, 500); got != "not processed: exec exited with status 1\n" {
		t.Fatalf("answer body = %q", got)
	}
	if got := listenReadFile(t, filepath.Join(dir, "stdin.json")); got != string(body) {
		t.Fatalf("stdin = %q, want the envelope %q", got, body)
	}
	if got := listenReadFile(t, filepath.Join(dir, "env")); got != "evt_x call.received\n" {
		t.Fatalf("WEBHOOK_ID WEBHOOK_EVENT = %q", got)
	}
	b.wantLines("→ 500, not processed: exec exited with status 1; hookd will retry", 1)
	b.wantLines("    exec| handling evt_x", 1)
	if got := listenRows(t, st); got != 0 {
		t.Fatalf("store has %d events after a failed exec, want 0", got)
	}

	// The retry succeeds: 204, processed and kept.
	listenWriteFile(t, exitFile, "0")
	b.wantPost(listenPost{id: "evt_x", body: body}, http.StatusNoContent)
	if got := listenRows(t, st); got != 1 {
		t.Fatalf("store has %d events, want 1", got)
	}
	b.wantLines("completed 357s  latency", 2)

	// Another retry is a duplicate: exec does not run again.
	b.wantPost(listenPost{id: "evt_x", body: body}, http.StatusNoContent)
	b.wantLines("duplicate of evt_x", 1)
	if got := listenReadFile(t, filepath.Join(dir, "runs")); got != "run\nrun\n" {
		t.Fatalf("exec ran %d times, want 2", strings.Count(got, "run"))
	}
}

func TestListenExecTimeout(t *testing.T) {
	t.Parallel()
	st := listenOpenStore(t, filepath.Join(t.TempDir(), "events.db"))
	b := listenSetup(t, receiverConfig{Store: st, Exec: "echo started; sleep 30", ExecTimeout: 200 * time.Millisecond})
	start := time.Now()
	b.wantPost(listenPost{id: "evt_t", body: listenEnvelope("evt_t", "sms.received", time.Now(), nil)}, 500)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("answered after %v, want soon after the 200ms exec timeout", took)
	}
	b.wantLines("→ 500, not processed: exec timed out after 200ms (--exec-timeout); hookd will retry", 1)
	b.wantLines("exec| started", 1)
	if got := listenRows(t, st); got != 0 {
		t.Fatalf("store has %d events, want 0", got)
	}
}

var listenStartLine = regexp.MustCompile(`verifying webhooks on (http://\S+/)`)

// TestListenRun runs the whole command as a user would.
func TestListenRun(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "calls.db")
	out, errOut := &listenBuffer{}, &listenBuffer{}
	env := Env{Stdout: out, Stderr: errOut, Stdin: strings.NewReader(""), Getenv: func(name string) string {
		return map[string]string{
			"HOOKD_LISTEN_PUBLIC_KEY": listenPublicKey,
			"HOOKD_LISTEN_ADDR":       "127.0.0.1:0",
			"HOOKD_ADDR":              "127.0.0.1:1", // serve's, not listen's
		}[name]
	}}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"listen", "--secret", listenSecretNew + "," + listenSecretOld,
			"--store", path, "--verbose"}, env)
	}()
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; time.Sleep(5 * time.Millisecond) {
		select {
		case code := <-done:
			t.Fatalf("listen exited with %d:\n%s%s", code, out.String(), errOut.String())
		default:
		}
		if m := listenStartLine.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("listen did not print its address within 10s:\n%s", out.String())
		}
	}
	for _, k := range []string{listenSecretNew, listenSecretOld, listenPublicKey} {
		if strings.Contains(out.String(), k[6:]) {
			t.Fatalf("banner shows a key:\n%s", out.String())
		}
	}
	if want := "keys: 2 secrets (v1), 1 public key (v1a)"; !strings.Contains(out.String(), want) {
		t.Fatalf("banner does not say %q:\n%s", want, out.String())
	}

	b := &listenBundle{t: t, url: url, out: out, client: &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}}
	defer b.client.CloseIdleConnections()
	// Signed with the old secret of the rotation, and with the private
	// half of HOOKD_LISTEN_PUBLIC_KEY.
	b.wantPost(listenPost{signer: listenSigner(t, listenSecretOld), id: "evt_run1",
		body: listenEnvelope("evt_run1", "call.received", time.Now(), nil)}, http.StatusNoContent)
	b.wantPost(listenPost{signer: listenSigner(t, listenPrivateKey), id: "evt_run2",
		body: listenEnvelope("evt_run2", "sms.received", time.Now(), nil)}, http.StatusNoContent)
	b.out.waitFor(t, regexp.MustCompile(`call\.received  evt_run1  acc_1  inbound \+14155550123 → \+14155550100 completed 357s  latency \d+ms  → 204\n    \{\n      "call_id"`))
	b.out.waitFor(t, regexp.MustCompile(`sms\.received  evt_run2  acc_1  \+14155550123 → \+14155550100 "Here's a photo`))

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("listen exited with %d, want 0:\n%s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("listen did not stop within 10s of its context ending")
	}
	st := listenOpenStore(t, path)
	if got := listenRows(t, st); got != 2 {
		t.Fatalf("store has %d events, want 2", got)
	}
}

func TestListenRunFlagErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantErr  string
		wantOut  string
	}{
		{name: "NoKey", args: nil, wantCode: 1, wantErr: "--secret whsec_… or --public-key whpk_… is required"},
		{name: "BadSecret", args: []string{"--secret", "whsec_%%%%notbase64"}, wantCode: 1, wantErr: "invalid key"},
		{name: "PrivateKey", args: []string{"--public-key", listenPrivateKey}, wantCode: 1, wantErr: "private key"},
		{name: "Status", args: []string{"--secret", listenSecretNew, "--status", "99"}, wantCode: 1, wantErr: "--status 99"},
		{name: "StatusFromEnv", env: map[string]string{"HOOKD_LISTEN_SECRET": listenSecretNew, "HOOKD_LISTEN_STATUS": "600"}, wantCode: 1, wantErr: "--status 600"},
		{name: "ExecTimeout", args: []string{"--secret", listenSecretNew, "--exec-timeout", "0s"}, wantCode: 1, wantErr: "--exec-timeout"},
		{name: "UnknownFlag", args: []string{"--nope"}, wantCode: 2, wantErr: "unknown flag --nope\nRun 'hookd listen -h' to list its flags.\n"},
		{name: "BadDuration", args: []string{"--exec-timeout", "5"}, wantCode: 2, wantErr: `--exec-timeout "5": a duration needs a unit`},
		{name: "Help", args: []string{"-h"}, wantCode: 0, wantOut: "  --exec string   HOOKD_LISTEN_EXEC\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut listenBuffer
			code := Run(t.Context(), append([]string{"listen"}, tt.args...), Env{Stdout: &out, Stderr: &errOut,
				Stdin: strings.NewReader(""), Getenv: func(k string) string { return tt.env[k] }})
			if code != tt.wantCode || !strings.Contains(errOut.String(), tt.wantErr) || !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("Run = %d, stdout %q, stderr %q; want %d, %q and %q", code, out.String(), errOut.String(), tt.wantCode, tt.wantOut, tt.wantErr)
			}
			if strings.Contains(errOut.String(), "notbase64") {
				t.Fatalf("stderr quotes the key: %q", errOut.String())
			}
		})
	}
}

// The openssl snippet in docs/receiving.md is testdata/listen_verify_openssl.sh.
const (
	listenOpensslSnippet = "testdata/listen_verify_openssl.sh"
	listenOpensslExample = "testdata/listen_verify_openssl_example.sh"
	listenReceivingDoc   = "../../docs/receiving.md"
)

// TestOpensslSnippet runs the documented shell verification against
// signatures made by webhook.Signer.
func TestOpensslSnippet(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"sh", "openssl", "od", "tr", "date"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: %v", tool, err)
		}
	}
	snippet := listenReadFile(t, listenOpensslSnippet)
	body := listenEnvelope("evt_sh", "sms.received", time.Now(), nil)
	now := time.Now().Unix()
	// run runs the snippet after prelude, in a directory with body.json.
	run := func(t *testing.T, prelude string, vars map[string]string, body []byte) (string, error) {
		t.Helper()
		dir := t.TempDir()
		listenWriteFile(t, filepath.Join(dir, "body.json"), string(body))
		cmd := exec.Command("sh", "-c", prelude+"\n"+snippet)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	tests := []struct {
		name      string
		secret    string   // what the receiver knows
		signWith  []string // what hookd signs with
		ts        int64
		body      []byte // what arrives; nil: what was signed
		wantValid bool
	}{
		{name: "OK", secret: listenSecretNew, signWith: []string{listenSecretNew}, ts: now, wantValid: true},
		{name: "OKRotationOldSecret", secret: listenSecretOld, signWith: []string{listenSecretNew, listenSecretOld}, ts: now, wantValid: true},
		{name: "OKRotationNewSecret", secret: listenSecretNew, signWith: []string{listenSecretNew, listenSecretOld}, ts: now, wantValid: true},
		{name: "OKLongSecret", secret: "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 64)),
			signWith: []string{"whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 64))}, ts: now, wantValid: true},
		{name: "ErrWrongSecret", secret: listenSecretOther, signWith: []string{listenSecretNew, listenSecretOld}, ts: now},
		{name: "ErrTampered", secret: listenSecretNew, signWith: []string{listenSecretNew}, ts: now, body: append(bytes.Clone(body), ' ')},
		{name: "ErrStale", secret: listenSecretNew, signWith: []string{listenSecretNew}, ts: now - 600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.body
			if got == nil {
				got = body
			}
			sig := listenSigner(t, tt.signWith...).Sign("evt_sh", tt.ts, body)
			out, err := run(t, "", map[string]string{"WEBHOOK_SECRET": tt.secret, "WEBHOOK_ID": "evt_sh",
				"WEBHOOK_TIMESTAMP": strconv.FormatInt(tt.ts, 10), "WEBHOOK_SIGNATURE": sig}, got)
			want := "signature valid: no\n"
			if tt.wantValid {
				want = "signature valid: yes\n"
			}
			if out != want || (err == nil) != tt.wantValid {
				t.Fatalf("snippet printed %q, err %v; want %q", out, err, want)
			}
		})
	}

	// The worked example of the doc: its signature is what webhook.Signer
	// makes, and the snippet accepts it.
	t.Run("WorkedExample", func(t *testing.T) {
		t.Parallel()
		example := listenReadFile(t, listenOpensslExample)
		vars := listenShellAssignments(t, example)
		bodyRe := regexp.MustCompile(`printf '%s' '([^']*)' > body\.json`)
		m := bodyRe.FindStringSubmatch(example)
		if m == nil {
			t.Fatalf("%s does not write body.json with printf", listenOpensslExample)
		}
		ts, err := strconv.ParseInt(vars["WEBHOOK_TIMESTAMP"], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := vars["WEBHOOK_SIGNATURE"], listenSigner(t, vars["WEBHOOK_SECRET"]).Sign(vars["WEBHOOK_ID"], ts, []byte(m[1])); got != want {
			t.Fatalf("example signature = %s, webhook.Signer makes %s", got, want)
		}
		if err := listenVerifier(t, vars["WEBHOOK_SECRET"]).VerifyValues(vars["WEBHOOK_ID"], vars["WEBHOOK_TIMESTAMP"], vars["WEBHOOK_SIGNATURE"], []byte(m[1])); err != nil &&
			!errors.Is(err, webhook.ErrTooOld) {
			t.Fatalf("Verify(example) = %v", err)
		}
		out, err := run(t, example, nil, nil)
		if out != "signature valid: yes\n" || err != nil {
			t.Fatalf("example + snippet printed %q, err %v; want %q", out, err, "signature valid: yes\n")
		}
	})
}

// TestReceivingDoc checks that docs/receiving.md quotes the tested shell
// snippet and worked example verbatim, and the key in hex they compute.
func TestReceivingDoc(t *testing.T) {
	t.Parallel()
	doc := listenReadFile(t, listenReceivingDoc)
	for _, file := range []string{listenOpensslSnippet, listenOpensslExample} {
		quoted := "```sh\n" + listenReadFile(t, file) + "```\n"
		if !strings.Contains(doc, quoted) {
			t.Errorf("%s does not quote %s verbatim in a sh block:\n%s", listenReceivingDoc, file, quoted)
		}
	}
	vars := listenShellAssignments(t, listenReadFile(t, listenOpensslExample))
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(vars["WEBHOOK_SECRET"], "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc, hex.EncodeToString(key)) {
		t.Errorf("%s does not show the example key in hex, %x", listenReceivingDoc, key)
	}
	// The schema the doc shows is the one --store creates.
	for _, line := range strings.Split(strings.TrimSpace(listenSchema), "\n") {
		if strings.HasPrefix(line, "PRAGMA") {
			continue
		}
		if !strings.Contains(doc, line+"\n") {
			t.Errorf("%s does not show the --store schema line %q", listenReceivingDoc, line)
		}
	}
}

// listenShellAssignments returns the NAME='value' lines of a script.
func listenShellAssignments(t *testing.T, script string) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^([A-Z_]+)='([^']*)'$`).FindAllStringSubmatch(script, -1) {
		vars[m[1]] = m[2]
	}
	for _, k := range []string{"WEBHOOK_SECRET", "WEBHOOK_ID", "WEBHOOK_TIMESTAMP", "WEBHOOK_SIGNATURE"} {
		if vars[k] == "" {
			t.Fatalf("script does not set %s='…'", k)
		}
	}
	return vars
}

// listenShellVar returns a shell assignment of value to name, quoted.
func listenShellVar(name, value string) string {
	return name + "='" + strings.ReplaceAll(value, "'", `'\''`) + "'; "
}

func listenOpenStore(t *testing.T, path string) *listenStore {
	t.Helper()
	st, err := openListenStore(t.Context(), path)
	if err != nil {
		t.Fatalf("openListenStore() = %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func listenRows(t *testing.T, st *listenStore) int {
	t.Helper()
	n, err := st.Count(t.Context())
	if err != nil {
		t.Fatalf("Count() = %v", err)
	}
	return n
}

func listenReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func listenWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
