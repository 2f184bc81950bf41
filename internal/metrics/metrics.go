// Package metrics defines hookd's Prometheus metrics. Each process makes
// one Metrics with New and passes it to the components that record; there
// are no package-level collectors. Labels are bounded sets (outcome codes,
// statuses, routes), never ids or URLs.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds hookd's collectors and the registry they are in.
type Metrics struct {
	Registry *prometheus.Registry

	EventsAccepted     prometheus.Counter
	Attempts           *prometheus.CounterVec // outcome: success or an error code; trigger
	AttemptDuration    prometheus.Histogram
	DeliveriesFinished *prometheus.CounterVec // status
	EndpointsDisabled  *prometheus.CounterVec // reason
	InFlight           prometheus.Gauge
	Claimed            prometheus.Counter
	ResultBatch        prometheus.Histogram
	OperatorMessages   *prometheus.CounterVec // outcome
	HTTPRequests       *prometheus.CounterVec // route, code
	HTTPDuration       *prometheus.HistogramVec
	// DeliveryLatency is from an event's acceptance to the 2xx answer of
	// an endpoint, retries included, for the deliveries made when the event
	// was accepted (trigger scheduled).
	DeliveryLatency prometheus.Histogram
}

// New creates the collectors and registers them, with the Go runtime and
// process collectors, in a new registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		EventsAccepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookd_events_accepted_total", Help: "Events accepted (202) through the API."}),
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_attempts_total", Help: "Delivery attempts by outcome (success or the error code) and trigger."},
			[]string{"outcome", "trigger"}),
		AttemptDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookd_attempt_duration_seconds", Help: "Duration of delivery attempts.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		DeliveriesFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_deliveries_finished_total", Help: "Deliveries that reached a final status."},
			[]string{"status"}),
		EndpointsDisabled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_endpoints_disabled_total", Help: "Endpoints disabled automatically, by reason."},
			[]string{"reason"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookd_attempts_in_flight", Help: "Attempts claimed by this node and not yet finished."}),
		Claimed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookd_deliveries_claimed_total", Help: "Deliveries claimed by this node."}),
		ResultBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookd_result_batch_size", Help: "Attempt results written per transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
		OperatorMessages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_operator_attempts_total", Help: "Operator webhook attempts by outcome."},
			[]string{"outcome"}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_http_requests_total", Help: "API requests by route pattern and status code."},
			[]string{"route", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookd_http_request_duration_seconds", Help: "API request duration by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}},
			[]string{"route"}),
		DeliveryLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hookd_delivery_latency_seconds",
			Help:    "From an event's acceptance (202) to an endpoint's 2xx answer, retries included; deliveries made for new events only.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21600}}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.EventsAccepted, m.Attempts, m.AttemptDuration, m.DeliveriesFinished, m.EndpointsDisabled,
		m.InFlight, m.Claimed, m.ResultBatch, m.OperatorMessages, m.HTTPRequests, m.HTTPDuration,
		m.DeliveryLatency,
	)
	return m
}

// WatchRateLimited adds the gauge hookd_deliveries_rate_limited: pending
// deliveries waiting for a rate-limit turn, all endpoints together (no
// per-endpoint label). count is asked at each scrape, bounded by a short
// timeout; while it fails the gauge is left out of the scrape.
func (m *Metrics) WatchRateLimited(count func(ctx context.Context) (int, error)) {
	m.Registry.MustRegister(&rateLimitedCollector{count: count, desc: prometheus.NewDesc("hookd_deliveries_rate_limited",
		"Pending deliveries waiting for their endpoint's rate-limit turn (all endpoints, all nodes).", nil, nil)})
}

type rateLimitedCollector struct {
	count func(ctx context.Context) (int, error)
	desc  *prometheus.Desc
}

func (c *rateLimitedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *rateLimitedCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := c.count(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}
