// Package outcomes is journeylab's one attribution engine. It decides which
// per-unit rollups a store must write when events arrive (attribution),
// when a unit is first exposed to an experiment (back-fill of the events
// that came first), and when an experiment's rollups are recomputed from raw
// events (rebuild). Both stores call it inside their own transactions over
// the narrow Store interface below; what each store keeps besides the
// rollups (SQLite's maintained totals, MongoDB's per-unit values for its
// aggregation pipelines) is the store's business, computed from the
// Changes the engine returns.
//
// A rollup is a fold over the unit's events in storage order (events.Rule),
// so the incremental paths and a rebuild produce the same bits. A store
// that can commit events out of storage order (several instances writing
// to one database) keeps the storage position of the last event folded
// into each rollup; an event behind it makes the engine refold the unit
// from its stored events.
//
// The same rules fold a unit's raw events by day since its exposure for
// the days-since-exposure view (ByDay, ScanDays), which is read from raw
// events rather than maintained.
package outcomes

import (
	"context"
	"fmt"
	"sync"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
)

// Exposure is a unit's first exposure to an experiment.
type Exposure struct {
	Unit, Experiment, Variant string
	// At is the exposure time in Unix nanoseconds.
	At int64
	// Attrs is what the store keeps with the exposure for its segment
	// breakdowns; the engine hands it back with every change.
	Attrs any
}

// Day returns the UTC day of the exposure.
func (x *Exposure) Day() int64 { return events.DayOf(x.At) }

// Event is a stored event of Unit at storage position Seq.
type Event struct {
	Unit string
	Seq  int64
	events.Point
}

// Stored is a rollup as the store holds it.
type Stored struct {
	Rollup events.Rollup
	// Seq is the storage position of the last event folded in; 0 for a
	// store whose events are always folded in storage order.
	Seq int64
}

// Key identifies one rollup.
type Key struct{ Experiment, Unit, Metric string }

// Change is one rollup the engine computed: what the store holds (Exists,
// Old, OldSeq) and what it must hold (New, Seq). A New that IsZero means
// the rollup should not exist.
type Change struct {
	Key
	Rule     *events.Rule
	Exposure *Exposure
	Exists   bool
	Old      events.Rollup
	OldSeq   int64
	New      events.Rollup
	Seq      int64
}

// Changed reports whether the store must write the change.
func (c *Change) Changed() bool { return c.New != c.Old || c.Seq != c.OldSeq }

// Store is the I/O the engine needs, within the caller's transaction.
type Store interface {
	// ExposuresOf returns the stored exposures of units, by unit.
	ExposuresOf(ctx context.Context, units []string) (map[string][]*Exposure, error)
	// RollupsOf returns the stored rollups of units in experiment exp.
	RollupsOf(ctx context.Context, exp string, units []string) (map[Key]Stored, error)
	// EventsOf returns the stored events of units, each unit's in storage order.
	EventsOf(ctx context.Context, units []string) (map[string][]Event, error)
}

// batch collects the changes of one call, in the order they were added, so
// that stores sum their totals in the same order every time.
type batch struct {
	rows  map[Key]*Change
	order []*Change
}

func newBatch() *batch { return &batch{rows: map[Key]*Change{}} }

func (b *batch) add(c *Change) {
	b.rows[c.Key] = c
	b.order = append(b.order, c)
}

// fold adds e to c. It returns false, leaving c unchanged, when e would
// change the rollup but sits before an event already folded in: the unit
// must be refolded.
func (c *Change) fold(e Event) bool {
	before := c.New
	if !c.Rule.Fold(&c.New, c.Exposure.At, e.Point) {
		return true
	}
	if e.Seq < c.Seq {
		c.New = before
		return false
	}
	c.Seq = e.Seq
	return true
}

