package outcomes

import (
	"context"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
)

// memStore is an in-memory Store: exposures, rollups and events.
type memStore struct {
	exposures []*Exposure
	rollups   map[Key]Stored
	events    []Event
	// eventReads counts EventsOf calls (a refold reads events).
	eventReads int
}

func (m *memStore) ExposuresOf(_ context.Context, units []string) (map[string][]*Exposure, error) {
	out := map[string][]*Exposure{}
	for _, x := range m.exposures {
		for _, u := range units {
			if x.Unit == u {
				out[u] = append(out[u], x)
			}
		}
	}
	return out, nil
}

func (m *memStore) RollupsOf(_ context.Context, exp string, units []string) (map[Key]Stored, error) {
	out := map[Key]Stored{}
	for k, v := range m.rollups {
		for _, u := range units {
			if k.Experiment == exp && k.Unit == u {
				out[k] = v
			}
		}
	}
	return out, nil
}

// EventsOf returns events in storage (Seq) order, whatever order they were added in.
func (m *memStore) EventsOf(_ context.Context, units []string) (map[string][]Event, error) {
	m.eventReads++
	out := map[string][]Event{}
	for seq := int64(1); seq <= int64(len(m.events))+100; seq++ {
		for _, e := range m.events {
			if e.Seq != seq {
				continue
			}
			for _, u := range units {
				if e.Unit == u {
					out[u] = append(out[u], e)
				}
			}
		}
	}
	return out, nil
}

// apply stores the changes as a store would.
func (m *memStore) apply(cs []*Change) {
	for _, c := range cs {
		if !c.Changed() {
			continue
		}
		if c.New.IsZero() {
			delete(m.rollups, c.Key)
			continue
		}
		m.rollups[c.Key] = Stored{Rollup: c.New, Seq: c.Seq}
	}
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC).UnixNano()

func rules() *events.Attribution {
	revenue := experiment.Metric{Key: "revenue", Kind: experiment.KindMean, Aggregation: experiment.AggSum, Event: "order"}
	conv := experiment.Metric{Key: "conversion", Kind: experiment.KindBinomial, Event: "order"}
	e := &experiment.Experiment{Key: "exp", GoalMetrics: []string{"revenue"}, SecondaryMetrics: []string{"conversion"}}
	return events.CompileAttribution(1, []*experiment.Experiment{e}, nil, []experiment.Metric{revenue, conv})
}

func order(unit string, seq int64, value float64, after time.Duration) Event {
	return Event{Unit: unit, Seq: seq, Point: events.Point{ID: unit + "-" + time.Duration(seq).String(), Event: "order", TS: t0 + int64(after), Value: value}}
}

