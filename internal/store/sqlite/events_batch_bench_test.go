package sqlite_test

import (
	"context"
	"testing"

	"github.com/hookd/hookd/internal/store"
)

// BenchmarkEventCreateBatch stores events, fan-out 5, in batches of 100:
// compare its ns/event with BenchmarkEventCreate's ns/op (one event per
// call, 16 callers sharing group commits).
func BenchmarkEventCreateBatch(b *testing.B) {
	s, a := benchStore(b, 5)
	const size = 100
	b.ResetTimer()
	for b.Loop() {
		items := make([]*store.EventCreateParams, size)
		for i := range items {
			items[i] = &store.EventCreateParams{Event: benchEvent(a)}
		}
		if _, err := s.EventCreateBatch(context.Background(), items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/event")
}
