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

	"journeylab/experiment"
	"journeylab/journal"
)

// ErrClosed is returned by Flush after Close.
var ErrClosed = errors.New("serving: closed")

// Retry backoff of failed exposure merges: doubling from the first delay up
// to the cap, so a store outage is probed a few times a second at first and
// then every few seconds without flooding the log.
const (
	firstRetryDelay = 50 * time.Millisecond
	maxRetryDelay   = 5 * time.Second
	// writeTimeout bounds one batch insert; a hung store must not stall the
	// merger forever.
	writeTimeout = 30 * time.Second
)

// exposureLog is the exposure write path: Assign appends a request's first
// exposures to the journal before it answers (one write(2) shared by
// concurrent requests), and one goroutine merges the journal into the store
// in batches and commits its position. Nothing waits in memory, so a crash
// of the process loses no answered exposure: the merger starts again from
// the committed position, and the store ignores exposures it already has.
type exposureLog struct {
	w          ExposureWriter
	j          *journal.Journal
	tmpDir     string // a temporary journal's directory, removed at close
	log        *slog.Logger
	m          *metrics
	batchSize  int
	flushEvery time.Duration

	// sinceWake counts exposures appended since the merger was last woken,
	// so a full batch wakes it at once.
	sinceWake atomic.Int64
	closed    atomic.Bool

	wake     chan struct{}
	flushReq chan chan error
	stop     chan struct{}
	done     chan struct{}
	// ctx governs merges and retries; Close cancels it when its own
	// context ends, which bounds the final drain.
	ctx    context.Context
	cancel context.CancelFunc

	lastDropLog atomic.Int64
	droppedAll  atomic.Int64
	// leftAtClose is the journal's unmerged bytes when the merger stopped.
	leftAtClose int64

	encoders sync.Pool
	// batch is the merger's reusable slice of decoded exposures.
	batch []experiment.Exposure
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
	ctx, cancel := context.WithCancel(context.Background())
	return &exposureLog{
		w: w, j: j, tmpDir: tmp, log: o.Logger, m: m,
		batchSize: o.BatchSize, flushEvery: o.FlushInterval,
		wake:     make(chan struct{}, 1),
		flushReq: make(chan chan error),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		ctx:      ctx,
		cancel:   cancel,
		encoders: sync.Pool{New: func() any { return new([]byte) }},
	}, nil
}

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
	l.m.queued.Add(float64(len(xs)))
	if l.sinceWake.Add(int64(len(xs))) >= int64(l.batchSize) {
		l.sinceWake.Store(0)
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
	return nil
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
		xs, derr = decodeRecord(xs[:0], rec)
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

// run is the merger goroutine.
func (l *exposureLog) run() {
	defer close(l.done)
	t := time.NewTicker(l.flushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = l.merge()
		case <-l.wake:
			_ = l.merge()
		case reply := <-l.flushReq:
			reply <- l.merge()
		case <-l.stop:
			l.final()
			return
		}
	}
}

// final merges what it can after Close; what is left when the close
// deadline ends stays in the journal and is merged at the next start.
func (l *exposureLog) final() {
	err := l.merge()
	l.leftAtClose = l.j.Pending()
	if err != nil && l.leftAtClose > 0 {
		l.log.Warn("exposures left in the journal at shutdown; they are merged at the next start",
			"bytes", l.leftAtClose, "error", err)
	}
}

// merge moves everything journaled before the call into the store, batch by
// batch. It returns an error only when l.ctx ends (shutdown deadline) or the
// journal cannot be read; store errors are retried.
func (l *exposureLog) merge() error {
	l.sinceWake.Store(0)
	end := l.j.End()
	for {
		from := l.j.Committed()
		if !from.Less(end) {
			return nil
		}
		var derr error
		l.batch = l.batch[:0]
		next, err := l.j.Read(from, 1<<62, func(rec []byte) bool {
			l.batch, derr = decodeRecord(l.batch, rec)
			return derr == nil && len(l.batch) < l.batchSize
		})
		if err == nil && derr != nil {
			// A record that passed its checksum but does not decode was
			// written by a different version: skip it, loudly.
			l.log.Error("skipping an exposure record that does not decode", "position", fmt.Sprint(next), "error", derr)
			l.m.dropped.Inc()
		}
		if err != nil {
			l.log.Error("reading the exposure journal failed", "error", err)
			return err
		}
		if len(l.batch) > 0 {
			if err := l.write(l.batch); err != nil {
				clear(l.batch)
				return err
			}
		}
		clear(l.batch)
		if err := l.j.Commit(next); err != nil {
			l.log.Error("committing the exposure journal position failed", "error", err)
			return err
		}
	}
}

// write inserts one batch, retrying with backoff until it succeeds or l.ctx
// ends. A batch the store rejects as invalid is skipped, not retried.
func (l *exposureLog) write(batch []experiment.Exposure) error {
	delay := firstRetryDelay
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(l.ctx, writeTimeout)
		n, err := l.w.InsertExposures(ctx, batch)
		cancel()
		if err == nil {
			l.m.written.Add(float64(n))
			l.m.duplicates.Add(float64(len(batch) - n))
			return nil
		}
		l.m.writeErrors.Inc()
		if errors.Is(err, experiment.ErrInvalid) {
			// The store refuses the data itself: retrying cannot help and
			// would hold up every later exposure.
			l.m.dropped.Add(float64(len(batch)))
			l.log.Error("the store refused a batch of exposures; skipped", "batch", len(batch), "error", err)
			return nil
		}
		l.log.Warn("merging exposures into the store failed; retrying", "batch", len(batch), "attempt", attempt, "retry_in", delay, "error", err)
		select {
		case <-l.ctx.Done():
			return fmt.Errorf("write %d exposures: %w (last error: %v)", len(batch), l.ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, maxRetryDelay)
	}
}

// flush asks the merger to merge everything journaled now and waits for it.
func (l *exposureLog) flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case l.flushReq <- reply:
	case <-l.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close refuses new exposures, merges the journal into the store until ctx
// ends and closes the journal. Unmerged exposures are not lost: they stay
// in the journal for the next start (a temporary journal is removed, so
// its leftovers are reported as an error).
func (l *exposureLog) close(ctx context.Context) error {
	if l.closed.Swap(true) {
		<-l.done
		return nil
	}
	stopAfter := context.AfterFunc(ctx, l.cancel)
	defer stopAfter()
	close(l.stop)
	<-l.done
	l.cancel()
	err := l.j.Close()
	if l.tmpDir != "" {
		if rerr := os.RemoveAll(l.tmpDir); err == nil {
			err = rerr
		}
		if l.leftAtClose > 0 {
			return fmt.Errorf("drain exposures: %d journal bytes not merged before the deadline, and the journal is temporary: %w", l.leftAtClose, context.Cause(ctx))
		}
	}
	return err
}
