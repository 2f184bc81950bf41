package metrics_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/metrics"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/sqlite"
)

// counting is a real store that counts the backlog readings made of it.
type counting struct {
	*sqlite.Store
	readings atomic.Int64
}

func (c *counting) DeliveryBacklog(ctx context.Context, p *store.BacklogParams) (*store.Backlog, error) {
	c.readings.Add(1)
	return c.Store.DeliveryBacklog(ctx, p)
}

func TestStoreGauges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	src := &counting{Store: st}
	a := &hook.Account{ID: hook.NewIDAt(hook.PrefixAccount, t0), Name: "Acme", CreatedAt: t0}
	if err := st.AccountCreate(ctx, a, []byte("0123456789abcdef0123456789abcdef")); err != nil {
		t.Fatal(err)
	}
	for i, on := range []bool{true, true, false} {
		e := &hook.Endpoint{ID: hook.NewIDAt(hook.PrefixEndpoint, t0), AccountID: a.ID, URL: "https://example.com/" + string(rune('a'+i)),
			EventTypes: []string{"*"}, Signing: hook.SigningHMAC, Enabled: on, CreatedAt: t0, UpdatedAt: t0,
			Keys: []hook.Key{{Value: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: t0}}}
		if !on {
			e.DisabledReason, e.DisabledAt = hook.ReasonManual, t0
		}
		if err := st.EndpointCreate(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		at := t0.Add(time.Duration(i) * time.Second)
		id := hook.NewIDAt(hook.PrefixEvent, at)
		ev := &hook.Event{ID: id, AccountID: a.ID, Type: "call.received", CreatedAt: at,
			Body: hook.EncodeEnvelope(id, "call.received", at, a.ID, []byte(`{}`))}
		if _, err := st.EventCreate(ctx, &store.EventCreateParams{Event: ev}); err != nil {
			t.Fatal(err)
		}
	}

	var now atomic.Int64
	now.Store(t0.Add(time.Minute).UnixNano())
	m := metrics.New()
	m.WatchStore(src, metrics.StoreOptions{MaxAge: 10 * time.Second, Limit: 5,
		Now: func() time.Time { return time.Unix(0, now.Load()) }})

	if got := gauge(t, m, "hookd_delivery_backlog_age_seconds"); got != 60 {
		t.Errorf("hookd_delivery_backlog_age_seconds = %v, want 60 (the first event is due since t0)", got)
	}
	if on, off := labelled(t, m, "hookd_endpoints", "enabled"), labelled(t, m, "hookd_endpoints", "disabled"); on != 2 || off != 1 {
		t.Errorf("hookd_endpoints enabled %v, disabled %v; want 2 and 1", on, off)
	}
	// Three events for two enabled endpoints: six due, counted up to the cap of 5.
	if got := gauge(t, m, "hookd_deliveries_due"); got != 5 {
		t.Errorf("hookd_deliveries_due = %v, want 5 (the cap; 6 are due)", got)
	}
	// Scrapes within MaxAge share one reading.
	if n := src.readings.Load(); n != 1 {
		t.Errorf("%d readings of the database for four scrapes within MaxAge; want 1", n)
	}
	now.Add(int64(11 * time.Second))
	if got := gauge(t, m, "hookd_delivery_backlog_age_seconds"); got != 71 {
		t.Errorf("backlog age after 11 s = %v, want 71", got)
	}
	if n := src.readings.Load(); n != 2 {
		t.Errorf("%d readings after MaxAge passed; want 2", n)
	}

	// A database that cannot answer: the gauges are left out, not stale,
	// and the failure is counted.
	st.Close()
	now.Add(int64(11 * time.Second))
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counted := false
	for _, mf := range mfs {
		switch mf.GetName() {
		case "hookd_deliveries_due", "hookd_delivery_backlog_age_seconds", "hookd_endpoints":
			t.Errorf("%s reported while the database is closed", mf.GetName())
		case "hookd_store_stats_errors_total":
			counted = mf.GetMetric()[0].GetCounter().GetValue() == 1
		}
	}
	if !counted {
		t.Errorf("hookd_store_stats_errors_total is not 1 after one failed reading")
	}
}

func gauge(t *testing.T, m *metrics.Metrics, name string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("%s not gathered", name)
	return 0
}

func labelled(t *testing.T, m *metrics.Metrics, name, state string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, mt := range mf.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "state" && l.GetValue() == state {
					return mt.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("%s{state=%q} not gathered", name, state)
	return 0
}
