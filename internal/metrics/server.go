package metrics

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/hookd/hookd/internal/startstop"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewServer returns the server of --metrics-addr, a startstop.Service
// serving on ln: GET /metrics from m's registry, and Go's /debug/pprof/
// profiles when withPprof (--pprof). readHeaderTimeout bounds how long a
// client may take to send its request headers.
func NewServer(ln net.Listener, m *Metrics, withPprof bool, readHeaderTimeout time.Duration, logger *slog.Logger) *startstop.HTTPServer {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	}
	return &startstop.HTTPServer{
		Name:     "metrics",
		Server:   &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout},
		Listener: ln,
		Logger:   logger,
	}
}
