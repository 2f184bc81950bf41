package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// New takes no setting it is not given: a missing or out-of-range value
// is an error naming the field, never a default of its own.
func TestNewRejectsMissingSettings(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	valid := func() delivery.Config {
		return delivery.Config{Store: b.st, Sender: delivery.NewSender(delivery.SenderConfig{Timeout: 2 * time.Second}),
			Workers: 8, EndpointConcurrency: 2, AccountConcurrency: 4, Lease: 4 * time.Second,
			Policy: delivery.RetryPolicy{MaxRetries: 3, Base: time.Second, Factor: 2, Jitter: delivery.RetryJitter}}
	}
	if _, err := delivery.New(valid()); err != nil {
		t.Fatalf("New with every setting given: %v", err)
	}
	tests := []struct {
		change func(*delivery.Config)
		want   string
	}{
		{func(c *delivery.Config) { c.Workers = 0 }, "Workers"},
		{func(c *delivery.Config) { c.EndpointConcurrency = 0 }, "EndpointConcurrency"},
		{func(c *delivery.Config) { c.AccountConcurrency = 0 }, "AccountConcurrency"},
		{func(c *delivery.Config) { c.DisableAfter = -1 }, "DisableAfter"},
		{func(c *delivery.Config) { c.Lease = 0 }, "Lease"},
		{func(c *delivery.Config) { c.Lease = 3 * time.Second }, "twice the attempt timeout"}, // MinLease, as --lease
		{func(c *delivery.Config) { c.Policy = delivery.RetryPolicy{} }, "Policy.Base"},
		{func(c *delivery.Config) { c.Policy.Factor = 0.5 }, "Policy.Factor"},
		{func(c *delivery.Config) { c.Policy.Jitter = 1 }, "Policy.Jitter"},
		{func(c *delivery.Config) { c.Policy.MaxRetries = -1 }, "Policy.MaxRetries"},
		{func(c *delivery.Config) { c.BatchSize = -1 }, "BatchSize"},
		{func(c *delivery.Config) { c.OperatorURL = "https://ops.example.com/" }, "operator webhook"},
	}
	for _, tt := range tests {
		cfg := valid()
		tt.change(&cfg)
		if _, err := delivery.New(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New with a bad %s: err = %v, want one naming it", tt.want, err)
		}
	}
}

func TestNewSenderNeedsATimeout(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("NewSender without a timeout did not panic")
		}
	}()
	delivery.NewSender(delivery.SenderConfig{})
}

// DisableAfter 0 means never, as --disable-after 0 does: an endpoint
// whose deliveries all fail stays enabled.
func TestDisableAfterZeroMeansNever(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	close(b.release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	b.url = srv.URL // a second endpoint, failing
	b.addEndpoint(t)
	const events = 5 // more than the flag's default of 3
	for range events {
		b.event(t, nil)
	}
	d, err := delivery.New(delivery.Config{Store: b.st, Sender: delivery.NewSender(delivery.SenderConfig{Timeout: 2 * time.Second}),
		Workers: 4, EndpointConcurrency: 1, AccountConcurrency: 4, Lease: 4 * time.Second, DisableAfter: 0,
		Policy: delivery.RetryPolicy{MaxRetries: 0, Base: time.Second, Factor: 1}}) // every failed attempt fails its delivery
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.wait(t, events) // the setup's endpoint got its deliveries
	// Wait until every delivery to the failing endpoint has failed for good.
	deadline := time.Now().Add(20 * time.Second)
	for {
		ds, err := b.st.DeliveryList(context.Background(), &store.DeliveryListParams{AccountID: b.acc, Status: hook.StatusFailed,
			Page: store.Page{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == events {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries failed within 20 s", len(ds), events)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := d.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	eps, err := b.st.EndpointList(context.Background(), &store.EndpointListParams{AccountID: b.acc, Page: store.Page{Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range eps {
		if !e.Enabled {
			t.Errorf("endpoint %s was disabled (%s) after %d failed deliveries with DisableAfter 0", e.ID, e.DisabledReason, events)
		}
	}
}
