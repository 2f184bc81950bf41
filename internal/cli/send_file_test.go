package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestReadEventLines(t *testing.T) {
	t.Parallel()
	in := "{\"account_id\":\"acc_1\",\"event\":\"sms.received\",\"data\":{\"a\":1},\"idempotency_key\":\"k\"}\r\n\n  \n" +
		`{"account_id":"acc_2","event":"call.received","data":{}}` // no final newline
	evs, lines, err := readEventLines(strings.NewReader(in))
	if err != nil || len(evs) != 2 || lines[0] != 1 || lines[1] != 4 {
		t.Fatalf("readEventLines = %d events at lines %v, %v; want 2 at lines 1 and 4", len(evs), lines, err)
	}
	if evs[0].AccountID != "acc_1" || evs[0].IdempotencyKey != "k" || evs[1].Event != "call.received" {
		t.Errorf("events = %+v", evs)
	}
	for _, tc := range []struct{ in, want string }{
		{"{}\n{\"acount_id\":\"x\"}\n", "line 2: not an event object"},
		{"{} {}\n", "line 1: more than one JSON value"},
		{"[1]\n", "line 1: not an event object"},
	} {
		if _, _, err := readEventLines(strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("readEventLines(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

// FuzzReadEventLines: any input gives events on non-blank lines in order,
// or an error naming a line; never a panic.
func FuzzReadEventLines(f *testing.F) {
	f.Add([]byte("{\"account_id\":\"a\",\"event\":\"e\",\"data\":{}}\n\n{}"))
	f.Add([]byte("{} {}\n[\n\"x\"\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		evs, lines, err := readEventLines(bytes.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error %q does not name a line", err)
			}
			return
		}
		if len(evs) != len(lines) {
			t.Fatalf("%d events, %d line numbers", len(evs), len(lines))
		}
		for i := 1; i < len(lines); i++ {
			if lines[i] <= lines[i-1] {
				t.Fatalf("line numbers out of order: %v", lines)
			}
		}
		if n := bytes.Count(in, []byte("\n")) + 1; len(lines) > 0 && lines[len(lines)-1] > n {
			t.Fatalf("line %d of a %d-line input", lines[len(lines)-1], n)
		}
	})
}
