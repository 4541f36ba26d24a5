// Package journey is the live journey map: every stage's KPIs for all
// traffic (not only units in experiments) per UTC day, the funnel across
// stages with its worst drop-off, and the experiments run at each stage.
//
// The daily aggregates are maintained as events are stored (Record, called
// by each store inside its event-batch transaction), so reading the map
// never scans raw events. The definitions ("visitor", "reached a stage")
// are in docs/journey.md.
package journey

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// MaxTracked is how many distinct event names get a bit in the per-day
// and per-unit masks (bits 0..62 of a signed 64-bit integer). Events of
// further names still count toward visitors, counts and sums, but not
// toward distinct units or stage reach.
const MaxTracked = 63

// Visitors is the event name under which the daily aggregates keep the
// day's visitors (no real event name is empty).
const Visitors = ""

// NPS score bounds: promoters answer 9 or 10, detractors 0 to 6.
const (
	promoterMin  = 9
	detractorMax = 6
)

// Event is one stored event as the journey sees it.
type Event struct {
	Unit  string
	Name  string
	TS    int64 // Unix nanoseconds
	Value float64
}

// Day returns the UTC day index (days since 1970-01-01) of a Unix
// nanosecond timestamp.
func Day(tsNanos int64) int64 {
	const perDay = int64(86400e9)
	d := tsNanos / perDay
	if tsNanos%perDay < 0 {
		d--
	}
	return d
}

// DayUnit keys one unit on one day.
type DayUnit struct {
	Day  int64
	Unit string
}

// UnitState is what the journey keeps per unit: the first day it was seen,
// the stages it reached (bit i for the stage of Order i), and its latest
// day with the bits of the event names it sent that day. Events arrive mostly in
// time order, so the latest day answers "is this the unit's first event of
// the day (or of this name that day)?" without a row per unit and day;
// a late event of an earlier day asks the stored events instead.
type UnitState struct {
	FirstDay int64
	Stages   int64
	Day      int64
	DayMask  int64
}

// DailyKey keys the daily aggregates: one event name on one day
// (Visitors for the visitor count).
type DailyKey struct {
	Day   int64
	Event string
}

// Daily is the aggregate of one event name on one day. Units counts
// distinct units (tracked names only; for Visitors, the visitors).
type Daily struct {
	Units      int64
	Count      int64
	Sum        float64
	Promoters  int64
	Detractors int64
}

// Add returns d + o.
func (d Daily) Add(o Daily) Daily {
	return Daily{Units: d.Units + o.Units, Count: d.Count + o.Count, Sum: d.Sum + o.Sum,
		Promoters: d.Promoters + o.Promoters, Detractors: d.Detractors + o.Detractors}
}

// CohortKey keys the cohort counts: units first seen on Day that reached
// the stages Stages.
type CohortKey struct {
	Day    int64
	Stages int64
}

// Changes is what one batch of events changes. Units hold new values
// (upserts); Daily and Cohorts hold increments.
type Changes struct {
	Units   map[string]UnitState
	Daily   map[DailyKey]Daily
	Cohorts map[CohortKey]int64
}

// Empty reports whether the changes write nothing.
func (c Changes) Empty() bool {
	return len(c.Units) == 0 && len(c.Daily) == 0 && len(c.Cohorts) == 0
}

// Store is the I/O Record needs, inside the caller's write transaction.
type Store interface {
	// JourneyBits returns every event name that has a bit.
	JourneyBits(ctx context.Context) (map[string]uint, error)
	// AddJourneyBits records newly given bits.
	AddJourneyBits(ctx context.Context, bits map[string]uint) error
	// JourneyUnits returns the stored states of the units that exist.
	JourneyUnits(ctx context.Context, units []string) (map[string]UnitState, error)
	// JourneyEventCounts counts, per key and event name, the stored events
	// of the unit on that UTC day, including the batch being recorded. It
	// is asked only about days before a unit's latest day (late events).
	JourneyEventCounts(ctx context.Context, keys []DayUnit) (map[DayUnit]map[string]int64, error)
	// WriteJourney applies the changes.
	WriteJourney(ctx context.Context, c Changes) error
}

