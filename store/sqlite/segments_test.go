package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/stats"
	"github.com/journeylab/journeylab/store/storetest"
)

func TestExposureSegments(t *testing.T) {
	many := map[string]string{}
	for i := 0; i < maxSegmentDimensions+1; i++ {
		many[fmt.Sprintf("a%02d", i)] = "v"
	}
	manyDims := make([]string, 0, len(many))
	for k := range many {
		manyDims = append(manyDims, k)
	}
	cases := []struct {
		name     string
		attrs    map[string]string
		segs     []segment
		overflow []string
	}{
		{"no attributes give no segments", nil, nil, nil},
		{"attributes become segments sorted by name", map[string]string{"device": "mobile", "channel": "seo"}, []segment{{"channel", "seo"}, {"device", "mobile"}}, nil},
		{"empty values and (none) are left to the (none) segment", map[string]string{"device": "", "channel": "(none)", "os": "ios"}, []segment{{"os", "ios"}}, nil},
		{"names the report cannot query are ignored", map[string]string{"bad name": "x", `a"b`: "y", "ok": "z"}, []segment{{"ok", "z"}}, nil},
		{"a value beyond the bound overflows its dimension only", map[string]string{"ua": strings.Repeat("x", maxSegmentValue+1), "device": "mobile"}, []segment{{"device", "mobile"}}, []string{"ua"}},
		{"a value at the bound is kept", map[string]string{"ua": strings.Repeat("x", maxSegmentValue)}, []segment{{"ua", strings.Repeat("x", maxSegmentValue)}}, nil},
		{"too many attributes overflow every dimension", many, nil, slices.Sorted(slices.Values(manyDims))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			segs, overflow := exposureSegments(tc.attrs)
			if !reflect.DeepEqual(segs, tc.segs) || !reflect.DeepEqual(overflow, tc.overflow) {
				t.Errorf("got %v, overflow %v; want %v, overflow %v", segs, overflow, tc.segs, tc.overflow)
			}
		})
	}
}

// bothPaths returns the dimension's cells of every metric of "exp" without a
// percentile cap, read from the segment totals and by the scan.
func bothPaths(t *testing.T, st *Store, dim string, daily bool) (maintained, scanned []storetest.Sum) {
	t.Helper()
	ctx := context.Background()
	e := storetest.GetExperiment(t, st, "exp")
	read := func(k string, fill func(*cellSet) error) []storetest.Sum {
		set := &cellSet{daily: daily, cells: map[report.CellKey]*stats.ArmStats{}}
		if err := fill(set); err != nil {
			t.Fatal(err)
		}
		return storetest.CellSums(k, report.OrderCells(e, set.cells, set.daily))
	}
	for _, k := range e.AllMetrics() {
		m := storetest.GetMetric(t, st, k)
		if m.Capping.Type == "percentile" {
			continue
		}
		rule := events.NewRule(m, 14)
		maintained = append(maintained, read(k, func(set *cellSet) error { return st.maintainedSegmentCells(ctx, "exp", &rule, dim, set) })...)
		scanned = append(scanned, read(k, func(set *cellSet) error { return st.segmentCells(ctx, "exp", &rule, dim, set) })...)
	}
	return maintained, scanned
}

func TestSegmentTotalsEqualTheScan(t *testing.T) {
	for _, tc := range []struct {
		name   string
		seed   uint64
		dyadic bool
		tol    float64
	}{
		{"with dyadic values they are identical", 2, true, 0},
		{"with arbitrary values they agree up to float rounding", 3, false, 1e-9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newOutcomeStore(t)
			storetest.Apply(t, st, storetest.Workload(tc.seed, tc.dyadic))
			// Units u000..u004 also get a channel, so most of them are (none).
			var xs []experiment.Exposure
			for u := 0; u < 5; u++ {
				xs = append(xs, storetest.Exposure(fmt.Sprintf("u%03d", u+200), "control", 0, map[string]string{"channel": "seo", "device": "mobile"}))
			}
			storetest.MustExpose(t, st, xs...)
			for _, dim := range []string{"device", "channel", "unknown"} {
				for _, daily := range []bool{false, true} {
					m, s := bothPaths(t, st, dim, daily)
					if len(s) == 0 {
						t.Fatal("no cells")
					}
					storetest.CompareSums(t, fmt.Sprintf("%s daily=%v", dim, daily), s, m, tc.tol)
				}
			}
		})
	}
}