// refold recomputes the batch's changes of (er, unit) from the unit's
// events, which must be in storage order.
func (b *batch) refold(er *events.ExperimentRules, unit string, evs []Event) {
	var cs []*Change
	for i := range er.Rules {
		if c := b.rows[Key{er.Key, unit, er.Rules[i].Metric.Key}]; c != nil {
			c.New, c.Seq = events.Rollup{}, 0
			cs = append(cs, c)
		}
	}
	for _, e := range evs {
		for _, c := range cs {
			c.fold(e)
		}
	}
}

// track registers the rollups of every metric of er for x, starting from
// what is stored.
func (b *batch) track(er *events.ExperimentRules, x *Exposure, stored map[Key]Stored) {
	for i := range er.Rules {
		k := Key{er.Key, x.Unit, er.Rules[i].Metric.Key}
		s, ok := stored[k]
		b.add(&Change{Key: k, Rule: &er.Rules[i], Exposure: x, Exists: ok, Old: s.Rollup, OldSeq: s.Seq, New: s.Rollup, Seq: s.Seq})
	}
}

// Attribute folds new events (pts, in storage order) into the rollups of
// every experiment their unit is exposed to. Events of units that are not
// exposed (yet) stay raw: Backfill attributes them when the exposure comes.
func Attribute(ctx context.Context, st Store, cfg *events.Attribution, pts []Event) ([]*Change, error) {
	var units []string
	seen := map[string]bool{}
	for _, p := range pts {
		if len(cfg.ByEvent[p.Event]) > 0 && !seen[p.Unit] {
			seen[p.Unit] = true
			units = append(units, p.Unit)
		}
	}
	if len(units) == 0 {
		return nil, nil
	}
	exposed, err := st.ExposuresOf(ctx, units)
	if err != nil {
		return nil, err
	}
	exposure := func(exp, unit string) *Exposure {
		for _, x := range exposed[unit] {
			if x.Experiment == exp {
				return x
			}
		}
		return nil
	}
	// The (experiment, unit) pairs the events may change, per experiment in
	// first-seen order; seenPair says which pairs were looked up and whether
	// the unit was exposed.
	byExp := map[*events.ExperimentRules][]*Exposure{}
	var exps []*events.ExperimentRules
	seenPair := map[[2]string]bool{}
	for _, p := range pts {
		for _, t := range cfg.ByEvent[p.Event] {
			k := [2]string{t.Exp.Key, p.Unit}
			if _, looked := seenPair[k]; looked {
				continue
			}
			// Recorded with or without an exposure (true: exposed), so a
			// unit's later events in the batch do not search again.
			x := exposure(t.Exp.Key, p.Unit)
			seenPair[k] = x != nil
			if x != nil {
				if byExp[t.Exp] == nil {
					exps = append(exps, t.Exp)
				}
				byExp[t.Exp] = append(byExp[t.Exp], x)
			}
		}
	}
	b := newBatch()
	for _, er := range exps {
		xs := byExp[er]
		us := make([]string, len(xs))
		for i, x := range xs {
			us[i] = x.Unit
		}
		stored, err := st.RollupsOf(ctx, er.Key, us)
		if err != nil {
			return nil, err
		}
		for _, x := range xs {
			b.track(er, x, stored)
		}
	}
	refold := map[[2]string]*events.ExperimentRules{}
	var again []string
	for _, p := range pts {
		for _, t := range cfg.ByEvent[p.Event] {
			k := [2]string{t.Exp.Key, p.Unit}
			if !seenPair[k] || refold[k] != nil {
				continue
			}
			if c := b.rows[Key{t.Exp.Key, p.Unit, t.Exp.Rules[t.Rule].Metric.Key}]; !c.fold(p) {
				refold[k] = t.Exp
				again = append(again, p.Unit)
			}
		}
	}
	if len(again) > 0 {
		evs, err := st.EventsOf(ctx, again)
		if err != nil {
			return nil, err
		}
		for k, er := range refold {
			b.refold(er, k[1], evs[k[1]])
		}
	}
	return b.order, nil
}