// Record folds newly stored events (duplicates already dropped) into the
// journey aggregates through st; stages maps event names to stage bits
// (experiment.StageBits of the catalogue in force). Stores call it in the transaction
// that stores the events, so aggregates and events never disagree.
func Record(ctx context.Context, st Store, evs []Event, stages map[string]int64) error {
	if len(evs) == 0 {
		return nil
	}
	bits, err := st.JourneyBits(ctx)
	if err != nil {
		return fmt.Errorf("journey: read event bits: %w", err)
	}
	if added := AssignBits(bits, evs); len(added) > 0 {
		if err := st.AddJourneyBits(ctx, added); err != nil {
			return fmt.Errorf("journey: add event bits: %w", err)
		}
		for k, v := range added {
			bits[k] = v
		}
	}
	states, err := st.JourneyUnits(ctx, batchUnits(evs))
	if err != nil {
		return fmt.Errorf("journey: read units: %w", err)
	}
	var past map[DayUnit]int64
	if late := lateKeys(evs, states); len(late) > 0 {
		counts, err := st.JourneyEventCounts(ctx, late)
		if err != nil {
			return fmt.Errorf("journey: read earlier days: %w", err)
		}
		past = pastMasks(evs, bits, late, counts)
	}
	c := Fold(evs, bits, stages, past, states)
	if c.Empty() {
		return nil
	}
	if err := st.WriteJourney(ctx, c); err != nil {
		return fmt.Errorf("journey: write aggregates: %w", err)
	}
	return nil
}

// AssignBits gives the free bits, in order, to the names in evs that have
// none yet, first seen first, until MaxTracked names have one. It returns
// only the new ones.
func AssignBits(bits map[string]uint, evs []Event) map[string]uint {
	if len(bits) >= MaxTracked {
		return nil
	}
	used := make([]bool, MaxTracked)
	for _, b := range bits {
		if b < MaxTracked {
			used[b] = true
		}
	}
	next := 0
	var added map[string]uint
	for _, ev := range evs {
		if _, ok := bits[ev.Name]; ok {
			continue
		}
		if _, ok := added[ev.Name]; ok {
			continue
		}
		for next < MaxTracked && used[next] {
			next++
		}
		if next == MaxTracked {
			break
		}
		if added == nil {
			added = map[string]uint{}
		}
		added[ev.Name] = uint(next)
		used[next] = true
	}
	return added
}

// batchUnits returns the distinct units of evs, sorted.
func batchUnits(evs []Event) []string {
	units := make([]string, 0, len(evs))
	for _, ev := range evs {
		units = append(units, ev.Unit)
	}
	slices.Sort(units)
	return slices.Compact(units)
}

// lateKeys returns the (day, unit) pairs of events before their stored
// unit's latest day, sorted.
func lateKeys(evs []Event, states map[string]UnitState) []DayUnit {
	var keys []DayUnit
	seen := map[DayUnit]bool{}
	for _, ev := range evs {
		st, ok := states[ev.Unit]
		k := DayUnit{Day(ev.TS), ev.Unit}
		if ok && k.Day < st.Day && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b DayUnit) int {
		if a.Day != b.Day {
			return cmp.Compare(a.Day, b.Day)
		}
		return strings.Compare(a.Unit, b.Unit)
	})
	return keys
}

