// Package sqlite is hookd's embedded storage backend: one SQLite file in
// WAL mode, written by a single connection and read by a small pool.
//
// All writes go through one goroutine that owns the writer connection. It
// takes whatever writes are queued, runs them in one transaction, without
// savepoints, and commits once: group commit. When one write of the batch
// fails, the whole transaction is rolled back and each write runs again in
// a transaction of its own, so that a failure is only its own write's: a
// write may run twice, asking the caller's Reserve twice, which the
// storage contract allows (see internal/store). When the commit itself
// fails, every write of the batch fails with it. Only transactions that accept events wait for an
// fsync (synchronous=FULL); claims, results and the rest commit with
// synchronous=NORMAL, which in WAL mode survives a crash of the process and
// can lose only the last moments of those to a power cut, which at-least-once
// delivery tolerates (a lost claim or result means the attempt is made again).
//
// SQLite allows one process per database here: Open takes an exclusive lock
// that follows the file, whatever the path that names it (see dbFiles), and
// releases every lease left by an earlier process at start, since no other
// process can hold one. The database, its WAL and shared-memory files are
// created 0600 (their directory 0700) whatever the umask, and the writer
// zeroes what it deletes within a page (secure_delete=FAST; ON while keys
// are re-sealed, see EndpointKeysReseal and Scrub).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/migrate"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// maxBatch bounds how many queued writes share one transaction.
const maxBatch = 512

// Store is the SQLite implementation of store.Store.
type Store struct {
	path    string // resolved: what SQLite opens
	lock    io.Closer
	rdb     *sql.DB // readers
	cdb     *sql.DB // the checkpointer
	wdb     *sql.DB // the writer's pool of one
	wconn   *sql.Conn
	wstmts  map[string]*sql.Stmt // owned by the writer goroutine
	epCache *endpointCache       // owned by the writer goroutine
	rstmts  sync.Map             // query → *sql.Stmt on rdb

	ops            chan *writeOp
	stop           chan struct{}
	stopped        chan struct{}
	checkpointDone chan struct{}
	abandon        atomic.Bool // refuse the ops still queued at stop (writer.Stop)
	// walRestart is the WAL size, in pages, past which the checkpointer
	// makes the log start over (defaultWALRestart; tests lower it).
	walRestart atomic.Int64
	// restartMu is held by the writer for each batch and by the
	// checkpointer for a RESTART, so that commits wait for a RESTART on
	// it and not in SQLite's busy handler.
	restartMu sync.Mutex
	work      chan struct{}
	health    writeHealth // see WriteProbe
	// failCommit makes the next commit fail (rolled back instead): the
	// storage contract's tests inject a failed commit with it.
	failCommit atomic.Bool

	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Options configures Open.
type Options struct {
	// Readers is the size of the read pool; 0 means 4.
	Readers int
	// Now is the time used to release stale leases at open; zero means
	// time.Now().
	Now time.Time
}

// Open opens (creating if needed) the database at path, applies
// migrations and starts the writer. Close it when done.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	real, lock, err := dbFiles(path)
	if err != nil {
		return nil, err
	}
	s := &Store{
		path:    real,
		lock:    lock,
		wstmts:  make(map[string]*sql.Stmt),
		ops:     make(chan *writeOp, maxBatch),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
		work:    make(chan struct{}, 1),

		checkpointDone: make(chan struct{}),
	}
	s.walRestart.Store(defaultWALRestart)
	if err := s.open(ctx, opts); err != nil {
		s.closeDBs()
		return nil, err
	}
	writer{s}.Start(ctx)
	go s.checkpointLoop(time.Second)
	return s, nil
}

// fileURI is the driver's name for the database file at path: a SQLite URI
// filename, in which '?' starts the parameters, '#' a fragment and '%' an
// escape, so those three are escaped to name the file itself.
func fileURI(path string) string {
	return "file:" + uriEscaper.Replace(path)
}

var uriEscaper = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")

func (s *Store) open(ctx context.Context, opts Options) error {
	base := fileURI(s.path) + "?_journal_mode=WAL&_synchronous=NORMAL"
	const wait = "&_busy_timeout=10000"
	var err error
	// The writer does not checkpoint the WAL itself (wal_autocheckpoint
	// 0): a background connection does, so that copying pages back into
	// the database never stalls a commit.
	s.wdb, err = sql.Open("sqlite", base+wait+"&_pragma=cache_size(-32768)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit("+strconv.Itoa(walFileLimit)+")&_pragma=secure_delete(FAST)")
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	s.wconn, err = s.wdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open database %s: %w", s.path, err)
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}
	// No other process can hold a lease (see dbFiles): whatever an
	// earlier process had claimed is due again now. A lease already over
	// is due anyway, so only the future end of the due index is read,
	// however large the backlog.
	if _, err := s.wconn.ExecContext(ctx,
		`UPDATE deliveries SET lease = 0, next_attempt_at = ? WHERE status = 'pending' AND next_attempt_at > ? AND lease <> 0`,
		ms(opts.Now), ms(opts.Now)); err != nil {
		return fmt.Errorf("release leases: %w", err)
	}
	if _, err := s.wconn.ExecContext(ctx,
		`UPDATE operator_messages SET lease = 0, next_attempt_at = ? WHERE status = 'pending' AND lease <> 0`, ms(opts.Now)); err != nil {
		return fmt.Errorf("release leases: %w", err)
	}

	s.rdb, err = sql.Open("sqlite", base+wait+"&_query_only=1")
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	s.rdb.SetMaxOpenConns(opts.Readers)
	s.rdb.SetMaxIdleConns(opts.Readers)

	// The checkpointer waits at most 200 ms for the writer and readers
	// when it restarts the WAL (PASSIVE never waits); it tries again a
	// second later rather than hold up commits.
	s.cdb, err = sql.Open("sqlite", base+"&_busy_timeout=200")
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	s.cdb.SetMaxOpenConns(1)
	return nil
}