// Backfill attributes the stored events of units that were just exposed
// (fresh: exposures the store has just inserted), including pre-exposure
// events for CUPED. A unit without events an experiment reads gets no
// rollups for it.
func Backfill(ctx context.Context, st Store, cfg *events.Attribution, fresh []*Exposure) ([]*Change, error) {
	var units []string
	seen := map[string]bool{}
	for _, x := range fresh {
		if er := cfg.Experiments[x.Experiment]; er != nil && len(er.Rules) > 0 && !seen[x.Unit] {
			seen[x.Unit] = true
			units = append(units, x.Unit)
		}
	}
	if len(units) == 0 {
		return nil, nil
	}
	evs, err := st.EventsOf(ctx, units)
	if err != nil {
		return nil, err
	}
	b := newBatch()
	for _, x := range fresh {
		er := cfg.Experiments[x.Experiment]
		if er == nil || len(er.Rules) == 0 {
			continue
		}
		var cs []*Change
		for _, e := range evs[x.Unit] {
			if !er.UsesEvent(e.Event) {
				continue
			}
			if cs == nil {
				// A new exposure has no rollups yet: every metric starts from zero.
				for i := range er.Rules {
					c := &Change{Key: Key{er.Key, x.Unit, er.Rules[i].Metric.Key}, Rule: &er.Rules[i], Exposure: x}
					b.add(c)
					cs = append(cs, c)
				}
			}
			for _, c := range cs {
				c.fold(e)
			}
		}
	}
	return b.order, nil
}

// Rebuild recomputes from raw events the rollups of every metric of er for
// the exposed units xs (a chunk of the experiment's units). A rollup that
// was right comes out bit for bit the same.
func Rebuild(ctx context.Context, st Store, er *events.ExperimentRules, xs []*Exposure) ([]*Change, error) {
	if len(xs) == 0 {
		return nil, nil
	}
	units := make([]string, len(xs))
	for i, x := range xs {
		units[i] = x.Unit
	}
	stored, err := st.RollupsOf(ctx, er.Key, units)
	if err != nil {
		return nil, err
	}
	evs, err := st.EventsOf(ctx, units)
	if err != nil {
		return nil, err
	}
	b := newBatch()
	for _, x := range xs {
		b.track(er, x, stored)
		b.refold(er, x.Unit, evs[x.Unit])
	}
	return b.order, nil
}

// Rules caches the attribution rules of one config version, so that
// ingestion does not re-read definitions per batch.
type Rules struct {
	mu  sync.Mutex
	cur *events.Attribution
}

// Definitions is what compiling the rules reads from a store.
type Definitions interface {
	ListExperiments(ctx context.Context, f experiment.Filter) ([]*experiment.Experiment, error)
	ListMetrics(ctx context.Context) ([]experiment.Metric, error)
	ListLayers(ctx context.Context) ([]experiment.Layer, error)
}

// For returns the rules of config version v, compiling them from defs when
// the cached ones are of another version. The caller reads v in the same
// transaction as defs, so that nothing commits between the two.
func (r *Rules) For(ctx context.Context, v int64, defs Definitions) (*events.Attribution, error) {
	r.mu.Lock()
	cur := r.cur
	r.mu.Unlock()
	if cur != nil && cur.Version == v {
		return cur, nil
	}
	exps, err := defs.ListExperiments(ctx, experiment.Filter{})
	if err != nil {
		return nil, fmt.Errorf("load experiments for attribution: %w", err)
	}
	ms, err := defs.ListMetrics(ctx)
	if err != nil {
		return nil, fmt.Errorf("load metrics for attribution: %w", err)
	}
	layers, err := defs.ListLayers(ctx)
	if err != nil {
		return nil, fmt.Errorf("load layers for attribution: %w", err)
	}
	a := events.CompileAttribution(v, exps, layers, ms)
	r.mu.Lock()
	r.cur = a
	r.mu.Unlock()
	return a, nil
}
