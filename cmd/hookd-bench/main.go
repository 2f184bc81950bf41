// Command hookd-bench measures hookd: it starts an HTTPS receiver and hookd
// itself on loopback, measures the raw ceiling, drives hookd through its
// public API and reports deliveries/s, latency, memory and CPU. See
// docs/performance.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hookd/hookd/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := bench.Main(ctx, os.Args[1:], bench.OSEnv())
	stop()
	os.Exit(code)
}
