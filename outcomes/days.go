package outcomes

import (
	"context"
	"fmt"
	"slices"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// DayView says which of a unit's events make up its day k since exposure.
type DayView string

// Day views. Day k of a unit is the 24 hours [at + k·24h, at + (k+1)·24h)
// after its first exposure at `at`, whatever UTC days they straddle, so that
// every unit's day k is equally long.
const (
	// Daily: the events of day k only (the usual novelty-effect curve).
	Daily DayView = "daily"
	// Cumulative: the events of days 0 to k.
	Cumulative DayView = "cumulative"
)

// DayScanChunk is how many exposed units ScanDays reads per round trip
// unless told otherwise.
const DayScanChunk = 1000

// DayStore is the I/O ScanDays needs: an experiment's exposures and the
// raw events of its units. Reads may come from separate snapshots: the
// view is an analysis read, not a ledger.
type DayStore interface {
	// ExposuresAfter returns up to limit exposures of experiment exp whose
	// unit id sorts after `after`, in unit id order.
	ExposuresAfter(ctx context.Context, exp, after string, limit int) ([]*Exposure, error)
	// EventsNamed returns the stored events of units whose name is among
	// names, each unit's in storage order.
	EventsNamed(ctx context.Context, units, names []string) (map[string][]Event, error)
}

// ByDay folds exposed units' events into sufficient statistics per metric,
// variant and day since exposure. A unit counts for day k only once that
// day has ended (at + (k+1)·24h <= now): counting a day still in progress
// would pull late days towards zero. Every metric is folded with its
// experiment rule (events.Rule), so windows, pre-exposure (CUPED) values,
// NPS answers and ratio denominators mean what they mean in the report.
type ByDay struct {
	rules    []events.Rule
	variants []string
	view     DayView
	now      int64
	maxDays  int

	// units[v][k] counts the units of variant v with a complete day k.
	units [][]int64
	// sums[r][v][k] is the uncapped statistics of rule r; for a metric
	// with a percentile cap, values[r][k] keeps each unit's values instead
	// (the cap of day k depends on every unit's day-k value).
	sums   [][][]stats.ArmStats
	values [][][]dayValue
	// reached is one more than the largest day any unit has completed.
	reached int
	// pre and post are Add's scratch space, reused from unit to unit.
	pre  []*Event
	post []dayEvent
}

// dayValue is one unit's values of a metric on one day, for a percentile cap.
type dayValue struct {
	variant   int
	y, x, pre float64
	counts    bool
}

// NewByDay prepares the fold of e's metrics ms over days 0..maxDays-1 as of
// now (Unix ns).
func NewByDay(e *experiment.Experiment, ms []experiment.Metric, view DayView, now int64, maxDays int) *ByDay {
	d := &ByDay{view: view, now: now, maxDays: maxDays}
	for _, v := range e.Variants {
		d.variants = append(d.variants, v.Key)
		d.units = append(d.units, make([]int64, maxDays))
	}
	for _, m := range ms {
		d.rules = append(d.rules, events.ExperimentRule(e, m))
		arms := make([][]stats.ArmStats, len(e.Variants))
		for v := range arms {
			arms[v] = make([]stats.ArmStats, maxDays)
		}
		d.sums = append(d.sums, arms)
		d.values = append(d.values, make([][]dayValue, maxDays))
	}
	return d
}

// Names returns the event names the metrics read.
func (d *ByDay) Names() []string {
	var out []string
	for i := range d.rules {
		m := &d.rules[i].Metric
		for _, n := range []string{m.Event, m.DenominatorEvent} {
			if n != "" && d.rules[i].Uses(n) && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// complete returns how many whole days since exposure x has had by now.
func (d *ByDay) complete(x *Exposure) int {
	if d.now < x.At {
		return 0
	}
	return int(min(int64(d.maxDays), (d.now-x.At)/events.DayNanos))
}

// Add folds the events of exposed unit x (in storage order). Units of a
// variant the experiment does not list are left out, as in the report.
func (d *ByDay) Add(x *Exposure, evs []Event) {
	v := slices.Index(d.variants, x.Variant)
	n := d.complete(x)
	if v < 0 || n == 0 {
		return
	}
	d.reached = max(d.reached, n)
	for k := range n {
		d.units[v][k]++
	}
	// Earlier events feed the pre-exposure value; those of the complete
	// days are sorted by day, each day's in storage order.
	d.pre, d.post = d.pre[:0], d.post[:0]
	for i := range evs {
		e := &evs[i]
		if e.TS < x.At {
			d.pre = append(d.pre, e)
		} else if k := int((e.TS - x.At) / events.DayNanos); k < n {
			d.post = append(d.post, dayEvent{k, e})
		}
	}
	slices.SortStableFunc(d.post, func(a, b dayEvent) int { return a.k - b.k })
	for r := range d.rules {
		rule := &d.rules[r]
		var base events.Rollup
		for _, e := range d.pre {
			rule.Fold(&base, x.At, e.Point)
		}
		// The rollup is piecewise constant in k: base until the first day
		// with events; then, daily, that day's fold for one day and base
		// again; cumulative, the running fold until the next such day.
		from, cur := 0, base
		for i := 0; i < len(d.post); {
			k := d.post[i].k
			d.span(r, v, cur, from, k)
			if d.view == Daily {
				cur = base
			}
			for ; i < len(d.post) && d.post[i].k == k; i++ {
				rule.Fold(&cur, x.At, d.post[i].e.Point)
			}
			d.span(r, v, cur, k, k+1)
			if d.view == Daily {
				cur = base
			}
			from = k + 1
		}
		d.span(r, v, cur, from, n)
	}
}

// dayEvent is an event on day k since its unit's exposure.
type dayEvent struct {
	k int
	e *Event
}

// span adds rollup u of a unit of variant v as its value on days [from, to).
func (d *ByDay) span(r, v int, u events.Rollup, from, to int) {
	if from >= to || u.IsZero() {
		return
	}
	rule := &d.rules[r]
	if rule.Metric.Capping.Type == "percentile" {
		y, x, pre, counts := rule.Values(u)
		for k := from; k < to; k++ {
			d.values[r][k] = append(d.values[r][k], dayValue{v, y, x, pre, counts})
		}
		return
	}
	c := rule.Contribution(u, rule.FixedCap())
	for k := from; k < to; k++ {
		c.AddTo(&d.sums[r][v][k])
	}
}

// Days returns how many days (0..Days()-1) at least one unit has completed.
func (d *ByDay) Days() int { return d.reached }

// Units returns the units of each variant (in the experiment's order) with
// a complete day k.
func (d *ByDay) Units(k int) []int64 {
	out := make([]int64, len(d.variants))
	for v := range d.variants {
		out[v] = d.units[v][k]
	}
	return out
}

// Arms returns the sufficient statistics of metric i (in the order given
// to NewByDay) on day k, per variant in the experiment's order, following
// the conventions of the report's cells: N is the units with a complete
// day k (respondents that day for NPS); a percentile cap is the quantile
// of the day-k values of those units.
func (d *ByDay) Arms(i, k int) []stats.ArmStats {
	rule := &d.rules[i]
	out := make([]stats.ArmStats, len(d.variants))
	for v := range out {
		out[v] = d.sums[i][v][k]
	}
	if rule.Metric.Capping.Type == "percentile" {
		vals := d.values[i][k]
		ys := make([]float64, len(vals))
		for j, u := range vals {
			ys[j] = u.y
		}
		var units int64
		for v := range d.variants {
			units += d.units[v][k]
		}
		cap := stats.PercentileCap(ys, units-int64(len(vals)), rule.Metric.Capping.Value)
		for _, u := range vals {
			rule.ContributionOf(u.y, u.x, u.pre, u.counts, cap).AddTo(&out[u.variant])
		}
	}
	if rule.Metric.Kind != experiment.KindNPS {
		for v := range out {
			out[v].N = d.units[v][k]
		}
	}
	return out
}

// ScanDays reads every exposure of experiment exp from st, chunk units at
// a time (DayScanChunk when chunk <= 0), with the units' events, and folds
// them into d.
func ScanDays(ctx context.Context, st DayStore, exp string, chunk int, d *ByDay) error {
	if chunk <= 0 {
		chunk = DayScanChunk
	}
	names := d.Names()
	after := ""
	for {
		xs, err := st.ExposuresAfter(ctx, exp, after, chunk)
		if err != nil {
			return fmt.Errorf("days since exposure of %s: exposures after %q: %w", exp, after, err)
		}
		if len(xs) == 0 {
			return nil
		}
		var evs map[string][]Event
		if len(names) > 0 {
			units := make([]string, len(xs))
			for i, x := range xs {
				units[i] = x.Unit
			}
			if evs, err = st.EventsNamed(ctx, units, names); err != nil {
				return fmt.Errorf("days since exposure of %s: events: %w", exp, err)
			}
		}
		for _, x := range xs {
			d.Add(x, evs[x.Unit])
		}
		if len(xs) < chunk {
			return nil
		}
		after = xs[len(xs)-1].Unit
	}
}
