package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/outcomes"
)

// MemDays is an in-memory outcomes.DayStore: the reference the stores'
// days-since-exposure reads are compared with, and a source for tests of
// the view itself. Like a store it keeps each (experiment, unit)'s first
// exposure and each (unit, event id)'s first event, in the order given.
type MemDays struct {
	xs      []*outcomes.Exposure
	exposed map[[2]string]bool
	evs     map[string][]outcomes.Event
	ids     map[[2]string]bool
}

// NewMemDays holds exposures xs and events evs (storage order). Events
// without a value count 1, like the stores'; their time must be set.
func NewMemDays(xs []experiment.Exposure, evs []events.Event) *MemDays {
	m := &MemDays{exposed: map[[2]string]bool{}, evs: map[string][]outcomes.Event{}, ids: map[[2]string]bool{}}
	m.Add(xs, evs)
	return m
}

// Add stores more exposures and events after those already held.
func (m *MemDays) Add(xs []experiment.Exposure, evs []events.Event) {
	for _, x := range xs {
		if k := [2]string{x.Experiment, x.Unit}; !m.exposed[k] {
			m.exposed[k] = true
			m.xs = append(m.xs, &outcomes.Exposure{Unit: x.Unit, Experiment: x.Experiment, Variant: x.Variant, At: x.At.UnixNano()})
		}
	}
	slices.SortStableFunc(m.xs, func(a, b *outcomes.Exposure) int { return strings.Compare(a.Unit, b.Unit) })
	for _, e := range evs {
		if k := [2]string{e.UnitID, e.EventID}; m.ids[k] {
			continue
		} else {
			m.ids[k] = true
		}
		v := 1.0
		if e.Value != nil {
			v = *e.Value
		}
		seq := int64(len(m.evs[e.UnitID]) + 1)
		m.evs[e.UnitID] = append(m.evs[e.UnitID], outcomes.Event{Unit: e.UnitID, Seq: seq,
			Point: events.Point{ID: e.EventID, Event: e.Event, TS: e.TS.UnixNano(), Value: v}})
	}
}

// ExposuresAfter implements outcomes.DayStore.
func (m *MemDays) ExposuresAfter(_ context.Context, exp, after string, limit int) ([]*outcomes.Exposure, error) {
	var out []*outcomes.Exposure
	for _, x := range m.xs {
		if x.Experiment == exp && x.Unit > after && len(out) < limit {
			out = append(out, x)
		}
	}
	return out, nil
}

// EventsNamed implements outcomes.DayStore.
func (m *MemDays) EventsNamed(_ context.Context, units, names []string) (map[string][]outcomes.Event, error) {
	out := map[string][]outcomes.Event{}
	for _, u := range units {
		for _, e := range m.evs[u] {
			if slices.Contains(names, e.Event) {
				out[u] = append(out[u], e)
			}
		}
	}
	return out, nil
}

// daySums folds every metric of "exp" by day since exposure, both views,
// from src as of now, as rows to compare.
func daySums(t *testing.T, st experiment.Store, src outcomes.DayStore, now time.Time, chunk int) []Sum {
	t.Helper()
	e := GetExperiment(t, st, "exp")
	var ms []experiment.Metric
	for _, k := range e.AllMetrics() {
		ms = append(ms, GetMetric(t, st, k))
	}
	var out []Sum
	for _, view := range []outcomes.DayView{outcomes.Daily, outcomes.Cumulative} {
		d := outcomes.NewByDay(e, ms, view, now.UnixNano(), 14)
		if err := outcomes.ScanDays(context.Background(), src, "exp", chunk, d); err != nil {
			t.Fatal(err)
		}
		for k := range d.Days() {
			out = append(out, Sum{Key: fmt.Sprintf("%s day %d units %v", view, k, d.Units(k))})
			for i, m := range ms {
				for v, a := range d.Arms(i, k) {
					out = append(out, SumOf(fmt.Sprintf("%s day %d %s %s", view, k, m.Key, e.Variants[v].Key), a))
				}
			}
		}
	}
	return out
}

// opsDays is the reference MemDays of a workload.
func opsDays(ops []Op) *MemDays {
	m := NewMemDays(nil, nil)
	for _, o := range ops {
		m.Add(o.Exposures, o.Events)
	}
	return m
}

func testDaysSinceExposure(t *testing.T, open opener) {
	now := T0.Add(9*24*hour + 7*hour)
	for _, c := range []struct {
		name   string
		dyadic bool
		tol    float64
	}{
		{"with exactly summable values they equal an in-memory fold of the same data", true, 0},
		{"with arbitrary values they equal an in-memory fold up to float rounding", false, 1e-12},
	} {
		t.Run(c.name, func(t *testing.T) {
			ops := Workload(11, c.dyadic)
			st, _ := open(t)
			Apply(t, st, ops)
			want := daySums(t, st, opsDays(ops), now, 0)
			if len(want) < 20 {
				t.Fatalf("only %d rows: the workload should span several days since exposure", len(want))
			}
			CompareSums(t, "days since exposure", want, daySums(t, st, st, now, 0), c.tol)
			t.Run("in chunks of a few units too", func(t *testing.T) {
				CompareSums(t, "days since exposure", want, daySums(t, st, st, now, 7), c.tol)
			})
		})
	}
}
