package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookd/hookd/internal/store"
)

// Options configures Open and Migrate. Zero fields take the defaults given.
type Options struct {
	// MaxConns is the size of the connection pool; 0 means 16. The
	// listener uses one more connection.
	MaxConns int32
	// StatementTimeout bounds every statement (statement_timeout) and
	// the time a transaction may sit idle holding locks
	// (idle_in_transaction_session_timeout); 0 means 30s.
	StatementTimeout time.Duration
	// Schema is the schema hookd's tables live in (search_path); "" means
	// public. Migrate creates it if it does not exist.
	Schema string
	// Logger receives the listener's connection problems; nil discards.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxConns <= 0 {
		o.MaxConns = 16
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = 30 * time.Second
	}
	if o.Schema == "" {
		o.Schema = "public"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	channel string // the LISTEN/NOTIFY channel of this schema

	work     chan struct{} // WorkAvailable
	notifyCh chan struct{} // asks the notifier for a NOTIFY

	listener  *listener // LISTEN and NOTIFY (listen.go)
	closeOnce sync.Once

	// failCommit makes the next transaction roll back instead of
	// committing: the storage contract's tests inject a failed commit
	// with it.
	failCommit atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (postgres://…), applies pending
// migrations and starts listening for work signalled by other nodes. Close
// it when done.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := Migrate(ctx, url, opts); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	cfg.MaxConns = opts.MaxConns
	setRuntimeParams(cfg.ConnConfig, opts, opts.StatementTimeout)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	s := &Store{
		pool:     pool,
		log:      opts.Logger,
		channel:  channelName(opts.Schema),
		work:     make(chan struct{}, 1),
		notifyCh: make(chan struct{}, 1),
	}
	lcfg := cfg.ConnConfig.Copy()
	conn, err := s.listenConnect(ctx, lcfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.listener = &listener{s: s, cfg: lcfg, conn: conn}
	if err := s.listener.Start(ctx); err != nil {
		conn.Close(ctx)
		pool.Close()
		return nil, err
	}
	return s, nil
}

// setRuntimeParams sets the session defaults every connection starts with.
func setRuntimeParams(c *pgx.ConnConfig, opts Options, timeout time.Duration) {
	p := c.RuntimeParams
	p["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	ms := strconv.FormatInt(timeout.Milliseconds(), 10)
	p["statement_timeout"] = ms
	p["idle_in_transaction_session_timeout"] = ms
	if p["application_name"] == "" {
		p["application_name"] = "hookd"
	}
}

// channelName is the notification channel of schema: channel names are
// identifiers of at most 63 bytes.
func channelName(schema string) string {
	if schema == "public" {
		return "hookd_work"
	}
	ch := "hookd_work_" + schema
	if len(ch) > 63 {
		sum := sha256.Sum256([]byte(schema))
		ch = "hookd_work_" + hex.EncodeToString(sum[:16])
	}
	return ch
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return unavailable(s.pool.Ping(ctx))
}

// WorkAvailable implements store.Store.
func (s *Store) WorkAvailable() <-chan struct{} { return s.work }

// signal signals WorkAvailable on this node.
func (s *Store) signal() {
	select {
	case s.work <- struct{}{}:
	default:
	}
}

// wake signals WorkAvailable here and, through the notifier, on the other
// nodes. Call it after the commit that made work due.
func (s *Store) wake() {
	s.signal()
	select {
	case s.notifyCh <- struct{}{}:
	default:
	}
}

// Close stops the listener and closes the pool; it waits for calls that
// hold a connection to return it.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), listenStopTimeout)
		s.listener.Stop(ctx)
		cancel()
		s.pool.Close()
	})
	return nil
}

// maxTxTries bounds how often a transaction is run again after a deadlock,
// a serialization failure or a connection that failed before anything was
// sent.
const maxTxTries = 5

