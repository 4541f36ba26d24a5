package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/journeylab/journeylab/privacy"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/stats"
)

// erasedUnit selects the units the erasure cases erase: every seventh of
// the workload's, exposed (u000..u099) and never exposed (u100..u119).
func erasedUnit(unit string) bool {
	var n int
	_, err := fmt.Sscanf(unit, "u%03d", &n)
	return err == nil && n%7 == 3
}

// withoutUnits returns ops without the records of units keep rejects.
func withoutUnits(ops []Op, drop func(string) bool) []Op {
	var out []Op
	for _, o := range ops {
		var k Op
		for _, x := range o.Exposures {
			if !drop(x.Unit) {
				k.Exposures = append(k.Exposures, x)
			}
		}
		for _, e := range o.Events {
			if !drop(e.UnitID) {
				k.Events = append(k.Events, e)
			}
		}
		if k.Exposures != nil || k.Events != nil {
			out = append(out, k)
		}
	}
	return out
}

// erasedUnits lists the units of ops that drop selects, once each.
func erasedUnits(ops []Op, drop func(string) bool) []privacy.Unit {
	seen := map[string]bool{}
	var out []privacy.Unit
	add := func(u string) {
		if drop(u) && !seen[u] {
			seen[u] = true
			out = append(out, privacy.Unit{ID: u, Hash: "hash-of-" + u})
		}
	}
	for _, o := range ops {
		for _, x := range o.Exposures {
			add(x.Unit)
		}
		for _, e := range o.Events {
			add(e.UnitID)
		}
	}
	return out
}

// allCells reads every metric's cells of "exp", plain, daily and by device.
func allCells(t *testing.T, st OutcomeBackend) []Sum {
	t.Helper()
	var out []Sum
	for _, m := range append([]string{"conversion"}, fixtureMetrics...) {
		for _, q := range []report.CellQuery{{}, {Daily: true}, {Dimension: "device"}, {Dimension: "device", Daily: true}} {
			out = append(out, CellSums(fmt.Sprintf("%s %+v", m, q), Cells(t, st, "exp", m, q))...)
		}
	}
	return out
}

func testErase(t *testing.T, h Outcomes, open opener) {
	ctx := context.Background()
	at := T0.Add(30 * 24 * time.Hour)
	for _, c := range []struct {
		name   string
		dyadic bool
		tol    float64
	}{
		{"with exactly summable values every total and cell equals a store that never had the units", true, 0},
		{"with arbitrary values the totals agree up to float rounding", false, 1e-9},
	} {
		t.Run(c.name, func(t *testing.T) {
			ops := Workload(5, c.dyadic)
			st, _ := open(t)
			Apply(t, st, ops)
			units := erasedUnits(ops, erasedUnit)
			got, err := st.EraseUnits(ctx, units, at)
			if err != nil {
				t.Fatal(err)
			}
			if got.Units != int64(len(units)) || got.Exposures == 0 || got.Events == 0 || got.Rollups == 0 {
				t.Errorf("erased %+v: want %d units and some exposures, events and rollups", got, len(units))
			}
			ref, _ := open(t)
			Apply(t, ref, withoutUnits(ops, erasedUnit))
			want := h.Stored(t, ref, "exp")
			CompareStored(t, want, h.Stored(t, st, "exp"), c.tol)
			CompareSums(t, "cells", allCells(t, ref), allCells(t, st), c.tol)
			daysAt := T0.Add(9 * 24 * time.Hour)
			CompareSums(t, "days since exposure", daySums(t, ref, ref, daysAt, 0), daySums(t, st, st, daysAt, 0), c.tol)
			if g, w := h.RawEvents(t, st), h.RawEvents(t, ref); g != w {
				t.Errorf("%d raw events left, want %d", g, w)
			}
			t.Run("a rebuild afterwards changes nothing", func(t *testing.T) {
				if err := st.Rebuild(ctx, "exp", nil); err != nil {
					t.Fatal(err)
				}
				CompareStored(t, want, h.Stored(t, st, "exp"), c.tol)
			})
		})
	}
	t.Run("erasing again removes nothing more", func(t *testing.T) {
		ops := Workload(6, true)
		st, _ := open(t)
		Apply(t, st, ops)
		units := erasedUnits(ops, erasedUnit)
		if _, err := st.EraseUnits(ctx, units, at); err != nil {
			t.Fatal(err)
		}
		before := h.Stored(t, st, "exp")
		again, err := st.EraseUnits(ctx, units, at.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if want := (privacy.Erased{Units: int64(len(units))}); again != want {
			t.Errorf("second erasure %+v, want %+v", again, want)
		}
		CompareStored(t, before, h.Stored(t, st, "exp"), 0)
	})
	t.Run("the audit answers which hashes were erased", func(t *testing.T) {
		st, _ := open(t)
		if any, err := st.AnyErased(ctx); err != nil || any {
			t.Fatalf("a new store: any erased = %v, %v", any, err)
		}
		if _, err := st.EraseUnits(ctx, []privacy.Unit{{ID: "u1", Hash: "h1"}, {ID: "u2", Hash: "h2"}}, at); err != nil {
			t.Fatal(err)
		}
		if any, err := st.AnyErased(ctx); err != nil || !any {
			t.Errorf("after an erasure: any erased = %v, %v", any, err)
		}
		got, err := st.ErasedAmong(ctx, []string{"h2", "h3"})
		if err != nil || len(got) != 1 || !got["h2"] {
			t.Errorf("erased among h2, h3: %v, %v; want h2", got, err)
		}
	})
	// Keeping erased units out is the merges' job (the app's), not the
	// store's: the store takes what it is given.
	t.Run("the store stores what it is given for an erased unit id", func(t *testing.T) {
		st, _ := open(t)
		if _, err := st.EraseUnits(ctx, []privacy.Unit{{ID: "u1", Hash: "h1"}}, at); err != nil {
			t.Fatal(err)
		}
		MustExpose(t, st, Exposure("u1", "control", 0, nil))
		MustAppend(t, st, Event("o1", "u1", "order_completed", 20, hour))
		cells := Cells(t, st, "exp", "revenue_per_visitor", report.CellQuery{})
		if len(cells) != 2 || cells[0].Variant != "control" || cells[0].Stats.N != 1 || cells[0].Stats.Sum != 20 || cells[1].Stats.N != 0 {
			t.Errorf("cells %+v, want one control unit with revenue 20 and an empty treatment", cells)
		}
	})
	t.Run("erasing every unit leaves no totals", func(t *testing.T) {
		ops := Workload(7, false)
		st, _ := open(t)
		Apply(t, st, ops)
		if _, err := st.EraseUnits(ctx, erasedUnits(ops, func(string) bool { return true }), at); err != nil {
			t.Fatal(err)
		}
		s := h.Stored(t, st, "exp")
		if len(s.Rollups)+len(s.Counts)+len(s.Sums) != 0 || h.RawEvents(t, st) != 0 {
			t.Errorf("left %d rollups, %d counts, %d totals, %d events", len(s.Rollups), len(s.Counts), len(s.Sums), h.RawEvents(t, st))
		}
		for _, m := range []string{"conversion", "nps"} {
			for _, c := range Cells(t, st, "exp", m, report.CellQuery{Dimension: "device"}) {
				if c.Stats != (stats.ArmStats{}) {
					t.Errorf("%s cell %+v, want empty statistics", m, c)
				}
			}
		}
	})
}
