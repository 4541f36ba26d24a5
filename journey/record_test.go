package journey

import (
	"fmt"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

func at(day int, hour int) int64 {
	return time.Date(2025, 3, 3+day, hour, 0, 0, 0, time.UTC).UnixNano()
}

func TestDayIsTheUTCDay(t *testing.T) {
	for _, c := range []struct {
		name string
		ts   time.Time
		want int64
	}{
		{"the epoch is day 0", time.Unix(0, 0), 0},
		{"one nanosecond before midnight is the day before", time.Date(2025, 3, 3, 23, 59, 59, 999999999, time.UTC), 20150},
		{"midnight starts the day", time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC), 20151},
		{"a time zone does not move the UTC day", time.Date(2025, 3, 4, 0, 30, 0, 0, time.FixedZone("CET", 3600)), 20150},
		{"before the epoch rounds down", time.Unix(-1, 0), -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Day(c.ts.UnixNano()); got != c.want {
				t.Fatalf("Day(%v) = %d, want %d", c.ts, got, c.want)
			}
		})
	}
}

func TestFoldDefinesVisitorsAsUnitsWithAnEventThatDay(t *testing.T) {
	bits := map[string]uint{"add_to_cart": 0, "order_completed": 1}
	stages := experiment.StageBits(experiment.BuiltinMetrics())
	evs := []Event{
		{"a", "product_view", at(0, 9), 1}, {"a", "add_to_cart", at(0, 10), 1}, {"a", "add_to_cart", at(0, 11), 1},
		{"a", "add_to_cart", at(1, 9), 1}, // a again the next day: a visitor on both days
		{"b", "order_completed", at(0, 12), 30},
	}
	c := Fold(evs, bits, stages, nil, nil)
	d0, d1 := Day(at(0, 0)), Day(at(1, 0))
	if got := c.Daily[DailyKey{d0, Visitors}].Units; got != 2 {
		t.Fatalf("day 0 visitors %d, want 2", got)
	}
	if got := c.Daily[DailyKey{d1, Visitors}].Units; got != 1 {
		t.Fatalf("day 1 visitors %d, want 1", got)
	}
	if got := c.Daily[DailyKey{d0, "add_to_cart"}]; got.Units != 1 || got.Count != 2 {
		t.Fatalf("day 0 add_to_cart %+v, want 1 unit and 2 events", got)
	}
	consideration, decision, checkout := int64(1)<<1, int64(1)<<2, int64(1)<<3
	if got := c.Units["a"]; got != (UnitState{FirstDay: d0, Stages: consideration | decision, Day: d1, DayMask: 1}) {
		t.Fatalf("unit a %+v, want first day %d, consideration and decision, latest day %d with add_to_cart", got, d0, d1)
	}
	if c.Cohorts[CohortKey{d0, consideration | decision}] != 1 || c.Cohorts[CohortKey{d0, checkout}] != 1 || len(c.Cohorts) != 2 {
		t.Fatalf("cohorts %v, want a (consideration, decision) and b (checkout) on day 0", c.Cohorts)
	}

	t.Run("the unit's latest day answers for a repeat event that day", func(t *testing.T) {
		c := Fold([]Event{{"a", "add_to_cart", at(0, 15), 1}}, bits, stages, nil, map[string]UnitState{"a": {d0, decision, d0, 1}})
		if v := c.Daily[DailyKey{d0, Visitors}].Units; v != 0 || c.Daily[DailyKey{d0, "add_to_cart"}].Units != 0 {
			t.Fatalf("daily %v, want only a count", c.Daily)
		}
		if len(c.Units) != 0 || len(c.Cohorts) != 0 {
			t.Fatalf("changes %+v, want none beyond the daily count", c)
		}
	})
	t.Run("a late event asks what the unit did that day before", func(t *testing.T) {
		stored := map[string]UnitState{"a": {Day(at(-3, 0)), decision, d1, 0}}
		// a visited on day -1 with an add_to_cart (bit 0), not on day -2.
		past := map[DayUnit]int64{{Day(at(-1, 0)), "a"}: 1}
		c := Fold([]Event{{"a", "add_to_cart", at(-1, 8), 1}, {"a", "add_to_cart", at(-2, 8), 1}}, bits, stages, past, stored)
		if v := c.Daily[DailyKey{Day(at(-1, 0)), Visitors}].Units; v != 0 {
			t.Fatalf("day -1 got %d new visitors, want 0", v)
		}
		if v := c.Daily[DailyKey{Day(at(-2, 0)), Visitors}].Units; v != 1 || c.Daily[DailyKey{Day(at(-2, 0)), "add_to_cart"}].Units != 1 {
			t.Fatalf("day -2 daily %v, want a new visitor with a new add_to_cart", c.Daily)
		}
		if len(c.Units) != 0 {
			t.Fatalf("unit changed to %+v; late events inside its known days change neither first day nor mask", c.Units)
		}
	})
	t.Run("a late event of an earlier day moves the unit to the earlier cohort", func(t *testing.T) {
		c := Fold([]Event{{"a", "order_completed", at(-2, 8), 9}}, bits, stages, nil, map[string]UnitState{"a": {d0, decision, d0, 1}})
		early := Day(at(-2, 0))
		if c.Units["a"] != (UnitState{early, decision | checkout, d0, 1}) || c.Cohorts[CohortKey{d0, decision}] != -1 || c.Cohorts[CohortKey{early, decision | checkout}] != 1 {
			t.Fatalf("unit %+v cohorts %v, want a moved from (day 0, decision) to (day -2, decision and checkout)", c.Units["a"], c.Cohorts)
		}
	})
	t.Run("past masks are the stored counts less the batch", func(t *testing.T) {
		k1, k2 := DayUnit{Day(at(-1, 0)), "a"}, DayUnit{Day(at(-2, 0)), "a"}
		evs := []Event{{"a", "add_to_cart", at(-1, 8), 1}, {"a", "product_view", at(-2, 8), 1}}
		counts := map[DayUnit]map[string]int64{k1: {"add_to_cart": 2, "product_view": 1}, k2: {"product_view": 1}}
		got := pastMasks(evs, bits, []DayUnit{k1, k2}, counts)
		if len(got) != 1 || got[k1] != 1 {
			t.Fatalf("past %v, want only day -1 with add_to_cart's bit", got)
		}
	})
	t.Run("NPS responses fall in promoter, passive and detractor buckets", func(t *testing.T) {
		c := Fold([]Event{{"x", "nps", at(0, 1), 10}, {"y", "nps", at(0, 1), 9}, {"z", "nps", at(0, 1), 7}, {"w", "nps", at(0, 1), 6}}, nil, nil, nil, nil)
		if got := c.Daily[DailyKey{d0, "nps"}]; got.Promoters != 2 || got.Detractors != 1 || got.Count != 4 {
			t.Fatalf("nps %+v, want 2 promoters, 1 detractor of 4", got)
		}
	})
}

func TestAssignBitsStopsAtMaxTracked(t *testing.T) {
	bits := map[string]uint{}
	var evs []Event
	for i := range MaxTracked + 5 {
		evs = append(evs, Event{Unit: "u", Name: fmt.Sprintf("e%02d", i)}, Event{Unit: "u", Name: fmt.Sprintf("e%02d", i)})
	}
	added := AssignBits(bits, evs)
	if len(added) != MaxTracked || added["e00"] != 0 || added["e62"] != 62 {
		t.Fatalf("assigned %d bits (e00=%d, e62=%d), want %d in order of first sight", len(added), added["e00"], added["e62"], MaxTracked)
	}
	if _, ok := added["e63"]; ok {
		t.Fatal("the 64th name got a bit")
	}
	if more := AssignBits(added, evs); len(more) != 0 {
		t.Fatalf("full registry assigned %v", more)
	}
	if got := AssignBits(map[string]uint{"a": 0, "c": 2}, []Event{{Name: "b"}, {Name: "d"}}); got["b"] != 1 || got["d"] != 3 {
		t.Fatalf("free bits %v, want b=1 d=3", got)
	}
}
