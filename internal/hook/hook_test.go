package hook

import (
	"encoding/json"
	"testing"
	"time"
)

func TestEncodeEnvelope(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 12, 30, 0, 123456789, time.FixedZone("CET", 3600))
	got := EncodeEnvelope("evt_01", "call.received", at, "acc_\"x\"", []byte(`{"n":1}`))
	want := `{"id":"evt_01","event":"call.received","timestamp":"2026-11-27T11:30:00.123Z","account_id":"acc_\"x\"","data":{"n":1}}`
	if string(got) != want {
		t.Errorf("EncodeEnvelope = %s\nwant            %s", got, want)
	}
	var env struct {
		ID        string          `json:"id"`
		Event     string          `json:"event"`
		Timestamp string          `json:"timestamp"`
		AccountID string          `json:"account_id"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(got, &env); err != nil || env.AccountID != `acc_"x"` {
		t.Errorf("envelope does not decode: %v %+v", err, env)
	}
}

func TestNewIDSortsInOrder(t *testing.T) {
	t.Parallel()
	prev := NewID(PrefixEvent)
	for range 10000 {
		id := NewID(PrefixEvent)
		if id <= prev || !ValidID(PrefixEvent, id) {
			t.Fatalf("NewID = %s after %s: not increasing or not valid", id, prev)
		}
		prev = id
	}
	for _, bad := range []string{"", "evt_", "evt_01JD", "dlv_01M8EWP0E0Q6H3F31G6CC3250W", "evt_01M8EWP0E0Q6H3F31G6CC3250I", "evt_81M8EWP0E0Q6H3F31G6CC3250W"} {
		if ValidID(PrefixEvent, bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func BenchmarkEncodeEnvelope(b *testing.B) {
	data := make([]byte, 1500)
	for i := range data {
		data[i] = 'a'
	}
	data[0], data[len(data)-1] = '"', '"'
	at := time.Now()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		EncodeEnvelope("evt_01M8EWP0E0Q6H3F31G6CC3250W", "call.received", at, "acc_01M8EWP0E0Q6H3F31G6CC3250W", data)
	}
}
