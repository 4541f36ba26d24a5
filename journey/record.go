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
	"context"
	"fmt"
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

// UnitState is what the journey keeps per unit: the first day it was seen
// and the bits of every tracked event name it ever sent.
type UnitState struct {
	FirstDay int64
	Mask     int64
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

// CohortKey keys the cohort counts: units first seen on Day whose mask of
// tracked events ever sent is Mask.
type CohortKey struct {
	Day  int64
	Mask int64
}

// Changes is what one batch of events changes. DayUnits and Units hold
// new values (upserts); Daily and Cohorts hold increments.
type Changes struct {
	DayUnits map[DayUnit]int64
	Units    map[string]UnitState
	Daily    map[DailyKey]Daily
	Cohorts  map[CohortKey]int64
}

// Empty reports whether the changes write nothing.
func (c Changes) Empty() bool {
	return len(c.DayUnits) == 0 && len(c.Units) == 0 && len(c.Daily) == 0 && len(c.Cohorts) == 0
}

// Store is the I/O Record needs, inside the caller's write transaction.
type Store interface {
	// JourneyBits returns every event name that has a bit.
	JourneyBits(ctx context.Context) (map[string]uint, error)
	// AddJourneyBits records newly given bits.
	AddJourneyBits(ctx context.Context, bits map[string]uint) error
	// JourneyDayUnits returns the stored masks of the keys that exist.
	JourneyDayUnits(ctx context.Context, keys []DayUnit) (map[DayUnit]int64, error)
	// JourneyUnits returns the stored states of the units that exist.
	JourneyUnits(ctx context.Context, units []string) (map[string]UnitState, error)
	// WriteJourney applies the changes.
	WriteJourney(ctx context.Context, c Changes) error
}

// Record folds newly stored events (duplicates already dropped) into the
// journey aggregates through st. Stores call it in the transaction that
// stores the events, so aggregates and events never disagree.
func Record(ctx context.Context, st Store, evs []Event) error {
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
	keys, units := batchKeys(evs)
	dayUnits, err := st.JourneyDayUnits(ctx, keys)
	if err != nil {
		return fmt.Errorf("journey: read unit days: %w", err)
	}
	states, err := st.JourneyUnits(ctx, units)
	if err != nil {
		return fmt.Errorf("journey: read units: %w", err)
	}
	c := Fold(evs, bits, dayUnits, states)
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

// batchKeys returns the distinct (day, unit) pairs and units of evs, sorted.
func batchKeys(evs []Event) ([]DayUnit, []string) {
	seenKey := make(map[DayUnit]bool, len(evs))
	seenUnit := make(map[string]bool, len(evs))
	var keys []DayUnit
	var units []string
	for _, ev := range evs {
		k := DayUnit{Day(ev.TS), ev.Unit}
		if !seenKey[k] {
			seenKey[k] = true
			keys = append(keys, k)
		}
		if !seenUnit[ev.Unit] {
			seenUnit[ev.Unit] = true
			units = append(units, ev.Unit)
		}
	}
	slices.SortFunc(keys, func(a, b DayUnit) int {
		if a.Day != b.Day {
			return int(a.Day - b.Day)
		}
		return strings.Compare(a.Unit, b.Unit)
	})
	slices.Sort(units)
	return keys, units
}

// Fold computes the changes evs make given the stored state: dayUnits and
// units hold the stored rows of the batch's keys (absent = not stored). A
// day's visitor count grows when a unit's first event of that day
// arrives; an event name's distinct units when its bit first flips in the
// unit's mask of the day; a cohort moves when a unit's first day or
// lifetime mask changes.
func Fold(evs []Event, bits map[string]uint, dayUnits map[DayUnit]int64, units map[string]UnitState) Changes {
	c := Changes{DayUnits: map[DayUnit]int64{}, Units: map[string]UnitState{}, Daily: map[DailyKey]Daily{}, Cohorts: map[CohortKey]int64{}}
	curDay := make(map[DayUnit]int64, len(evs))
	curUnit := make(map[string]UnitState, len(evs))
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

		k := DayUnit{d, ev.Unit}
		mask, ok := curDay[k]
		if !ok {
			mask, ok = dayUnits[k]
			if !ok {
				// The unit's first event of the day: one more visitor.
				v := c.Daily[DailyKey{d, Visitors}]
				v.Units++
				c.Daily[DailyKey{d, Visitors}] = v
				c.DayUnits[k] = 0
			}
		}
		if mask&bit != bit {
			mask |= bit
			agg.Units++
			c.DayUnits[k] = mask
		}
		curDay[k] = mask
		c.Daily[dk] = agg

		st, ok := curUnit[ev.Unit]
		if !ok {
			if st, ok = units[ev.Unit]; !ok {
				st = UnitState{FirstDay: d}
				c.Units[ev.Unit] = st
			}
		}
		next := UnitState{FirstDay: min(st.FirstDay, d), Mask: st.Mask | bit}
		if next != st {
			c.Units[ev.Unit] = next
		}
		curUnit[ev.Unit] = next
	}
	for u, next := range c.Units {
		if old, ok := units[u]; ok {
			if old == next {
				delete(c.Units, u)
				continue
			}
			c.Cohorts[CohortKey{old.FirstDay, old.Mask}]--
		}
		c.Cohorts[CohortKey{next.FirstDay, next.Mask}]++
	}
	for k, n := range c.Cohorts {
		if n == 0 {
			delete(c.Cohorts, k)
		}
	}
	return c
}
