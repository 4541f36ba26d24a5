package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Batch is what a Merger fills from journal records and writes to a store.
type Batch interface {
	// Add decodes rec (valid only during the call) into the batch and
	// reports whether the batch has room for more. On error the batch must
	// be unchanged: the record is skipped.
	Add(rec []byte) (more bool, err error)
	// Len is the number of items in the batch.
	Len() int
	// Write stores the batch; an error is retried with backoff. Write must
	// be idempotent: after a crash, records since the last persisted
	// position are merged again.
	Write(ctx context.Context) error
	// Reset empties the batch.
	Reset()
}

// MergerOptions tune a Merger. Zero values take the defaults.
type MergerOptions struct {
	// Interval is the longest a record waits before a merge (default 200 ms).
	Interval time.Duration
	// Name says what is merged, for logs ("exposures", "events").
	Name string
	// Logger receives merge problems (default slog.Default()).
	Logger *slog.Logger
	// OnWriteError is called after each failed Write (e.g. a metric).
	OnWriteError func()
	// OnSkip is called with the number of records skipped because they do
	// not decode.
	OnSkip func(n int)
	// WakeEvery starts a merge as soon as that many items were appended
	// since the last wake (see Appended), so a full batch does not wait
	// for the Interval. 0: merges run on the Interval only.
	WakeEvery int
	// Share bounds the merger's use of one core while records keep arriving
	// and the journal is less than half full: after a batch that took d it
	// rests d·(1−Share)/Share, so that a burst is absorbed by the journal
	// rather than taking CPU from the requests that fill it. 0 or 1: no
	// rest. With nothing arriving, and for Flush, Stop and a journal more
	// than half full, it merges at full speed.
	Share float64
}

// Retry backoff of failed writes: doubling from the first delay up to the
// cap, so a store outage is probed a few times a second at first and then
// every few seconds without flooding the log.
const (
	firstRetryDelay = 50 * time.Millisecond
	maxRetryDelay   = 5 * time.Second
)

// Merger is the single consumer of a journal: one goroutine that reads the
// records behind the committed position into a Batch, writes it, and
// commits the position after it.
type Merger struct {
	j    *Journal
	b    Batch
	o    MergerOptions
	wake chan struct{}
	// flushReq asks for a merge of everything appended so far.
	flushReq chan chan error
	stop     chan struct{}
	done     chan struct{}
	// ctx governs writes and retries; Close cancels it when its own
	// context ends, which bounds the final merge.
	ctx    context.Context
	cancel context.CancelFunc
	// left is the journal's unmerged bytes when the merger stopped.
	left int64
	// appended counts items appended since the last wake.
	appended atomic.Int64
	// lastBatch is how long the last batch took (read, write, commit).
	lastBatch time.Duration
	// seenEnd is the journal's end when the merger last rested: records
	// arrived since when the end has moved.
	seenEnd Pos
}

// NewMerger returns a merger of j's records into b; Start runs it.
func NewMerger(j *Journal, b Batch, o MergerOptions) *Merger {
	if o.Interval <= 0 {
		o.Interval = 200 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Merger{j: j, b: b, o: o, wake: make(chan struct{}, 1), flushReq: make(chan chan error),
		stop: make(chan struct{}), done: make(chan struct{}), ctx: ctx, cancel: cancel}
}

// Start runs the merger goroutine.
func (m *Merger) Start() { go m.run() }

// Appended tells the merger that n items were appended to its journal; it
// wakes up once MergerOptions.WakeEvery have been since the last wake.
func (m *Merger) Appended(n int) {
	if m.o.WakeEvery > 0 && m.appended.Add(int64(n)) >= int64(m.o.WakeEvery) {
		m.appended.Store(0)
		m.wakeUp()
	}
}

// wakeUp asks for a merge now (a full batch is waiting), without blocking.
func (m *Merger) wakeUp() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *Merger) run() {
	defer close(m.done)
	t := time.NewTicker(m.o.Interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = m.merge(true)
		case <-m.wake:
			_ = m.merge(true)
		case reply := <-m.flushReq:
			reply <- m.merge(false)
		case <-m.stop:
			err := m.merge(false)
			m.left = m.j.Pending()
			if err != nil && m.left > 0 {
				m.o.Logger.Warn(m.o.Name+" left in the journal at shutdown; they are merged at the next start",
					"bytes", m.left, "error", err)
			}
			return
		}
	}
}

