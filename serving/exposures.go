package serving

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"journeylab/experiment"
)

// ErrClosed is returned by Flush after Close.
var ErrClosed = errors.New("serving: closed")

// Retry backoff of failed exposure writes: doubling from the first delay up
// to the cap, so a store outage is probed a few times a second at first and
// then every few seconds without flooding the log.
const (
	firstRetryDelay = 50 * time.Millisecond
	maxRetryDelay   = 5 * time.Second
	// writeTimeout bounds one batch insert; a hung store must not stall the
	// writer forever.
	writeTimeout = 30 * time.Second
)

// exposureLog buffers exposures and writes them in batches from one
// goroutine. The buffer holds pending (not yet taken) and inflight (taken by
// the writer, written chunk by chunk) exposures; together they never exceed
// bufferSize.
type exposureLog struct {
	w           ExposureWriter
	log         *slog.Logger
	m           *metrics
	batchSize   int
	bufferSize  int
	flushEvery  time.Duration
	enqueueWait time.Duration

	mu       sync.Mutex
	pending  []experiment.Exposure
	inflight []experiment.Exposure
	written  int // exposures of inflight already written
	spare    []experiment.Exposure
	space    chan struct{} // closed (and replaced) whenever room frees up
	closed   bool

	// failing is set while the last write failed: waiting for room cannot
	// help then, so a full buffer drops at once.
	failing atomic.Bool

	wake     chan struct{}
	flushReq chan chan error
	stop     chan struct{}
	done     chan struct{}
	// ctx governs writes and retries; Close cancels it when its own
	// context ends, which bounds the final drain.
	ctx    context.Context
	cancel context.CancelFunc

	lastDropLog atomic.Int64
	droppedAll  atomic.Int64
	// lostAtClose is set by the writer before it exits.
	lostAtClose int
	// batch is the writer's reusable copy of the chunk being written.
	batch []experiment.Exposure
}

func newExposureLog(w ExposureWriter, o Options, m *metrics) *exposureLog {
	ctx, cancel := context.WithCancel(context.Background())
	return &exposureLog{
		w: w, log: o.Logger, m: m,
		batchSize: o.BatchSize, bufferSize: o.BufferSize,
		flushEvery: o.FlushInterval, enqueueWait: o.EnqueueWait,
		space:    make(chan struct{}),
		wake:     make(chan struct{}, 1),
		flushReq: make(chan chan error),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		ctx:      ctx,
		cancel:   cancel,
	}
}

// depth returns the number of buffered, unwritten exposures.
func (l *exposureLog) depth() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending) + len(l.inflight) - l.written
}

// enqueue buffers xs, waiting up to enqueueWait for room. It returns the
// exposures that did not fit (nil when all were queued); the caller counts
// them as dropped.
func (l *exposureLog) enqueue(xs []experiment.Exposure) []experiment.Exposure {
	var timer *time.Timer
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return xs
		}
		room := l.bufferSize - (len(l.pending) + len(l.inflight) - l.written)
		n := max(0, min(room, len(xs)))
		l.pending = append(l.pending, xs[:n]...)
		xs = xs[n:]
		full := len(l.pending) >= l.batchSize
		space := l.space
		l.mu.Unlock()
		l.m.queued.Add(float64(n))
		if full || len(xs) > 0 {
			select {
			case l.wake <- struct{}{}:
			default:
			}
		}
		if len(xs) == 0 {
			return nil
		}
		if l.failing.Load() {
			return xs
		}
		if timer == nil {
			l.m.waits.Inc()
			timer = time.NewTimer(l.enqueueWait)
			defer timer.Stop()
		}
		select {
		case <-space:
		case <-timer.C:
			return xs
		}
	}
}

// dropped counts lost exposures and logs them, at most once a second so a
// full buffer under load does not also flood the log.
func (l *exposureLog) dropped(n int, reason string) {
	if n == 0 {
		return
	}
	l.m.dropped.Add(float64(n))
	total := l.droppedAll.Add(int64(n))
	now, last := time.Now().UnixNano(), l.lastDropLog.Load()
	if now-last >= int64(time.Second) && l.lastDropLog.CompareAndSwap(last, now) {
		l.log.Warn("exposures dropped", "count", n, "dropped_total", total, "reason", reason)
	}
}

