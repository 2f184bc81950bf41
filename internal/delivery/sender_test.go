package delivery

import (
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
