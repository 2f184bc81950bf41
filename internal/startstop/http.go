package startstop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
)

// HTTPServer serves an http.Server on a listener as a Service.
//
// Stop stops accepting connections at once and waits for the requests
// under way (http.Server.Shutdown); when ctx ends first it closes every
// connection, which cancels the requests' contexts, and returns the
// error.
type HTTPServer struct {
	// Name says which server it is in logs and errors ("API", "metrics").
	Name     string
	Server   *http.Server
	Listener net.Listener
	// Logger hears of the server failing while it runs; nil discards.
	Logger *slog.Logger

	mu      sync.Mutex
	started bool
	stopped bool
	done    chan struct{}
}

// Start serves in a goroutine of its own. If serving stops for any reason
// but Stop, the server cannot do its job, and the error is logged.
func (s *HTTPServer) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return fmt.Errorf("%s server: %w", s.Name, ErrStarted)
	}
	s.started = true
	s.done = make(chan struct{})
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	go func() {
		defer close(s.done)
		if err := s.Server.Serve(s.Listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.ErrorContext(ctx, "server stopped", slog.String("server", s.Name), slog.Any("error", err))
		}
	}()
	return nil
}

// Stop shuts the server down gracefully within ctx, then closes it.
func (s *HTTPServer) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.started || s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	s.mu.Unlock()
	err := s.Server.Shutdown(ctx)
	if err != nil {
		// The deadline passed with requests under way: close their
		// connections, which cancels them.
		// (Close's own error only repeats that the listener is closed.)
		_ = s.Server.Close()
	}
	<-s.done // Serve returns as soon as the listener is closed
	if err != nil {
		return fmt.Errorf("stop %s server: %w", s.Name, err)
	}
	return nil
}