func TestEngine(t *testing.T) {
	ctx := context.Background()
	cfg := rules()

	t.Run("events of an exposed unit fold into every metric that reads them", func(t *testing.T) {
		m := &memStore{rollups: map[Key]Stored{}, exposures: []*Exposure{{Unit: "u1", Experiment: "exp", Variant: "a", At: t0}}}
		evs := []Event{order("u1", 1, 10, time.Hour), order("u2", 2, 99, time.Hour), order("u1", 3, 5, 2*time.Hour)}
		m.events = evs
		cs, err := Attribute(ctx, m, cfg, evs)
		if err != nil {
			t.Fatal(err)
		}
		m.apply(cs)
		if r := m.rollups[Key{"exp", "u1", "revenue"}]; r.Rollup.Sum != 15 || r.Rollup.Count != 2 || r.Seq != 3 {
			t.Errorf("revenue rollup %+v, want sum 15 over 2 events up to position 3", r)
		}
		if r := m.rollups[Key{"exp", "u1", "conversion"}]; r.Rollup.Count != 2 {
			t.Errorf("conversion rollup %+v", r)
		}
		if _, ok := m.rollups[Key{"exp", "u2", "revenue"}]; ok {
			t.Error("an unexposed unit got a rollup")
		}
		if m.eventReads != 0 {
			t.Errorf("in-order events read the unit's events %d times; only a refold should", m.eventReads)
		}
	})

	t.Run("an event committed behind one already folded in refolds the unit in storage order", func(t *testing.T) {
		m := &memStore{rollups: map[Key]Stored{}, exposures: []*Exposure{{Unit: "u1", Experiment: "exp", Variant: "a", At: t0}}}
		late := []Event{order("u1", 2, 0.2, time.Hour), order("u1", 3, 0.3, time.Hour)}
		m.events = late
		cs, _ := Attribute(ctx, m, cfg, late)
		m.apply(cs)
		early := order("u1", 1, 0.1, time.Hour)
		m.events = append(m.events, early)
		cs, err := Attribute(ctx, m, cfg, []Event{early})
		if err != nil {
			t.Fatal(err)
		}
		m.apply(cs)
		r := m.rollups[Key{"exp", "u1", "revenue"}]
		// Variables, not constants: Go folds constant expressions exactly.
		a, b, c := 0.1, 0.2, 0.3
		if r.Rollup.Sum != (a+b)+c || r.Seq != 3 || m.eventReads != 1 {
			t.Errorf("rollup %+v after %d event reads, want (0.1+0.2)+0.3 (storage order) at position 3 after one refold", r, m.eventReads)
		}
		rebuilt, err := Rebuild(ctx, m, cfg.Experiments["exp"], m.exposures)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rebuilt {
			if c.Changed() {
				t.Errorf("a rebuild changes %v: %+v -> %+v", c.Key, c.Old, c.New)
			}
		}
	})

	t.Run("a new exposure back-fills the unit's earlier events, pre-exposure ones as CUPED values", func(t *testing.T) {
		m := &memStore{rollups: map[Key]Stored{}}
		m.events = []Event{order("u1", 1, 7, -time.Hour), order("u1", 2, 3, time.Hour), {Unit: "u1", Seq: 3, Point: events.Point{ID: "x", Event: "other", TS: t0}}}
		x := &Exposure{Unit: "u1", Experiment: "exp", Variant: "b", At: t0, Attrs: "opaque"}
		cs, err := Backfill(ctx, m, cfg, []*Exposure{x, {Unit: "u9", Experiment: "exp", Variant: "a", At: t0}, {Unit: "u1", Experiment: "unknown", Variant: "a", At: t0}})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 2 || cs[0].Exposure.Attrs != "opaque" || cs[0].Exists {
			t.Fatalf("changes %+v, want the two metrics of exp for u1 only, carrying the exposure", cs)
		}
		m.apply(cs)
		r := m.rollups[Key{"exp", "u1", "revenue"}].Rollup
		if r.Sum != 3 || r.PreSum != 7 || r.PreCount != 1 {
			t.Errorf("revenue rollup %+v, want 3 after exposure and 7 before it", r)
		}
	})

	t.Run("a rebuild drops what no event supports and restores what was lost", func(t *testing.T) {
		m := &memStore{rollups: map[Key]Stored{
			{"exp", "u1", "revenue"}: {Rollup: events.Rollup{Count: 9, Sum: 900}},
			{"exp", "u2", "revenue"}: {Rollup: events.Rollup{Count: 1, Sum: 1}},
		}}
		m.exposures = []*Exposure{{Unit: "u1", Experiment: "exp", Variant: "a", At: t0}, {Unit: "u2", Experiment: "exp", Variant: "b", At: t0}}
		m.events = []Event{order("u1", 1, 4, time.Hour)}
		cs, err := Rebuild(ctx, m, cfg.Experiments["exp"], m.exposures)
		if err != nil {
			t.Fatal(err)
		}
		m.apply(cs)
		if r := m.rollups[Key{"exp", "u1", "revenue"}].Rollup; r.Sum != 4 || r.Count != 1 {
			t.Errorf("u1 revenue %+v, want 4", r)
		}
		if _, ok := m.rollups[Key{"exp", "u2", "revenue"}]; ok {
			t.Error("u2 keeps a rollup no event supports")
		}
	})
}

type defs struct{ loads int }

func (d *defs) ListExperiments(context.Context, experiment.Filter) ([]*experiment.Experiment, error) {
	d.loads++
	return nil, nil
}
func (d *defs) ListMetrics(context.Context) ([]experiment.Metric, error) { return nil, nil }
func (d *defs) ListLayers(context.Context) ([]experiment.Layer, error)   { return nil, nil }

func TestRulesAreCompiledOncePerVersion(t *testing.T) {
	var r Rules
	d := &defs{}
	for _, v := range []int64{1, 1, 1, 2, 2} {
		a, err := r.For(context.Background(), v, d)
		if err != nil || a.Version != v {
			t.Fatalf("version %d: %+v, %v", v, a, err)
		}
	}
	if d.loads != 2 {
		t.Errorf("definitions loaded %d times for 2 versions", d.loads)
	}
}
