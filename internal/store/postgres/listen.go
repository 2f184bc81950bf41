package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookd/hookd/internal/startstop"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// notifyGap is the least time between two NOTIFYs of one node: under
	// load, one NOTIFY stands for every commit of the gap.
	notifyGap = 5 * time.Millisecond
	// listenCheck is how long the listener waits quietly before checking
	// that its connection is still alive.
	listenCheck = 30 * time.Second
	// Reconnect backoff of the listener.
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 5 * time.Second
	// listenStopTimeout bounds Close's wait for the listener: its loops
	// return as soon as their context is cancelled, but for closing the
	// listener's connection (at most a second).
	listenStopTimeout = 3 * time.Second
)

// listener is the store's background work, as a startstop.Service: the
// loop that LISTENs for other nodes' work and the loop that NOTIFYs them
// of this node's. Open starts it; Close stops it.
type listener struct {
	s     *Store
	cfg   *pgx.ConnConfig
	conn  *pgx.Conn // the first connection, opened by Open
	loops startstop.Loops
}

// Start runs the two loops until Stop.
func (l *listener) Start(ctx context.Context) error {
	return l.loops.Start(ctx,
		func(ctx context.Context) { l.s.listenLoop(ctx, l.cfg, l.conn) },
		l.s.notifyLoop)
}

// Stop ends both loops and waits for them, but not past ctx. Nothing is
// lost if it returns early: notifications only wake other nodes sooner
// than their poll would.
func (l *listener) Stop(ctx context.Context) error { return l.loops.Stop(ctx) }

// listenConnect opens the listener's connection and LISTENs.
func (s *Store) listenConnect(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect listener: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("listen: %w", err)
	}
	return conn, nil
}

// listenLoop turns notifications into WorkAvailable signals until ctx
// ends, reconnecting when the connection drops.
func (s *Store) listenLoop(ctx context.Context, cfg *pgx.ConnConfig, conn *pgx.Conn) {
	backoff := listenBackoffMin
	for {
		if conn == nil {
			var err error
			conn, err = s.listenConnect(ctx, cfg)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Warn("postgres listener reconnect failed", slog.Any("error", err), slog.Duration("retry_in", backoff))
				if !sleep(ctx, backoff) {
					return
				}
				backoff = min(2*backoff, listenBackoffMax)
				continue
			}
			s.log.Info("postgres listener reconnected")
			backoff = listenBackoffMin
			s.signal() // notifications sent while it was down are lost
		}
		err := s.listen(ctx, conn)
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn.Close(closeCtx)
		cancel()
		conn = nil
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("postgres listener connection lost", slog.Any("error", err))
	}
}

// listen waits for notifications on conn and returns when it fails.
func (s *Store) listen(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, listenCheck)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			s.signal()
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err) && !conn.IsClosed():
			// Quiet for a while: make sure the connection still works,
			// so that a dead one is noticed and replaced.
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// notifyLoop sends the NOTIFYs that wake asks for, at most one per
// notifyGap, outside the transactions that made the work due.
func (s *Store) notifyLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.notifyCh:
		}
		// A NOTIFY gets a transaction id, hence a commit record: it need
		// not wait for the disk.
		_, err := s.pool.Exec(ctx, `SELECT pg_notify($1, '') FROM set_config('synchronous_commit', 'off', true)`, s.channel)
		if err != nil && !errors.Is(err, context.Canceled) {
			// The other nodes still poll; this node was signalled already.
			s.log.Warn("postgres notify failed", slog.Any("error", err))
		}
		if !sleep(ctx, notifyGap) {
			return
		}
	}
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
