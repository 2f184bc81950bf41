package startstop_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/startstop"
)

// waitFor fails the test if c is not closed within a generous bound (the
// machine may be loaded; nothing here depends on how long it takes).
func waitFor(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not happen", what)
	}
}

func TestLoopsStopCancelsAndWaits(t *testing.T) {
	t.Parallel()
	var l startstop.Loops
	ended := make(chan struct{})
	if err := l.Start(context.Background(), func(ctx context.Context) {
		<-ctx.Done()
		close(ended)
	}); err != nil {
		t.Fatal(err)
	}
	if err := l.Start(context.Background()); !errors.Is(err, startstop.ErrStarted) {
		t.Errorf("second Start = %v, want ErrStarted", err)
	}
	if err := l.Stop(context.Background()); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	select {
	case <-ended:
	default:
		t.Fatal("Stop returned before the loop did")
	}
	if err := l.Stop(context.Background()); err != nil {
		t.Errorf("second Stop = %v, want nil", err)
	}
}

// A start context that ends does not stop the loops; Stop does.
func TestLoopsOutliveTheStartContext(t *testing.T) {
	t.Parallel()
	var l startstop.Loops
	ctx, cancel := context.WithCancel(context.Background())
	running := make(chan struct{})
	if err := l.Start(ctx, func(ctx context.Context) {
		cancel() // the caller's context ends while the loop runs
		close(running)
		<-ctx.Done()
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, running, "the loop starting")
	if err := l.Stop(context.Background()); err != nil {
		t.Fatalf("Stop = %v", err)
	}
}

// Stop returns at its deadline when a loop does not end in time, and
// says so.
func TestLoopsStopHonoursTheDeadline(t *testing.T) {
	t.Parallel()
	var l startstop.Loops
	release := make(chan struct{})
	if err := l.Start(context.Background(), func(context.Context) { <-release }); err != nil {
		t.Fatal(err)
	}
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop with an ended context = %v, want context.Canceled", err)
	}
}

func TestStopWithoutStart(t *testing.T) {
	t.Parallel()
	var l startstop.Loops
	if err := l.Stop(context.Background()); err != nil {
		t.Errorf("Stop = %v", err)
	}
	var s startstop.HTTPServer
	if err := s.Stop(context.Background()); err != nil {
		t.Errorf("HTTPServer.Stop = %v", err)
	}
}

// An HTTP server's Stop waits for the requests under way; at its
// deadline it closes their connections, which cancels them, and reports
// it.
func TestHTTPServerStop(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	canceled := make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &startstop.HTTPServer{Name: "test", Listener: ln, Server: &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(arrived)
			<-r.Context().Done()
			close(canceled)
		}),
	}}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err == nil {
			resp.Body.Close()
		}
	}()
	waitFor(t, arrived, "the request arriving")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop with a request under way and an ended context = %v, want context.Canceled", err)
	}
	waitFor(t, canceled, "the request's context being canceled")
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the server still accepts connections after Stop")
	}
}

// loopService is a Service of one loop.
type loopService struct {
	loops startstop.Loops
	loop  func(ctx context.Context)
}

func (s *loopService) Start(ctx context.Context) error { return s.loops.Start(ctx, s.loop) }
func (s *loopService) Stop(ctx context.Context) error  { return s.loops.Stop(ctx) }

// StopAll stops every service, at once, and joins their errors.
func TestStopAll(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	aEnded := make(chan struct{})
	a := &loopService{loop: func(ctx context.Context) { <-ctx.Done(); close(aEnded) }}
	b := &loopService{loop: func(context.Context) { <-release }}
	for _, s := range []startstop.Service{a, b} {
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// b does not end; a does, though b comes after it and the deadline
	// has passed.
	err := startstop.StopAll(ctx, b, a)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("StopAll = %v, want b's context.Canceled", err)
	}
	waitFor(t, aEnded, "a's loop ending")
}