// pendingExposures calls fn for every buffered exposure whose experiment is
// in keys, under the buffer lock (fn must be quick and must not enqueue).
func (l *exposureLog) pendingExposures(keys map[string]bool, fn func(x *experiment.Exposure)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, list := range [][]experiment.Exposure{l.inflight, l.pending} {
		for i := range list {
			if keys[list[i].Experiment] {
				fn(&list[i])
			}
		}
	}
}

// run is the writer goroutine.
func (l *exposureLog) run() {
	defer close(l.done)
	t := time.NewTicker(l.flushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = l.drain()
		case <-l.wake:
			_ = l.drain()
		case reply := <-l.flushReq:
			reply <- l.drain()
		case <-l.stop:
			l.final()
			return
		}
	}
}

// final drains everything after Close; whatever cannot be written before
// the close deadline is counted as dropped.
func (l *exposureLog) final() {
	for l.depth() > 0 {
		if err := l.drain(); err != nil {
			l.mu.Lock()
			lost := len(l.pending) + len(l.inflight) - l.written
			l.pending, l.inflight, l.written = nil, nil, 0
			l.mu.Unlock()
			l.lostAtClose = lost
			l.m.dropped.Add(float64(lost))
			l.log.Error("exposures lost at shutdown: the store did not accept them before the shutdown deadline", "count", lost, "error", err)
			return
		}
	}
}

// drain takes everything pending and writes it in batches. It returns an
// error only when l.ctx ends (shutdown deadline); other write errors are
// retried.
func (l *exposureLog) drain() error {
	l.mu.Lock()
	if len(l.inflight) == 0 {
		l.inflight, l.pending = l.pending, l.spare[:0]
		l.spare = nil
	}
	l.mu.Unlock()
	// Only this goroutine changes inflight (under the lock), so reading it
	// without the lock here is safe.
	for l.written < len(l.inflight) {
		end := min(l.written+l.batchSize, len(l.inflight))
		// The store gets a copy: it may reorder its argument, and
		// pendingExposures reads inflight concurrently.
		l.batch = append(l.batch[:0], l.inflight[l.written:end]...)
		err := l.write(l.batch)
		clear(l.batch)
		if err != nil {
			return err
		}
		l.mu.Lock()
		l.written = end
		close(l.space)
		l.space = make(chan struct{})
		l.mu.Unlock()
	}
	l.mu.Lock()
	clear(l.inflight)
	l.spare, l.inflight, l.written = l.inflight[:0], nil, 0
	l.mu.Unlock()
	return nil
}

// write inserts one batch, retrying with backoff until it succeeds or l.ctx
// ends. A batch the store rejects as invalid is dropped, not retried.
func (l *exposureLog) write(batch []experiment.Exposure) error {
	delay := firstRetryDelay
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(l.ctx, writeTimeout)
		n, err := l.w.InsertExposures(ctx, batch)
		cancel()
		if err == nil {
			l.failing.Store(false)
			l.m.written.Add(float64(n))
			l.m.duplicates.Add(float64(len(batch) - n))
			return nil
		}
		l.m.writeErrors.Inc()
		if errors.Is(err, experiment.ErrInvalid) {
			// The store refuses the data itself: retrying cannot help and
			// would hold up every later exposure.
			l.m.dropped.Add(float64(len(batch)))
			l.log.Error("the store refused a batch of exposures; dropped", "batch", len(batch), "error", err)
			return nil
		}
		l.failing.Store(true)
		l.log.Warn("writing exposures failed; retrying", "batch", len(batch), "attempt", attempt, "retry_in", delay, "error", err)
		select {
		case <-l.ctx.Done():
			return fmt.Errorf("write %d exposures: %w (last error: %v)", len(batch), l.ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, maxRetryDelay)
	}
}

// flush asks the writer to write everything buffered now and waits for it.
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

// close refuses new exposures, drains the buffer and stops the writer. The
// drain is bounded by ctx.
func (l *exposureLog) close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.done
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	stopAfter := context.AfterFunc(ctx, l.cancel)
	defer stopAfter()
	close(l.stop)
	<-l.done
	l.cancel()
	if l.lostAtClose > 0 {
		return fmt.Errorf("drain exposures: %d not written before the deadline: %w", l.lostAtClose, context.Cause(ctx))
	}
	return nil
}
