package httpapi

import (
	"encoding/json"
	"testing"
)

// BenchmarkDecodeEvent measures reading a POST /v1/events body the way
// submitEvent does.
func BenchmarkDecodeEvent(b *testing.B) {
	body := []byte(`{"account_id":"acc_01M8FCWVG1TDH415P2VFMHP4H8","event":"call.received","idempotency_key":"k-123",
		"data":{"call_id":"call_123","direction":"inbound","from":"+14155550123","to":"+14155550100","status":"completed",
		"duration_seconds":357,"started_at":"2026-11-27T10:00:00Z","ended_at":"2026-11-27T10:05:57Z",
		"transcript":{"language":"en","text":"Hello, this is a sample transcript of a short call about an order."}}}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var in struct {
			AccountID      string          `json:"account_id"`
			Event          string          `json:"event"`
			Data           json.RawMessage `json:"data"`
			IdempotencyKey *string         `json:"idempotency_key"`
		}
		if err := decodeObject(body, &in); err != nil {
			b.Fatal(err)
		}
	}
}
