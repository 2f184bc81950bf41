package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/sqlite"
)

// benchStore is a store with one account and fanOut endpoints.
func benchStore(b *testing.B, fanOut int) (*sqlite.Store, *hook.Account) {
	b.Helper()
	s := mustOpen(b, filepath.Join(b.TempDir(), "hookd.db"))
	a, _ := seed(b, s, fanOut)
	return s, a
}

var benchBody = []byte(`{"message_id":"msg_01","from":{"number":"+14155550123"},"to":{"number":"+14155550100"},` +
	`"received_at":"2026-11-27T12:30:00.000Z","body":"Hi, can you call me back about my invoice? Thanks!","media":[]}`)

func benchEvent(a *hook.Account) *hook.Event { return newEvent(a, time.Now().UTC()) }

// BenchmarkEventCreate accepts events (each fanned out to 5 endpoints)
// from many goroutines at once, as the API does: the writer groups them
// into shared, fsync'd commits.
func BenchmarkEventCreate(b *testing.B) {
	s, a := benchStore(b, 5)
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.EventCreate(context.Background(), &store.EventCreateParams{Event: benchEvent(a)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkClaimComplete claims due deliveries in batches of 256 and
// records a success for each: the delivery side of the writer's work.
// One op is one delivery.
func BenchmarkClaimComplete(b *testing.B) {
	s, a := benchStore(b, 5)
	ctx := context.Background()
	for created := 0; created < b.N; created += 5 {
		if _, err := s.EventCreate(ctx, &store.EventCreateParams{Event: benchEvent(a)}); err != nil {
			b.Fatal(err)
		}
	}
	headers := map[string]string{"content-type": "application/json", "user-agent": "hookd/bench",
		"webhook-id": "evt_x", "webhook-timestamp": "1795800000", "webhook-signature": "v1,[redacted]"}
	b.ResetTimer()
	for done := 0; done < b.N; {
		now := time.Now()
		claims, err := s.DeliveryClaim(ctx, &store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 256})
		if err != nil {
			b.Fatal(err)
		}
		if len(claims) == 0 {
			b.Fatalf("nothing to claim after %d of %d", done, b.N)
		}
		results := make([]*hook.Result, len(claims))
		for i, c := range claims {
			results[i] = &hook.Result{DeliveryID: c.Delivery.ID, EndpointID: c.Delivery.EndpointID, Lease: c.Lease, OK: true,
				Attempt: hook.Attempt{ID: hook.NewIDAt(hook.PrefixAttempt, now), Trigger: c.Delivery.Trigger, StartedAt: now,
					Duration: time.Millisecond, StatusCode: 200, RequestHeaders: headers}}
		}
		if _, err := s.DeliveryComplete(ctx, &store.DeliveryCompleteParams{Results: results, Now: now, DisableAfter: 3}); err != nil {
			b.Fatal(err)
		}
		done += len(claims)
	}
}