// merge moves everything appended before the call into the store, batch by
// batch, resting between batches when paced (see MergerOptions.Share). It
// returns an error only when the merger's context ends (shutdown deadline)
// or the journal cannot be read or committed; store errors are retried.
func (m *Merger) merge(paced bool) error {
	end := m.j.End()
	for first := true; ; first = false {
		if paced && !first {
			if !m.rest() {
				return nil // stopping or flushing: the caller merges again at full speed
			}
		}
		started := time.Now()
		m.lastBatch = 0
		from := m.j.Committed()
		if !from.Less(end) {
			return nil
		}
		m.b.Reset()
		skipped := 0
		next, err := m.j.Read(from, 1<<62, func(rec []byte) bool {
			more, derr := m.b.Add(rec)
			if derr != nil {
				// It passed its checksum, so a different version wrote it:
				// skip it, loudly.
				skipped++
				m.o.Logger.Error("skipping a journal record that does not decode", "journal", m.o.Name, "error", derr)
				return true
			}
			return more
		})
		if skipped > 0 && m.o.OnSkip != nil {
			m.o.OnSkip(skipped)
		}
		if err != nil {
			m.o.Logger.Error("reading the journal failed", "journal", m.o.Name, "error", err)
			return err
		}
		if m.b.Len() > 0 {
			if err := m.write(); err != nil {
				m.b.Reset()
				return err
			}
		}
		m.b.Reset()
		if err := m.j.Commit(next); err != nil {
			m.o.Logger.Error("committing the journal position failed", "journal", m.o.Name, "error", err)
			return err
		}
		m.lastBatch = time.Since(started)
	}
}

// rest waits after a batch as MergerOptions.Share asks. It returns false
// when a flush or a stop is waiting, which must not be delayed.
func (m *Merger) rest() bool {
	share := m.o.Share
	end := m.j.End()
	arriving := end != m.seenEnd
	m.seenEnd = end
	if share <= 0 || share >= 1 || !arriving || m.j.Pending() > m.j.opts.MaxBytes/2 {
		return true
	}
	d := time.Duration(float64(m.lastBatch) * (1 - share) / share)
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-m.stop:
		// Closed channel: run's select sees it next.
		return false
	case reply := <-m.flushReq:
		reply <- m.merge(false)
		return true
	}
}

// write stores the batch, retrying with backoff until it succeeds or the
// merger's context ends.
func (m *Merger) write() error {
	delay := firstRetryDelay
	for attempt := 1; ; attempt++ {
		err := m.b.Write(m.ctx)
		if err == nil {
			return nil
		}
		if m.ctx.Err() != nil {
			// Stopped at the shutdown deadline: the batch stays journaled.
			return fmt.Errorf("merge %d %s: %w", m.b.Len(), m.o.Name, m.ctx.Err())
		}
		if m.o.OnWriteError != nil {
			m.o.OnWriteError()
		}
		m.o.Logger.Warn("merging the journal into the store failed; retrying", "journal", m.o.Name,
			"batch", m.b.Len(), "attempt", attempt, "retry_in", delay, "error", err)
		select {
		case <-m.ctx.Done():
			return fmt.Errorf("merge %d %s: %w (last error: %w)", m.b.Len(), m.o.Name, m.ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, maxRetryDelay)
	}
}

// ErrStopped is returned by Flush after Close.
var ErrStopped = errors.New("journal: merger stopped")

// Flush merges everything appended before the call and waits for it.
func (m *Merger) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case m.flushReq <- reply:
	case <-m.done:
		return ErrStopped
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

// Stop merges what it can until ctx ends, stops the goroutine and returns
// the journal bytes left unmerged (they stay for the next start). The
// caller closes the journal afterwards.
func (m *Merger) Stop(ctx context.Context) int64 {
	select {
	case <-m.done:
		return m.left
	default:
	}
	stopAfter := context.AfterFunc(ctx, m.cancel)
	defer stopAfter()
	close(m.stop)
	<-m.done
	m.cancel()
	return m.left
}
