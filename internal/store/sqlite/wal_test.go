package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// Under steady writes the WAL would never start over on its own: a
// commit restarts it only when it is wholly copied back, and the next
// commit always comes first. The checkpointer makes room for that, so
// the log stays near walRestartPages however long the writes go on.
func TestWALStartsOverUnderSteadyWrites(t *testing.T) {
	defer func(n int) { walRestartPages = n }(walRestartPages)
	walRestartPages = 64
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "hookd.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	a := &hook.Account{ID: hook.NewIDAt(hook.PrefixAccount, now), Name: "Acme", CreatedAt: now}
	if err := s.AccountCreate(ctx, a, []byte("token hash")); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		e := &hook.Endpoint{ID: hook.NewIDAt(hook.PrefixEndpoint, now), AccountID: a.ID, URL: "https://example.com/hook",
			EventTypes: []string{"*"}, Signing: hook.SigningHMAC, Enabled: true, CreatedAt: now, UpdatedAt: now,
			Keys: []hook.Key{{Value: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: now}}}
		if err := s.EndpointCreate(ctx, e); err != nil {
			t.Fatal(err)
		}
	}

	// Writers accept events without pause and report every 20th.
	stop := make(chan struct{})
	progress := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 1; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				at := time.Now()
				id := hook.NewIDAt(hook.PrefixEvent, at)
				_, err := s.EventCreate(ctx, &store.EventCreateParams{Event: &hook.Event{ID: id, AccountID: a.ID,
					Type: "sms.received", CreatedAt: at, Body: hook.EncodeEnvelope(id, "sms.received", at, a.ID, []byte(`{"n":1}`))}})
				if err != nil {
					t.Error(err)
					return
				}
				if n%20 == 0 {
					select {
					case progress <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	// The log starts over at the commit after a pass that found it past
	// walRestartPages, so a pass finds at most that plus what was
	// committed since the one before. Without the restart it grows by
	// that much every pass.
	var sizes []int
	for range 100 {
		<-progress // some commits since the last pass
		sizes = append(sizes, s.checkpoint())
	}
	close(stop)
	wg.Wait()
	t.Logf("WAL pages at each pass: %v", sizes)
	if late := slices.Max(sizes[50:]); late > 2000 {
		t.Errorf("the WAL grew to %d pages under steady writes; it should start over past %d", late, walRestartPages)
	}
}