// checkpointLoop copies the WAL back into the database every interval,
// without blocking the writer or readers (PASSIVE). Under steady writes
// and reads that alone never lets the WAL start over (the log restarts
// only when it is wholly copied back and no reader is using it), so it
// would grow without end: gigabytes within minutes of sustained intake.
// Once the WAL is over s.walRestart pages and a PASSIVE pass has (nearly)
// caught up, a RESTART copies the few frames left (holding the writer
// only that long) and waits for readers to leave the log, so that the
// next commit starts it over; journal_size_limit then truncates the file.
func (s *Store) checkpointLoop(interval time.Duration) {
	defer close(s.checkpointDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.checkpoint()
	}
}

// defaultWALRestart is the WAL size, in pages, past which checkpointLoop
// makes the log start over: 64 MiB with SQLite's 4 KiB pages.
const defaultWALRestart = 16384

// walFileLimit is journal_size_limit: the size, in bytes, the WAL file is
// cut back to when the log starts over. It is twice what a restart
// leaves (64 MiB of pages plus their frame headers), so that an ordinary
// restart writes the log over in place: cutting it back each time held
// the writer's next commit in ftruncate for about 22 ms every 2–3 s at
// 2,500 deliveries/s (docs/performance.md, "Stalls"). Only a log that
// grew past it (a burst the checkpointer could not keep up with) is cut.
const walFileLimit = 2 * defaultWALRestart * 4096

// checkpoint runs one pass of checkpointLoop and returns the WAL's size
// in pages as the first PASSIVE pass found it.
//
// A RESTART holds the writer while it copies the frames left and syncs
// the database file: with 1,024 frames left (the old rule, limit/16)
// that held commits for 25–30 ms every 2 s at 2,500 deliveries/s, the
// largest stall in an execution trace of steady fan-out
// (docs/performance.md, "Stalls"). So once the log is past the restart
// size, further PASSIVE passes (which never hold the writer) catch up
// first, and the RESTART runs when at most restartLeft frames are left.
// Under writes so heavy that the passes never catch up, the log still
// starts over once it is four times the restart size, whatever is left.
func (s *Store) checkpoint() (logPages int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	passive := func() (logPages, done int, ok bool) {
		var busy int
		err := s.cdb.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &done)
		return logPages, done, err == nil
	}
	logPages, done, ok := passive()
	if !ok {
		return 0
	}
	limit := int(s.walRestart.Load())
	if logPages < limit {
		return logPages
	}
	left := max(limit/256, 1)
	size, copied := logPages, done
	for range 4 {
		if size-copied <= left {
			break
		}
		if size, copied, ok = passive(); !ok {
			return logPages
		}
	}
	if size-copied <= left || size >= 4*limit {
		var busy int
		s.restartMu.Lock()
		_ = s.cdb.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &size, &copied)
		s.restartMu.Unlock()
	}
	return logPages
}

// migrate applies the embedded migrations that have not run yet, each in
// its own transaction (see internal/store/migrate).
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrate.Load(migrations, "migrations")
	if err == nil {
		err = migrate.Run(ctx, dialect{s.wconn}, ms)
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// dialect keeps SQLite's schema version for internal/store/migrate.
type dialect struct{ c *sql.Conn }

func (d dialect) Current(ctx context.Context) (int, error) {
	if _, err := d.c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return 0, err
	}
	var current int
	err := d.c.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current)
	return current, err
}

func (d dialect) Apply(ctx context.Context, m migrate.Migration) (err error) {
	c := d.c
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, _ = c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if _, err := c.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.Version, time.Now().UnixMilli()); err != nil {
		return err
	}
	_, err = c.ExecContext(ctx, "COMMIT")
	return err
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return unavailable(s.rdb.QueryRowContext(ctx, `SELECT 1`).Scan(&one))
}

// WorkAvailable implements store.Store.
func (s *Store) WorkAvailable() <-chan struct{} { return s.work }

func (s *Store) signalWork() {
	select {
	case s.work <- struct{}{}:
	default:
	}
}

// Close stops the writer after the writes already queued and closes the
// database.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		writer{s}.Stop(context.Background())
		<-s.checkpointDone
		err = s.closeDBs()
	})
	return err
}

func (s *Store) closeDBs() error {
	var errs []error
	for _, st := range s.wstmts {
		errs = append(errs, st.Close())
	}
	if s.wconn != nil {
		errs = append(errs, s.wconn.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if s.cdb != nil {
		errs = append(errs, s.cdb.Close())
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}

// rstmt returns the read statement for q, prepared once.
func (s *Store) rstmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.rstmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.rdb.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.rstmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *row {
	st, err := s.rstmt(ctx, q)
	if err != nil {
		return &row{err: err}
	}
	return &row{r: st.QueryRowContext(ctx, args...)}
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.rstmt(ctx, q)
	if err != nil {
		return nil, unavailable(err)
	}
	rows, err := st.QueryContext(ctx, args...)
	return rows, unavailable(err)
}

// row is a *sql.Row that may carry an earlier error, and turns
// sql.ErrNoRows into store.ErrNotFound.
type row struct {
	r   *sql.Row
	err error
}

func (r *row) Scan(dst ...any) error {
	if r.err != nil {
		return unavailable(r.err)
	}
	err := r.r.Scan(dst...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return unavailable(err)
}

// ms converts t to the Unix milliseconds stored in the database.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts stored Unix milliseconds back to a UTC time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// nullMS is ms for an optional time: NULL for the zero time.
func nullMS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
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
