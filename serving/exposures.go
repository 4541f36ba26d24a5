package serving

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/journal"
)

// ErrClosed is returned by Flush after Close.
var ErrClosed = errors.New("serving: closed")

// writeTimeout bounds one batch insert; a hung store must not stall the
// merger forever.
const writeTimeout = 30 * time.Second

// exposureLog is the exposure write path: Assign appends a request's first
// exposures to the journal before it answers (one write(2) shared by
// concurrent requests), and a journal.Merger moves them into the store in
// batches. Nothing waits in memory, so a crash of the process loses no
// answered exposure: the merger starts again from the committed position,
// and the store ignores exposures it already has.
type exposureLog struct {
	j      *journal.Journal
	merger *journal.Merger
	tmpDir string // a temporary journal's directory, removed at close
	log    *slog.Logger
	m      *metrics
	closed atomic.Bool

	lastDropLog atomic.Int64
	droppedAll  atomic.Int64

	encoders sync.Pool
}

func newExposureLog(w ExposureWriter, o Options, m *metrics) (*exposureLog, error) {
	dir, tmp := o.JournalDir, ""
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "journeylab-exposures-"); err != nil {
			return nil, fmt.Errorf("create a temporary exposure journal: %w", err)
		}
		tmp = dir
	}
	j, err := journal.Open(dir, journal.Options{MaxBytes: o.JournalMaxBytes, SyncEvery: o.JournalSync})
	if err != nil {
		return nil, fmt.Errorf("open exposure journal: %w", err)
	}
	l := &exposureLog{
		j: j, tmpDir: tmp, log: o.Logger, m: m,
		encoders: sync.Pool{New: func() any { return new([]byte) }},
	}
	b := &exposureBatch{names: names{}, w: w, log: o.Logger, m: m, size: o.BatchSize}
	l.merger = journal.NewMerger(j, b, journal.MergerOptions{
		Interval: o.FlushInterval, Name: "exposures", Logger: o.Logger, Share: o.MergeShare, WakeEvery: o.BatchSize,
		OnWriteError: m.writeErrors.Inc,
		OnSkip:       func(n int) { m.dropped.Add(float64(n)) },
	})
	return l, nil
}

func (l *exposureLog) start() { l.merger.Start() }

// unmergedBytes returns the journal's bytes not yet merged into the store.
func (l *exposureLog) unmergedBytes() int64 { return l.j.Pending() }

// append journals xs, which share unit, time and attributes, and returns
// once the kernel holds them. An error means they are not recorded: the
// journal is full (the store is behind) or cannot be written.
func (l *exposureLog) append(xs []experiment.Exposure) error {
	if l.closed.Load() {
		return ErrClosed
	}
	bp := l.encoders.Get().(*[]byte)
	*bp = appendRecord((*bp)[:0], xs)
	_, err := l.j.Append(*bp)
	if cap(*bp) <= 64<<10 {
		l.encoders.Put(bp)
	}
	if err != nil {
		return err
	}
	l.journaled(len(xs))
	return nil
}

// appendGroups journals several groups (each sharing unit, time and
// attributes) with one write: all of them or, on error, none.
func (l *exposureLog) appendGroups(groups [][]experiment.Exposure) error {
	if l.closed.Load() {
		return ErrClosed
	}
	recs := make([][]byte, len(groups))
	n := 0
	for i, g := range groups {
		recs[i] = appendRecord(nil, g)
		n += len(g)
	}
	if _, err := l.j.Append(recs...); err != nil {
		return err
	}
	l.journaled(n)
	return nil
}

// journaled counts n exposures just journaled, for the metric and the merger.
func (l *exposureLog) journaled(n int) {
	l.m.queued.Add(float64(n))
	l.merger.Appended(n)
}

// dropped counts exposures that could not be journaled and logs them, at
// most once a second so a full journal under load does not also flood the log.
func (l *exposureLog) dropped(n int, err error) {
	if n == 0 {
		return
	}
	l.m.dropped.Add(float64(n))
	total := l.droppedAll.Add(int64(n))
	now, last := time.Now().UnixNano(), l.lastDropLog.Load()
	if now-last >= int64(time.Second) && l.lastDropLog.CompareAndSwap(last, now) {
		l.log.Error("exposures not recorded: the journal refused them", "count", n, "dropped_total", total, "error", err)
	}
}

// pendingExposures calls fn for every journaled exposure not yet merged
// whose experiment is in keys.
func (l *exposureLog) pendingExposures(keys map[string]bool, fn func(x *experiment.Exposure)) error {
	var xs []experiment.Exposure
	var derr error
	_, err := l.j.Read(l.j.Committed(), 1<<62, func(rec []byte) bool {
		xs, derr = decodeRecord(xs[:0], rec, nil)
		if derr != nil {
			return false
		}
		for i := range xs {
			if keys[xs[i].Experiment] {
				fn(&xs[i])
			}
		}
		return true
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return fmt.Errorf("read the exposure journal: %w", err)
	}
	return nil
}

// flush merges everything journaled now into the store and waits for it.
func (l *exposureLog) flush(ctx context.Context) error {
	err := l.merger.Flush(ctx)
	if errors.Is(err, journal.ErrStopped) {
		return ErrClosed
	}
	return err
}

// close refuses new exposures, merges the journal into the store until ctx
// ends and closes the journal. Unmerged exposures are not lost: they stay
// in the journal for the next start (a temporary journal is removed, so
// its leftovers are reported as an error).
func (l *exposureLog) close(ctx context.Context) error {
	if l.closed.Swap(true) {
		return nil
	}
	left := l.merger.Stop(ctx)
	err := l.j.Close()
	if l.tmpDir != "" {
		if rerr := os.RemoveAll(l.tmpDir); err == nil {
			err = rerr
		}
		if left > 0 {
			return fmt.Errorf("drain exposures: %d journal bytes not merged before the deadline, and the journal is temporary: %w", left, context.Cause(ctx))
		}
	}
	return err
}

// exposureBatch decodes journal records into exposures and inserts them.
type exposureBatch struct {
	names names
	w     ExposureWriter
	log   *slog.Logger
	m     *metrics
	size  int
	xs    []experiment.Exposure
}

func (b *exposureBatch) Add(rec []byte) (bool, error) {
	var err error
	b.xs, err = decodeRecord(b.xs, rec, b.names)
	return len(b.xs) < b.size, err
}

func (b *exposureBatch) Len() int { return len(b.xs) }

func (b *exposureBatch) Reset() {
	clear(b.xs)
	b.xs = b.xs[:0]
}

// Write inserts the batch. A batch the store refuses as invalid is skipped,
// not retried: retrying cannot help and would hold up every later exposure.
func (b *exposureBatch) Write(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	n, err := b.w.InsertExposures(ctx, b.xs)
	if errors.Is(err, experiment.ErrInvalid) {
		b.m.dropped.Add(float64(len(b.xs)))
		b.log.Error("the store refused a batch of exposures; skipped", "batch", len(b.xs), "error", err)
		return nil
	}
	if err != nil {
		return err
	}
	b.m.written.Add(float64(n))
	b.m.duplicates.Add(float64(len(b.xs) - n))
	return nil
}