// pastMasks returns the mask of each late key before the batch: the stored
// counts (which include the batch) less the batch's own events. A key
// whose unit had no event that day is absent.
func pastMasks(evs []Event, bits map[string]uint, keys []DayUnit, counts map[DayUnit]map[string]int64) map[DayUnit]int64 {
	want := make(map[DayUnit]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	prior := map[DayUnit]map[string]int64{}
	for k, byName := range counts {
		if !want[k] {
			continue
		}
		prior[k] = maps.Clone(byName)
	}
	for _, ev := range evs {
		k := DayUnit{Day(ev.TS), ev.Unit}
		if byName := prior[k]; byName != nil {
			byName[ev.Name]--
		}
	}
	out := map[DayUnit]int64{}
	for k, byName := range prior {
		var mask int64
		visited := false
		for name, n := range byName {
			if n <= 0 {
				continue
			}
			visited = true
			if b, ok := bits[name]; ok {
				mask |= 1 << b
			}
		}
		if visited {
			out[k] = mask
		}
	}
	return out
}

// Fold computes the changes evs make given the stored state: units holds
// the stored states of the batch's units and past the masks of the late
// (day, unit) pairs that had events before the batch (absent = none). A
// day's visitor count grows with a unit's first event of that day; an
// event name's distinct units when its bit first flips in the unit's mask
// of the day; a cohort moves when a unit's first day or stages change.
func Fold(evs []Event, bits map[string]uint, stages map[string]int64, past map[DayUnit]int64, units map[string]UnitState) Changes {
	c := Changes{Units: map[string]UnitState{}, Daily: map[DailyKey]Daily{}, Cohorts: map[CohortKey]int64{}}
	// earlier holds the masks of days before a unit's latest day, as the
	// batch moves them: from past, or archived when a later day arrives.
	earlier := map[DayUnit]int64{}
	cur := make(map[string]UnitState, len(evs))
	for _, ev := range evs {
		d := Day(ev.TS)
		dk := DailyKey{d, ev.Name}
		agg := c.Daily[dk]
		agg.Count++
		agg.Sum += ev.Value
		if ev.Value >= promoterMin {
			agg.Promoters++
		} else if ev.Value <= detractorMax {
			agg.Detractors++
		}
		var bit int64
		if b, ok := bits[ev.Name]; ok {
			bit = 1 << b
		}
		st, known := cur[ev.Unit]
		if !known {
			st, known = units[ev.Unit]
		}
		next := st
		var dayMask int64
		newVisitor := false
		switch {
		case !known:
			next = UnitState{FirstDay: d, Day: d}
			newVisitor = true
		case d == st.Day:
			dayMask = st.DayMask
		case d > st.Day:
			earlier[DayUnit{st.Day, ev.Unit}] = st.DayMask
			next.Day, next.DayMask = d, 0
			newVisitor = true
		default:
			k := DayUnit{d, ev.Unit}
			m, ok := earlier[k]
			if !ok {
				m, ok = past[k]
			}
			dayMask, newVisitor = m, !ok
		}
		if newVisitor {
			v := c.Daily[DailyKey{d, Visitors}]
			v.Units++
			c.Daily[DailyKey{d, Visitors}] = v
		}
		if dayMask&bit != bit {
			agg.Units++
		}
		dayMask |= bit
		if d == next.Day {
			next.DayMask = dayMask
		} else {
			earlier[DayUnit{d, ev.Unit}] = dayMask
		}
		next.FirstDay = min(next.FirstDay, d)
		next.Stages |= stages[ev.Name]
		c.Daily[dk] = agg
		cur[ev.Unit] = next
		if !known || next != st {
			c.Units[ev.Unit] = next
		}
	}
	for u, next := range c.Units {
		if old, ok := units[u]; ok {
			if old == next {
				delete(c.Units, u)
				continue
			}
			if old.FirstDay == next.FirstDay && old.Stages == next.Stages {
				continue
			}
			c.Cohorts[CohortKey{old.FirstDay, old.Stages}]--
		}
		c.Cohorts[CohortKey{next.FirstDay, next.Stages}]++
	}
	for k, n := range c.Cohorts {
		if n == 0 {
			delete(c.Cohorts, k)
		}
	}
	return c
}
