package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/store"
	"github.com/prometheus/client_golang/prometheus"
)

// StoreSource is what the queue and endpoint gauges read: a store.Store.
type StoreSource interface {
	DeliveryBacklog(ctx context.Context, p *store.BacklogParams) (*store.Backlog, error)
	EndpointCounts(ctx context.Context) (*store.EndpointCounts, error)
}

// StoreOptions configures WatchStore. Zero values give the defaults.
type StoreOptions struct {
	// MaxAge is how long one reading of the database serves scrapes: many
	// scrapes (several Prometheus servers, a dashboard) within it cost one
	// query each. Default 5 s.
	MaxAge time.Duration
	// Timeout bounds one reading. Default 3 s.
	Timeout time.Duration
	// Limit caps the count of due deliveries. Default
	// store.DefaultBacklogLimit.
	Limit int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// WatchStore registers the gauges that read the database when scraped:
// the delivery backlog (hookd_deliveries_due, hookd_delivery_backlog_age_seconds),
// endpoints by state (hookd_endpoints), and, when src has a connection pool
// of its own (PostgreSQL), the pool's gauges and counters (hookd_db_pool_*).
// With a shared database the backlog and endpoint figures are the whole
// cluster's, the same on every node; the pool is this node's.
func (m *Metrics) WatchStore(src StoreSource, opts StoreOptions) {
	if opts.MaxAge <= 0 {
		opts.MaxAge = 5 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Second
	}
	if opts.Limit <= 0 {
		opts.Limit = store.DefaultBacklogLimit
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &storeCollector{src: src, opts: opts,
		due: prometheus.NewDesc("hookd_deliveries_due",
			"Pending deliveries whose attempt time has come and that no node is attempting: they wait for a worker. Counted up to a cap (10000 by default).",
			nil, nil),
		age: prometheus.NewDesc("hookd_delivery_backlog_age_seconds",
			"How long the longest-waiting due delivery has been due; 0 when none is.", nil, nil),
		endpoints: prometheus.NewDesc("hookd_endpoints",
			"Endpoints that are not deleted, by state (enabled, disabled).", []string{"state"}, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "hookd_store_stats_errors_total",
			Help: "Scrapes whose backlog or endpoint queries failed; the gauges they feed are left out of that scrape."}),
	}
	m.Registry.MustRegister(c)
	if p, ok := src.(interface{ PoolStats() store.PoolStats }); ok {
		m.Registry.MustRegister(newPoolCollector(p.PoolStats))
	}
}

// storeCollector reads the database at most once per MaxAge.
type storeCollector struct {
	src                 StoreSource
	opts                StoreOptions
	due, age, endpoints *prometheus.Desc
	errors              prometheus.Counter

	mu      sync.Mutex // held while reading, so concurrent scrapes wait for one reading
	at      time.Time  // of the last reading; zero: none yet
	backlog *store.Backlog
	counts  *store.EndpointCounts
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.due
	ch <- c.age
	ch <- c.endpoints
	c.errors.Describe(ch)
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	backlog, counts, now := c.read()
	if backlog != nil {
		ch <- prometheus.MustNewConstMetric(c.due, prometheus.GaugeValue, float64(backlog.Due))
		age := 0.0
		if !backlog.OldestDue.IsZero() {
			age = max(0, now.Sub(backlog.OldestDue).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
	}
	if counts != nil {
		ch <- prometheus.MustNewConstMetric(c.endpoints, prometheus.GaugeValue, float64(counts.Enabled), "enabled")
		ch <- prometheus.MustNewConstMetric(c.endpoints, prometheus.GaugeValue, float64(counts.Disabled), "disabled")
	}
	c.errors.Collect(ch)
}

// read returns the last reading if it is recent enough, else reads again.
// A failed query leaves its figures out (nil) rather than report stale ones.
func (c *storeCollector) read() (*store.Backlog, *store.EndpointCounts, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.Now()
	if !c.at.IsZero() && now.Sub(c.at) < c.opts.MaxAge && now.Sub(c.at) >= 0 {
		return c.backlog, c.counts, c.at
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	var err1, err2 error
	c.backlog, err1 = c.src.DeliveryBacklog(ctx, &store.BacklogParams{Now: now, Limit: c.opts.Limit})
	c.counts, err2 = c.src.EndpointCounts(ctx)
	if err1 != nil {
		c.backlog = nil
	}
	if err2 != nil {
		c.counts = nil
	}
	if err1 != nil || err2 != nil {
		c.errors.Inc()
		c.at = time.Time{} // read again at the next scrape
	} else {
		c.at = now
	}
	return c.backlog, c.counts, now
}

// poolCollector reports a connection pool at each scrape (no I/O).
type poolCollector struct {
	stats                                 func() store.PoolStats
	conns, max, acquires, empty, waitTime *prometheus.Desc
}

func newPoolCollector(stats func() store.PoolStats) *poolCollector {
	return &poolCollector{stats: stats,
		conns: prometheus.NewDesc("hookd_db_pool_connections",
			"Database connections of this node's pool by state: acquired (in use), idle, constructing.", []string{"state"}, nil),
		max: prometheus.NewDesc("hookd_db_pool_max_connections", "The pool's size (--db-max-conns).", nil, nil),
		acquires: prometheus.NewDesc("hookd_db_pool_acquires_total",
			"Connections taken from the pool.", nil, nil),
		empty: prometheus.NewDesc("hookd_db_pool_empty_acquires_total",
			"Connections taken from the pool that had to wait because none was free.", nil, nil),
		waitTime: prometheus.NewDesc("hookd_db_pool_acquire_wait_seconds_total",
			"Time spent waiting for a connection from the pool, in all.", nil, nil),
	}
}

func (p *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{p.conns, p.max, p.acquires, p.empty, p.waitTime} {
		ch <- d
	}
}

func (p *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := p.stats()
	ch <- prometheus.MustNewConstMetric(p.conns, prometheus.GaugeValue, float64(s.Acquired), "acquired")
	ch <- prometheus.MustNewConstMetric(p.conns, prometheus.GaugeValue, float64(s.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(p.conns, prometheus.GaugeValue, float64(s.Constructing), "constructing")
	ch <- prometheus.MustNewConstMetric(p.max, prometheus.GaugeValue, float64(s.Max))
	ch <- prometheus.MustNewConstMetric(p.acquires, prometheus.CounterValue, float64(s.Acquires))
	ch <- prometheus.MustNewConstMetric(p.empty, prometheus.CounterValue, float64(s.EmptyAcquires))
	ch <- prometheus.MustNewConstMetric(p.waitTime, prometheus.CounterValue, s.AcquireWait.Seconds())
}

// WatchReadiness registers hookd_ready: 1 when ready answers nil within
// timeout at scrape time (what /readyz answers 200 to), else 0.
func (m *Metrics) WatchReadiness(ready func(ctx context.Context) error, timeout time.Duration) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hookd_ready",
		Help: "1 when this node's database takes writes (GET /readyz answers 200), else 0.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if ready(ctx) != nil {
			return 0
		}
		return 1
	}))
}