func maintained(t *testing.T, st *Store, dim string) bool {
	t.Helper()
	ok, err := st.segmentsMaintained(context.Background(), "exp", dim)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestSegmentFallbacks(t *testing.T) {
	ctx := context.Background()
	t.Run("an exposure beyond the bounds sends only its dimensions to the scan", func(t *testing.T) {
		st := newOutcomeStore(t)
		storetest.Apply(t, st, storetest.Workload(2, true))
		attrs := map[string]string{"device": "mobile"}
		for i := 0; i < maxSegmentDimensions; i++ {
			attrs[fmt.Sprintf("x%02d", i)] = "v"
		}
		storetest.MustExpose(t, st, storetest.Exposure("u900", "control", 0, attrs))
		storetest.MustExpose(t, st, storetest.Exposure("u901", "control", 0, map[string]string{"channel": "seo"}))
		if maintained(t, st, "device") || !maintained(t, st, "channel") {
			t.Errorf("device maintained %v, channel %v: want the scan for device only", maintained(t, st, "device"), maintained(t, st, "channel"))
		}
		// The same data with u900 inside the bounds reads the segment totals.
		ref := newOutcomeStore(t)
		storetest.Apply(t, ref, storetest.Workload(2, true))
		storetest.MustExpose(t, ref, storetest.Exposure("u900", "control", 0, map[string]string{"device": "mobile"}))
		storetest.MustExpose(t, ref, storetest.Exposure("u901", "control", 0, map[string]string{"channel": "seo"}))
		if !maintained(t, ref, "device") {
			t.Fatal("reference store scans device")
		}
		for _, m := range []string{"conversion", "revenue_per_visitor", "nps"} {
			q := report.CellQuery{Dimension: "device", Daily: true}
			storetest.CompareSums(t, m, storetest.CellSums(m, storetest.Cells(t, ref, "exp", m, q)), storetest.CellSums(m, storetest.Cells(t, st, "exp", m, q)), 0)
		}
	})
	t.Run("pending segment totals are scanned until a rebuild fills them", func(t *testing.T) {
		st := newOutcomeStore(t)
		storetest.Apply(t, st, storetest.Workload(2, true))
		want := storetest.Cells(t, st, "exp", "revenue_per_visitor", report.CellQuery{Dimension: "device", Daily: true})
		before := stored(t, st, "exp")
		wipeRollups(t, st, "exp")
		if maintained(t, st, "device") {
			t.Fatal("segment totals maintained right after the wipe")
		}
		if err := st.Rebuild(ctx, "exp", nil); err != nil {
			t.Fatal(err)
		}
		if !maintained(t, st, "device") {
			t.Fatal("segment totals still pending after the rebuild")
		}
		storetest.CompareStored(t, before, stored(t, st, "exp"), 0)
		if got := storetest.Cells(t, st, "exp", "revenue_per_visitor", report.CellQuery{Dimension: "device", Daily: true}); !reflect.DeepEqual(got, want) {
			t.Errorf("after the rebuild\n got %+v\nwant %+v", got, want)
		}
	})
	t.Run("events arriving during the fill move only the units already filled", func(t *testing.T) {
		ops := storetest.Workload(3, true)
		ref := newOutcomeStore(t)
		storetest.Apply(t, ref, ops)
		st := newOutcomeStore(t)
		half := len(ops) / 2
		storetest.Apply(t, st, ops[:half])
		wipeRollups(t, st, "exp")
		defer func(n int) { rebuildChunk = n }(rebuildChunk)
		rebuildChunk = 30
		rest := ops[half:]
		err := st.Rebuild(ctx, "exp", func(done, total int64) {
			k := min(len(rest), len(ops)/8)
			storetest.Apply(t, st, rest[:k])
			rest = rest[k:]
		})
		if err != nil {
			t.Fatal(err)
		}
		storetest.Apply(t, st, rest)
		if !maintained(t, st, "device") {
			t.Fatal("segment totals still pending after the rebuild")
		}
		storetest.CompareStored(t, stored(t, ref, "exp"), stored(t, st, "exp"), 0)
	})
}

func TestOldDataDirectoryGetsSegmentTotalsFromRebuild(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	st, err := OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	storetest.SetupOutcomes(t, st)
	storetest.Apply(t, st, storetest.Workload(2, true))
	want := stored(t, st, "exp")
	cells := storetest.Cells(t, st, "exp", "conversion", report.CellQuery{Dimension: "device"})
	// Back to schema 2, as a binary from before segment totals left it
	// (the later migrations' tables go too).
	for _, q := range []string{`DROP TABLE segment_totals`, `DROP TABLE segment_counts`, `DROP TABLE segment_overflow`, `DROP TABLE segment_pending`,
		`DROP TABLE alerts`, `DROP TABLE alert_events`, `DROP TABLE health_settings`, `DROP TABLE health_state`, `DROP TABLE webhook_deliveries`, `DROP TABLE exposure_conflicts`,
		`DROP TABLE journey_bits`, `DROP TABLE journey_units`, `DROP TABLE journey_daily`, `DROP TABLE journey_cohorts`,
		`PRAGMA user_version = 2`} {
		if _, err := st.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	st, err = OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if maintained(t, st, "device") {
		t.Fatal("old data reads segment totals before a rebuild")
	}
	if got := storetest.Cells(t, st, "exp", "conversion", report.CellQuery{Dimension: "device"}); !reflect.DeepEqual(got, cells) {
		t.Errorf("before the rebuild\n got %+v\nwant %+v", got, cells)
	}
	if err := st.Rebuild(ctx, "exp", nil); err != nil {
		t.Fatal(err)
	}
	storetest.CompareStored(t, want, stored(t, st, "exp"), 0)
	if got := storetest.Cells(t, st, "exp", "conversion", report.CellQuery{Dimension: "device"}); !reflect.DeepEqual(got, cells) {
		t.Errorf("after the rebuild\n got %+v\nwant %+v", got, cells)
	}
}
