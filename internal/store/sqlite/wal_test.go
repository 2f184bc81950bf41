package sqlite_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/store"
)

// Under steady writes the WAL would never start over on its own: a
// commit restarts it only when it is wholly copied back, and the next
// commit always comes first. The checkpointer makes room for that, so
// the log stays near the restart size however long the writes go on.
func TestWALStartsOverUnderSteadyWrites(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookd.db"))
	s.SetWALRestart(64)
	a, _ := seed(t, s, 5)

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
				_, err := s.EventCreate(ctx, &store.EventCreateParams{Event: newEvent(a, time.Now().UTC())})
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
	// the restart size, so a pass finds at most that plus what was
	// committed since the one before. Without the restart it grows by
	// that much every pass.
	var sizes []int
	for range 100 {
		<-progress // some commits since the last pass
		sizes = append(sizes, s.Checkpoint())
	}
	close(stop)
	wg.Wait()
	t.Logf("WAL pages at each pass: %v", sizes)
	if late := slices.Max(sizes[50:]); late > 2000 {
		t.Errorf("the WAL grew to %d pages under steady writes; it should start over past 64", late)
	}
}
