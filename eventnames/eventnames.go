// Package eventnames tells which outcome event names no metric uses, the
// most common typo of an integration ("add_to_krat"). Such events are
// still stored (raw events are the source of truth, and a metric defined
// later counts them), but the sender is warned in the response and the
// names are counted for the dashboard's list of unknown events.
//
// The event write path is hot, so counting costs a map lookup per event:
// the known names are an immutable set swapped on refresh, and the counts
// of unknown names are kept in memory and added to the store in one write
// per interval, bounded in the number of distinct names.
package eventnames

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/warning"
)

// MaxNames bounds the distinct unknown names counted in memory between two
// writes and kept in the store (the most frequent ones).
const MaxNames = 1000

// maxWarnings bounds the distinct unknown names one batch's response
// names; suggestions are computed for these only.
const maxWarnings = 20

// Seen is an unknown event name and how often it arrived.
type Seen struct {
	Name      string    `json:"name"`
	Count     int64     `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Suggestion is the closest event name a metric uses, if one is close.
	Suggestion string `json:"suggestion,omitempty"`
}

// Store keeps the counts of unknown event names.
type Store interface {
	// AddUnknownEvents adds counts (Count to the stored count, the earliest
	// FirstSeen and the latest LastSeen) and keeps the MaxNames most
	// frequent names.
	AddUnknownEvents(ctx context.Context, seen []Seen) error
	// UnknownEvents returns the stored names, most frequent first (then by
	// name), at most limit.
	UnknownEvents(ctx context.Context, limit int) ([]Seen, error)
}

// Metrics lists the metric catalogue, whose event names are the known ones.
type Metrics interface {
	ListMetrics(ctx context.Context) ([]experiment.Metric, error)
}

// known is one immutable view of the catalogue's event names.
type known struct {
	set   map[string]struct{}
	names []string // sorted, for suggestions
}

// Options tune a Watcher.
type Options struct {
	// Interval between refreshes of the known names and writes of the
	// counts (default 1 s).
	Interval time.Duration
	Logger   *slog.Logger
}

// Watcher judges the event names of ingested batches against the metric
// catalogue and counts the unknown ones. It implements events.Names.
type Watcher struct {
	metrics Metrics
	store   Store
	opts    Options
	known   atomic.Pointer[known]

	mu      sync.Mutex
	pending map[string]*Seen
	dropped int64

	// flushMu serialises writes, so that counts taken from pending are in
	// the store before a later Flush returns.
	flushMu sync.Mutex
	stop    chan struct{}
	done    chan struct{}
}

// New returns a Watcher over the catalogue and store. Call Refresh (or
// Start) before the first batch: until then every name is known.
func New(metrics Metrics, store Store, opts Options) *Watcher {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Watcher{metrics: metrics, store: store, opts: opts, pending: map[string]*Seen{}}
}

// Refresh reloads the known event names from the catalogue. The built-in
// metrics' names are always known (every store is seeded with them).
func (w *Watcher) Refresh(ctx context.Context) error {
	ms, err := w.metrics.ListMetrics(ctx)
	if err != nil {
		return fmt.Errorf("list metrics for their event names: %w", err)
	}
	k := &known{set: map[string]struct{}{}}
	for _, m := range append(experiment.BuiltinMetrics(), ms...) {
		for _, name := range []string{m.Event, m.DenominatorEvent} {
			if _, dup := k.set[name]; name != "" && !dup {
				k.set[name] = struct{}{}
				k.names = append(k.names, name)
			}
		}
	}
	slices.Sort(k.names)
	w.known.Store(k)
	return nil
}

// Known reports whether some metric uses the event name. Before the first
// Refresh every name is known.
func (w *Watcher) Known(name string) bool {
	k := w.known.Load()
	if k == nil {
		return true
	}
	_, ok := k.set[name]
	return ok
}

// Suggest returns the known event name closest to name (warning.Closest),
// or "" when none is close.
func (w *Watcher) Suggest(name string) string {
	k := w.known.Load()
	if k == nil {
		return ""
	}
	return warning.Closest(k.names, name)
}

// Check implements events.Names: it warns about each event name of evs
// (the valid events of a batch) that no metric uses, with how many events
// carry it and a suggestion, and counts those that were stored.
func (w *Watcher) Check(evs []events.Event, stored []bool, now time.Time) []warning.Warning {
	k := w.known.Load()
	if k == nil {
		return nil
	}
	type tally struct{ all, stored int64 }
	var counts map[string]*tally // allocated at the first unknown name only
	var order []string
	last := ""
	for i := range evs {
		name := evs[i].Event
		if name == last {
			continue // a run of one known name
		}
		if _, ok := k.set[name]; ok {
			last = name
			continue
		}
		if counts == nil {
			counts = map[string]*tally{}
		}
		t := counts[name]
		if t == nil {
			t = &tally{}
			counts[name] = t
			order = append(order, name)
		}
		t.all++
		if stored[i] {
			t.stored++
		}
	}
	for _, name := range order {
		if n := counts[name].stored; n > 0 {
			w.count(name, n, now)
		}
	}
	if len(order) == 0 {
		return nil
	}
	out := make([]warning.Warning, 0, min(len(order), maxWarnings))
	for _, name := range order[:min(len(order), maxWarnings)] {
		out = append(out, warning.Warning{Code: warning.UnknownEvent, Event: name, Count: int(counts[name].all),
			Message: fmt.Sprintf("no metric uses the event %q; it is stored, and a metric defined on it later will count it", name),
			Hint:    warning.DidYouMean(warning.Closest(k.names, name))})
	}
	if extra := len(order) - maxWarnings; extra > 0 {
		out = append(out, warning.Warning{Code: warning.UnknownEvent,
			Message: fmt.Sprintf("and %d more event names no metric uses (see GET /v1/events/unknown)", extra)})
	}
	return out
}

// count adds n stored events of an unknown name to the pending counts.
func (w *Watcher) count(name string, n int64, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.pending[name]
	if !ok {
		if len(w.pending) >= MaxNames {
			w.dropped += n
			return
		}
		s = &Seen{Name: name, FirstSeen: now}
		w.pending[name] = s
	}
	s.Count += n
	if now.Before(s.FirstSeen) {
		s.FirstSeen = now
	}
	if now.After(s.LastSeen) {
		s.LastSeen = now
	}
}

// Flush writes the pending counts to the store. Counts a failed write
// took are put back, so they are written with the next one.
func (w *Watcher) Flush(ctx context.Context) error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	if len(w.pending) == 0 {
		w.mu.Unlock()
		return nil
	}
	taken, dropped := w.pending, w.dropped
	w.pending, w.dropped = map[string]*Seen{}, 0
	w.mu.Unlock()
	batch := make([]Seen, 0, len(taken))
	for _, s := range taken {
		batch = append(batch, *s)
	}
	slices.SortFunc(batch, func(a, b Seen) int { return strings.Compare(a.Name, b.Name) })
	if dropped > 0 {
		w.opts.Logger.Warn("unknown event names: too many distinct names in one interval; some were not counted",
			"limit", MaxNames, "events_not_counted", dropped)
	}
	if err := w.store.AddUnknownEvents(ctx, batch); err != nil {
		w.mu.Lock()
		for _, s := range batch {
			w.mergeBack(s)
		}
		w.mu.Unlock()
		return fmt.Errorf("store unknown event names: %w", err)
	}
	return nil
}

// mergeBack returns counts of a failed write to pending; w.mu is held.
func (w *Watcher) mergeBack(s Seen) {
	p, ok := w.pending[s.Name]
	if !ok {
		if len(w.pending) >= MaxNames {
			w.dropped += s.Count
			return
		}
		cp := s
		w.pending[s.Name] = &cp
		return
	}
	p.Count += s.Count
	if s.FirstSeen.Before(p.FirstSeen) {
		p.FirstSeen = s.FirstSeen
	}
	if s.LastSeen.After(p.LastSeen) {
		p.LastSeen = s.LastSeen
	}
}

// List writes the pending counts, then returns the unknown names seen,
// most frequent first, at most limit, each with a suggestion. Names a
// metric has come to use since are left out.
func (w *Watcher) List(ctx context.Context, limit int) ([]Seen, error) {
	if err := w.Refresh(ctx); err != nil {
		return nil, err
	}
	if err := w.Flush(ctx); err != nil {
		return nil, err
	}
	stored, err := w.store.UnknownEvents(ctx, MaxNames)
	if err != nil {
		return nil, fmt.Errorf("read unknown event names: %w", err)
	}
	out := make([]Seen, 0, min(len(stored), limit))
	for _, s := range stored {
		if len(out) == limit {
			break
		}
		if w.Known(s.Name) {
			continue
		}
		s.Suggestion = w.Suggest(s.Name)
		out = append(out, s)
	}
	return out, nil
}

// Start refreshes the known names and then, every interval, refreshes them
// again and writes the pending counts, until Stop.
func (w *Watcher) Start(ctx context.Context) error {
	if err := w.Refresh(ctx); err != nil {
		return err
	}
	w.stop, w.done = make(chan struct{}), make(chan struct{})
	go w.loop()
	return nil
}

func (w *Watcher) loop() {
	defer close(w.done)
	t := time.NewTicker(w.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := w.Refresh(ctx); err != nil {
				w.opts.Logger.Warn("unknown event names: refresh of the metric catalogue failed", "error", err)
			}
			if err := w.Flush(ctx); err != nil {
				w.opts.Logger.Warn("unknown event names: write failed; retried with the next one", "error", err)
			}
			cancel()
		}
	}
}

// Stop ends the interval loop and writes the pending counts as far as ctx
// allows.
func (w *Watcher) Stop(ctx context.Context) error {
	if w.stop != nil {
		close(w.stop)
		<-w.done
		w.stop = nil
	}
	return w.Flush(ctx)
}