// txn is a transaction on one pooled connection whose statements are sent
// in pipelined batches: queue adds a statement to the next round trip and
// flush sends them. BEGIN goes with the first batch and COMMIT with the
// last (see Store.tx), so a transaction of two dependent steps costs two
// round trips.
//
// Callbacks of statements in the last batch run after COMMIT was sent:
// they must only collect results, not decide whether to commit.
type txn struct {
	ctx  context.Context
	conn *pgxpool.Conn
	b    *pgx.Batch
	// final is set once running the transaction again would be wrong: the
	// caller has reserved workers for it (Handoff, DeliveryClaim), and a
	// failed call voids its reservations while a second run would make
	// more.
	final bool
}

// reserve asks the caller's reserve func about endpointID, inside the
// transaction; the transaction is not run again after a reservation.
func (t *txn) reserve(fn func(endpointID, accountID string) bool, endpointID, accountID string) bool {
	if fn == nil {
		return true
	}
	ok := fn(endpointID, accountID)
	t.final = t.final || ok
	return ok
}

func (t *txn) queue(sql string, args ...any) *pgx.QueuedQuery {
	if t.b == nil {
		t.b = &pgx.Batch{}
	}
	return t.b.Queue(sql, args...)
}

func (t *txn) flush() error {
	if t.b == nil || t.b.Len() == 0 {
		return nil
	}
	b := t.b
	t.b = nil
	return t.conn.SendBatch(t.ctx, b).Close()
}

// errInjected is the commit failure tests ask for (failCommit).
var errInjected = errors.New("injected commit failure")

// errRolledBack is returned when COMMIT answered ROLLBACK.
var errRolledBack = errors.New("transaction rolled back")

// tx runs fn in a transaction and commits it, running it again (from the
// start: fn must reset what it returns) after a deadlock, a serialization
// failure or a connection failure that reached nothing, unless fn made
// reservations (see txn.final). async commits with synchronous_commit off.
func (s *Store) tx(ctx context.Context, async bool, fn func(t *txn) error) error {
	for try := 1; ; try++ {
		final, err := s.tryTx(ctx, async, fn)
		if err == nil || final || try == maxTxTries || !retryable(err) || ctx.Err() != nil {
			return unavailable(err)
		}
		wait := time.Duration(try)*time.Millisecond + rand.N(5*time.Millisecond)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return unavailable(err)
		}
	}
}

func (s *Store) tryTx(ctx context.Context, async bool, fn func(t *txn) error) (final bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	t := &txn{ctx: ctx, conn: conn}
	t.queue("BEGIN")
	if async {
		t.queue("SET LOCAL synchronous_commit = off")
	}
	err = fn(t)
	if err == nil && s.failCommit.CompareAndSwap(true, false) {
		t.queue("ROLLBACK")
		err = errors.Join(t.flush(), fmt.Errorf("commit: %w", errInjected))
	} else if err == nil {
		t.queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
			if ct.String() != "COMMIT" {
				return errRolledBack
			}
			return nil
		})
		err = t.flush()
	}
	if err != nil {
		rollback(conn)
	}
	return t.final, err
}

// rollback ends a failed transaction so that the connection can go back to
// the pool (which destroys it instead if it is still in one).
func rollback(conn *pgxpool.Conn) {
	pc := conn.Conn().PgConn()
	if pc.IsClosed() || pc.TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = conn.Exec(ctx, "ROLLBACK")
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40P01" || pe.Code == "40001" // deadlock_detected, serialization_failure
	}
	return pgconn.SafeToRetry(err)
}

// notFound turns pgx.ErrNoRows into store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return unavailable(err)
}

// ms is t as stored: UTC, truncated to the millisecond.
func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// nullTime is ms for an optional time: NULL for the zero time.
func nullTime(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: ms(t), Valid: true}
}

// fromNull is the time read from an optional column: zero for NULL.
func fromNull(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(v int) any {
	if v == 0 {
		return nil
	}
	return v
}

// strs is ss as a non-nil slice: pgx sends a nil slice as NULL, which
// makes "<> ALL(…)" NULL instead of true.
func strs(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// bytesOf is b as a non-nil slice: pgx sends a nil slice as NULL.
func bytesOf(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// text makes s storable in a text column: PostgreSQL rejects NUL bytes and
// invalid UTF-8, both of which a response body or a server's status line
// may contain, and which SQLite would store as they are.
func text(s string) string {
	if utf8.ValidString(s) && !strings.Contains(s, "\x00") {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
