package cli_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/config"
)

// An endpoint's rate limit holds for the endpoint as a whole across three
// nodes sharing one PostgreSQL database: a backlog of 200 deliveries at
// 20 a second reaches the receiver with no second (counted from the first
// arrival) over 110 % of the limit, and drains at the limit (on average at
// least 75 % of it: the slack is for a loaded machine, where a node may
// claim a turn late; it can never claim one early).
func TestRateLimitAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about ten seconds")
	}
	// Not parallel: the drain rate is a throughput, and this package's
	// parallel tests (hanging receivers, outages, browsers) load the
	// machine so that a node claims its turns late; turns are never made
	// up in a burst, so the lateness adds up and the drain slows.
	db := postgresDB(t)
	const (
		limit  = 20
		events = 200
	)
	var nodes []*bundle
	for range 3 {
		nodes = append(nodes, start(t, func(c *config.Config) { c.DB, c.DBMaxConns = db, 4 }).with(t))
	}
	rcv := newReceiver(t, always(reply{}))
	acc, c := nodes[0].account()
	ep := nodes[0].endpoint(c, rcv, client.CreateEndpointParams{RateLimit: limit})
	if ep.RateLimit == nil || *ep.RateLimit != limit {
		t.Fatalf("rate_limit = %v", ep.RateLimit)
	}
	// A backlog first: the endpoint is disabled while the events arrive,
	// then enabled and recovered, so all of it is due at once and the
	// three nodes compete for it.
	off := false
	if _, err := c.UpdateEndpoint(nodes[0].ctx, ep.ID, client.UpdateEndpointParams{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range events {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := nodes[i%3]
			if _, err := b.admin.SubmitEvent(b.ctx, client.SubmitEventParams{AccountID: acc.ID, Event: "sms.received",
				Data: example("sms.received")}); err != nil {
				t.Errorf("SubmitEvent: %v", err)
			}
		}()
		if i%20 == 19 {
			wg.Wait()
		}
	}
	wg.Wait()
	on := true
	if _, err := c.UpdateEndpoint(nodes[1].ctx, ep.ID, client.UpdateEndpointParams{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	if n, err := nodes[2].as(acc.Token).Recover(nodes[2].ctx, ep.ID, time.Time{}); err != nil || n != events {
		t.Fatalf("Recover = %d, %v; want %d", n, err, events)
	}

	var at []time.Time
	deadline := time.After(90 * time.Second)
	waiting := 0.0
	for len(at) < events {
		rec, ok := rcv.take(deadline)
		if !ok {
			t.Fatalf("received %d of %d deliveries within 90 s", len(at), events)
		}
		at = append(at, rec.At)
		if len(at) == events/2 {
			// Half-way, most of the rest wait for their turn.
			waiting = metric(t, nodes[0].url, "hookd_deliveries_rate_limited")
		}
	}
	if waiting < events/4 {
		t.Errorf("hookd_deliveries_rate_limited half-way = %v, want most of the %d left", waiting, events/2)
	}
	if got := metric(t, nodes[1].url, "hookd_deliveries_rate_limited"); got != 0 {
		t.Errorf("hookd_deliveries_rate_limited at the end = %v, want 0", got)
	}
	first, last := at[0], at[len(at)-1]
	perSecond := map[int]int{}
	for _, a := range at {
		perSecond[int(a.Sub(first)/time.Second)]++
	}
	var counts []string
	for s := 0; s <= int(last.Sub(first)/time.Second); s++ {
		counts = append(counts, fmt.Sprint(perSecond[s]))
	}
	t.Logf("deliveries per second from the first: %v", counts)
	for s, n := range perSecond {
		if s > 0 && n > limit*110/100 {
			t.Errorf("second %d after the first delivery: %d deliveries, over 110 %% of the limit %d", s, n, limit)
		}
	}
	// 200 turns 50 ms apart span at least 9.95 s.
	if min := time.Duration(events-1) * time.Second / limit; last.Sub(first) < min*99/100 {
		t.Errorf("the backlog drained in %v, faster than the limit allows (%v)", last.Sub(first), min)
	}
	rate := float64(events-1) / last.Sub(first).Seconds()
	if rate < limit*0.75 {
		t.Errorf("the backlog drained at %.1f a second, want about %d", rate, limit)
	}
	// Every delivery succeeded with one attempt: waiting was not failing.
	ds, err := c.ListDeliveries(nodes[0].ctx, client.DeliveryListParams{EndpointID: ep.ID, ListParams: client.ListParams{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds.Data {
		if d.Status == "succeeded" && d.Attempts != 1 {
			b, _ := json.Marshal(d)
			t.Errorf("delivery %s", b)
		}
	}
}
