// Package sqlite is journeylab's embedded default store: one SQLite file in
// WAL mode under the data directory, no server to run. It uses the pure-Go
// driver modernc.org/sqlite so the binary cross-compiles without cgo.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/journeylab/journeylab/experiment"

	drv "modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Store is the SQLite implementation of journeylab's store interfaces.
// Writes go through one connection (SQLite has one writer at a time), reads
// through a pool that WAL mode lets run beside the writer.
type Store struct {
	path string
	w    *sql.DB
	r    *sql.DB
	// out is the outcome-recording state (events.go, rollups.go).
	out outcomes
	// recover is signalled when a write fails for lack of space or an I/O
	// error; the WAL keeper then checkpoints and truncates the WAL until it
	// succeeds (see keepWAL).
	recover chan struct{}
	stop    chan struct{}
	kept    sync.WaitGroup
	closed  sync.Once
}

// WAL bounds. A checkpoint runs after the commit that takes the WAL past
// walCheckpointPages (8 MiB of 4 KiB pages), and a WAL that has been
// checkpointed is cut back to walLimitBytes, so in normal running the WAL
// stays under about walLimitBytes plus one transaction. A long read can
// hold a checkpoint back; the keeper then truncates the WAL once it passes
// walHardLimitBytes. After a full disk or an I/O error the keeper retries a
// truncating checkpoint every walKeepEvery until one succeeds, which is how
// the store recovers by itself once space returns: without it a WAL that
// never reaches the checkpoint threshold would consume every freed byte.
const (
	walCheckpointPages = 2000
	walLimitBytes      = 16 << 20
	walHardLimitBytes  = 64 << 20
	walKeepEvery       = 5 * time.Second
)

// FileName is the database file created inside the data directory.
const FileName = "journeylab.db"

// Open creates dataDir if needed, opens (or creates) the database in it and
// applies pending migrations.
func Open(ctx context.Context, dataDir string) (*Store, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dataDir, err)
	}
	return OpenFile(ctx, filepath.Join(dataDir, FileName))
}

// OpenFile opens the database at path (created if missing).
func OpenFile(ctx context.Context, path string) (*Store, error) {
	// synchronous(FULL): an acknowledged write survives power loss, which is
	// what "acknowledged means durable" promises clients.
	pragmas := []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(FULL)", "foreign_keys(1)", "cache_size(-32768)", "temp_store(MEMORY)",
		fmt.Sprintf("wal_autocheckpoint(%d)", walCheckpointPages), fmt.Sprintf("journal_size_limit(%d)", walLimitBytes)}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	wq := url.Values{"_txlock": {"immediate"}}
	for k, v := range q {
		wq[k] = v
	}
	base := "file:" + filepath.ToSlash(path)
	w, err := sql.Open("sqlite", base+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	s := &Store{path: path, w: w}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	rq := url.Values{}
	for k, v := range q {
		rq[k] = v
	}
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", base+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite reader %s: %w", path, err)
	}
	n := max(2, runtime.GOMAXPROCS(0)*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	s.recover, s.stop = make(chan struct{}, 1), make(chan struct{})
	s.kept.Add(1)
	go s.keepWAL()
	if err := s.backfillJourney(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Path returns the database file path.
func (s *Store) Path() string { return s.path }

// Close stops the WAL keeper and closes both connection pools.
func (s *Store) Close() error {
	s.closed.Do(func() { close(s.stop) })
	s.kept.Wait()
	return errors.Join(s.r.Close(), s.w.Close())
}

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("%w: sqlite ping: %v", experiment.ErrUnavailable, err)
	}
	return nil
}

// CheckWrite proves that the store can write, for /readyz: it rewrites the
// database header's application id, a one-page transaction that goes
// through the WAL and its fsync like any other write, so a full disk, a
// read-only file system or an I/O error turns readiness red.
func (s *Store) CheckWrite(ctx context.Context) error {
	if err := s.Ping(ctx); err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA application_id = "+applicationID); err != nil {
		return fmt.Errorf("%w: sqlite write probe: %v", experiment.ErrUnavailable, err)
	}
	return nil
}

// applicationID marks the file as journeylab's in its header ("JLab").
const applicationID = "1246519650"

// inTx runs fn in a write transaction, committing on success. Failures that
// pass with time or an operator's help are marked experiment.ErrUnavailable
// (see writeErr).
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.writeErr(fmt.Errorf("begin: %w", err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return s.writeErr(err)
	}
	if err := tx.Commit(); err != nil {
		return s.writeErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// writeErr marks err with experiment.ErrUnavailable, which the API answers
// with 503 and Retry-After, when SQLite reports a condition that is not the
// request's fault and passes by itself or by an operator's hand: a full
// disk, an I/O error, a read-only file or file system, a file that cannot be
// opened, a lock held too long, no memory. A full disk or I/O error also
// wakes the WAL keeper. Other errors are returned unchanged.
func (s *Store) writeErr(err error) error {
	var se *drv.Error
	if err == nil || errors.Is(err, experiment.ErrUnavailable) || !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
		select {
		case s.recover <- struct{}{}:
		default:
		}
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM:
	default:
		return err
	}
	return fmt.Errorf("%w: %w", experiment.ErrUnavailable, err)
}

// keepWAL checkpoints and truncates the WAL after a write failed for lack
// of space or an I/O error (retrying every walKeepEvery until it works),
// and whenever the WAL has grown past walHardLimitBytes.
func (s *Store) keepWAL() {
	defer s.kept.Done()
	tick := time.NewTicker(walKeepEvery)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-s.stop:
			return
		case <-s.recover:
			failing = true
		case <-tick.C:
			if fi, err := os.Stat(s.path + "-wal"); !failing && (err != nil || fi.Size() <= walHardLimitBytes) {
				continue
			}
		}
		failing = s.truncateWAL() != nil
	}
}

// truncateWAL copies the WAL into the database and empties it.
func (s *Store) truncateWAL() error {
	ctx, cancel := context.WithTimeout(context.Background(), walKeepEvery)
	defer cancel()
	var busy, logPages, done int
	err := s.w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &done)
	if err == nil && busy != 0 {
		err = errors.New("readers held the checkpoint back")
	}
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", s.path, err)
	}
	return nil
}

// isUniqueViolation reports whether err is a UNIQUE/PRIMARY KEY constraint failure.
func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
