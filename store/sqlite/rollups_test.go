package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"journeylab/events"
	"journeylab/experiment"
	"journeylab/report"
	"journeylab/stats"
)

func cellsOf(t *testing.T, st *Store, exp, metric string) []report.Cell {
	t.Helper()
	cells, err := st.MetricCells(context.Background(), getExperiment(t, st, exp), getMetric(t, st, metric), report.CellQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return cells
}

func TestAttributionWindows(t *testing.T) {
	cases := []struct {
		name   string
		offset time.Duration
		want   stats.ArmStats
	}{
		{"an event at the exposure counts", 0, stats.ArmStats{N: 1, Sum: 1, SumSq: 1}},
		{"an event inside the 24h window counts", 23*hour + 59*time.Minute, stats.ArmStats{N: 1, Sum: 1, SumSq: 1}},
		{"an event at the end of the window does not count", 24 * hour, stats.ArmStats{N: 1}},
		{"an event an hour before exposure is a pre-exposure value", -hour, stats.ArmStats{N: 1, PreSum: 1, PreSumSq: 1}},
		{"an event 13 days before exposure is a pre-exposure value", -13 * 24 * hour, stats.ArmStats{N: 1, PreSum: 1, PreSumSq: 1}},
		{"an event 15 days before exposure is ignored", -15 * 24 * hour, stats.ArmStats{N: 1}},
	}
	for _, tc := range cases {
		for _, exposureFirst := range []bool{true, false} {
			name := tc.name + " when the event arrives after the exposure"
			if !exposureFirst {
				name = tc.name + " when the exposure arrives after the event"
			}
			t.Run(name, func(t *testing.T) {
				st, _ := newOutcomeStore(t)
				x, e := expose("u1", "control", 0, nil), ev("e1", "u1", "add_to_cart", 1, tc.offset)
				if exposureFirst {
					mustExpose(t, st, x)
					mustAppend(t, st, e)
				} else {
					mustAppend(t, st, e)
					mustExpose(t, st, x)
				}
				if got := cellsOf(t, st, "exp", "atc_24h")[0].Stats; got != tc.want {
					t.Errorf("atc_24h control %+v, want %+v", got, tc.want)
				}
			})
		}
	}
}

func TestPreExposureWindowFollowsTheExperiment(t *testing.T) {
	st, svc := newOutcomeStore(t)
	e := getExperiment(t, st, "exp")
	e.Analysis.PreExposureDays = 2
	if _, err := svc.Update(context.Background(), "test", "exp", e); err != nil {
		t.Fatal(err)
	}
	mustExpose(t, st, expose("u1", "control", 0, nil))
	mustAppend(t, st, ev("in", "u1", "order_completed", 5, -47*hour), ev("out", "u1", "order_completed", 7, -49*hour))
	if got := cellsOf(t, st, "exp", "revenue_per_visitor")[0].Stats; got.PreSum != 5 {
		t.Errorf("pre-exposure revenue %v, want 5 (only the event inside the 2-day look-back)", got.PreSum)
	}
}

func TestNPSUsesTheLatestScore(t *testing.T) {
	cases := []struct {
		name   string
		events []events.Event
		want   stats.ArmStats
	}{
		{"the later answer wins over an earlier one sent later",
			[]events.Event{ev("b", "u1", "nps_response", 10, 2*hour), ev("a", "u1", "nps_response", 2, hour)},
			stats.NPSArm(1, 0, 0)},
		{"equal timestamps are broken by the greater event id",
			[]events.Event{ev("z", "u1", "nps_response", 4, hour), ev("y", "u1", "nps_response", 9, hour)},
			stats.NPSArm(0, 0, 1)},
		{"7 and 8 are passives",
			[]events.Event{ev("a", "u1", "nps_response", 8, hour)},
			stats.NPSArm(0, 1, 0)},
		{"a score outside 0-10 is ignored",
			[]events.Event{ev("a", "u1", "nps_response", 3, hour), ev("b", "u1", "nps_response", 11, 2*hour)},
			stats.NPSArm(0, 0, 1)},
		{"a pre-exposure answer is the CUPED covariate, not a response",
			[]events.Event{ev("a", "u1", "nps_response", 10, -hour), ev("b", "u1", "nps_response", 0, hour)},
			stats.ArmStats{N: 1, Sum: -1, SumSq: 1, PreSum: 1, PreSumSq: 1, SumPrePost: -1}},
		{"only a pre-exposure answer makes no respondent",
			[]events.Event{ev("a", "u1", "nps_response", 10, -hour)},
			stats.ArmStats{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := newOutcomeStore(t)
			mustExpose(t, st, expose("u1", "control", 0, nil))
			for _, e := range tc.events {
				mustAppend(t, st, e) // one batch each: arrival order is the listed order
			}
			if got := cellsOf(t, st, "exp", "nps")[0].Stats; got != tc.want {
				t.Errorf("nps control %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestInsertExposuresKeepsTheFirst(t *testing.T) {
	st, _ := newOutcomeStore(t)
	n := mustExpose(t, st, expose("u1", "control", 0, nil), expose("u2", "treatment", 0, nil), expose("u1", "treatment", hour, nil))
	if n != 2 {
		t.Errorf("inserted %d, want 2", n)
	}
	if n := mustExpose(t, st, expose("u2", "control", 0, nil)); n != 0 {
		t.Errorf("re-exposure inserted %d, want 0", n)
	}
	got := map[string]string{}
	err := st.ExposureVariants(context.Background(), "exp", func(unit, variant string) error {
		got[unit] = variant
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"u1": "control", "u2": "treatment"}; !reflect.DeepEqual(got, want) {
		t.Errorf("variants %v, want %v", got, want)
	}
	counts, err := st.ExposureCounts(context.Background(), "exp")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"control": 1, "treatment": 1}; !reflect.DeepEqual(counts, want) {
		t.Errorf("counts %v, want %v", counts, want)
	}
	_, err = st.InsertExposures(context.Background(), []experiment.Exposure{{Experiment: "exp", Unit: "u3"}})
	var ve *experiment.ValidationError
	if !errors.As(err, &ve) {
		t.Errorf("an exposure without variant and time: err %v, want a ValidationError", err)
	}
}

// randomWorkload writes exposures and events in a shuffled, interleaved
// order. dyadic values (multiples of 1/4) make every float sum exact, so
// totals summed in any order agree to the last bit.
func randomWorkload(t *testing.T, st *Store, seed uint64, dyadic bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	names := []string{"order_completed", "nps_response", "add_to_cart", "product_view"}
	var evs []events.Event
	for i := 0; i < 1500; i++ {
		v := float64(rng.IntN(4000)) / 4
		if !dyadic {
			v = rng.Float64() * 1000
		}
		name := names[rng.IntN(len(names))]
		if name == "nps_response" {
			v = float64(rng.IntN(11))
		}
		offset := time.Duration(rng.IntN(20*24*60)-10*24*60) * time.Minute // ±10 days
		if rng.IntN(10) == 0 {
			offset = 0 // exactly at t0; exercises exposure-time ties
		}
		evs = append(evs, ev(fmt.Sprintf("e%04d", rng.IntN(1400)), fmt.Sprintf("u%03d", rng.IntN(120)), name, v, offset))
	}
	var xs []experiment.Exposure
	for u := 0; u < 100; u++ {
		xs = append(xs, expose(fmt.Sprintf("u%03d", u), []string{"control", "treatment"}[rng.IntN(2)],
			time.Duration(rng.IntN(48))*hour, map[string]string{"device": []string{"mobile", "desktop"}[u%2]}))
	}
	for len(evs) > 0 || len(xs) > 0 {
		if len(xs) > 0 && rng.IntN(3) == 0 {
			k := min(len(xs), 1+rng.IntN(10))
			mustExpose(t, st, xs[:k]...)
			xs = xs[k:]
			continue
		}
		k := min(len(evs), 1+rng.IntN(80))
		if k > 0 {
			mustAppend(t, st, evs[:k]...)
			evs = evs[k:]
		}
	}
}

func TestRebuildEqualsIncremental(t *testing.T) {
	progressOK := func(t *testing.T, calls [][2]int64) {
		t.Helper()
		if len(calls) == 0 || calls[len(calls)-1][0] != 100 || calls[len(calls)-1][1] != 100 {
			t.Errorf("progress calls %v, want to end at 100 of 100 units", calls)
		}
	}
	rebuild := func(t *testing.T, st *Store) [][2]int64 {
		var calls [][2]int64
		if err := st.Rebuild(context.Background(), "exp", func(done, total int64) { calls = append(calls, [2]int64{done, total}) }); err != nil {
			t.Fatal(err)
		}
		return calls
	}
	t.Run("rebuilding an up-to-date experiment changes no field", func(t *testing.T) {
		st, _ := newOutcomeStore(t)
		randomWorkload(t, st, 1, false)
		before := takeSnapshot(t, st, "exp")
		if len(before.Rollups) < 100 || len(before.Totals) < 10 {
			t.Fatalf("workload too small: %d rollups, %d totals", len(before.Rollups), len(before.Totals))
		}
		progressOK(t, rebuild(t, st))
		after := takeSnapshot(t, st, "exp")
		compareSnapshots(t, before, after, 0)
	})
	t.Run("rebuilding from nothing reproduces the incremental rollups and totals", func(t *testing.T) {
		st, _ := newOutcomeStore(t)
		randomWorkload(t, st, 2, true)
		before := takeSnapshot(t, st, "exp")
		wipeRollups(t, st, "exp")
		progressOK(t, rebuild(t, st))
		compareSnapshots(t, before, takeSnapshot(t, st, "exp"), 0)
	})
	t.Run("with arbitrary values the totals agree up to float rounding", func(t *testing.T) {
		st, _ := newOutcomeStore(t)
		randomWorkload(t, st, 3, false)
		before := takeSnapshot(t, st, "exp")
		wipeRollups(t, st, "exp")
		rebuild(t, st)
		compareSnapshots(t, before, takeSnapshot(t, st, "exp"), 1e-9)
	})
}

// compareSnapshots requires identical rollups and exposure counts, and
// totals equal field by field within relative tolerance tol (0 = exactly).
func compareSnapshots(t *testing.T, want, got snapshot, tol float64) {
	t.Helper()
	if !reflect.DeepEqual(got.Rollups, want.Rollups) {
		for i := range min(len(got.Rollups), len(want.Rollups)) {
			if got.Rollups[i] != want.Rollups[i] {
				t.Errorf("first differing rollup:\n got %+v\nwant %+v", got.Rollups[i], want.Rollups[i])
				break
			}
		}
		t.Errorf("rollups differ (%d vs %d rows)", len(got.Rollups), len(want.Rollups))
	}
	if !reflect.DeepEqual(got.Counts, want.Counts) {
		t.Errorf("exposure counts %v, want %v", got.Counts, want.Counts)
	}
	if len(got.Totals) != len(want.Totals) {
		t.Fatalf("%d totals rows, want %d", len(got.Totals), len(want.Totals))
	}
	for i := range want.Totals {
		g, w := got.Totals[i], want.Totals[i]
		gv, wv := reflect.ValueOf(g.Contribution), reflect.ValueOf(w.Contribution)
		same := g.Metric == w.Metric && g.Variant == w.Variant && g.Day == w.Day && g.N == w.N
		for f := 0; f < gv.NumField() && same; f++ {
			if a, ok := gv.Field(f).Interface().(float64); ok {
				b := wv.Field(f).Interface().(float64)
				same = a == b || math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b))
			}
		}
		if !same {
			t.Errorf("totals row %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestRebuildAfterAddingAMetric(t *testing.T) {
	ctx := context.Background()
	st, svc := newOutcomeStore(t)
	randomWorkload(t, st, 4, true)
	// Reference: the same data in a store whose experiment had the metric from the start.
	ref, refSvc := newOutcomeStore(t)
	e := getExperiment(t, ref, "exp")
	e.SecondaryMetrics = append(e.SecondaryMetrics, "product_views_per_visitor")
	if _, err := refSvc.Update(ctx, "test", "exp", e); err != nil {
		t.Fatal(err)
	}
	randomWorkload(t, ref, 4, true)

	e = getExperiment(t, st, "exp")
	e.SecondaryMetrics = append(e.SecondaryMetrics, "product_views_per_visitor")
	if _, err := svc.Update(ctx, "test", "exp", e); err != nil {
		t.Fatal(err)
	}
	want := cellsOf(t, ref, "exp", "product_views_per_visitor")
	if got := cellsOf(t, st, "exp", "product_views_per_visitor"); reflect.DeepEqual(got, want) {
		t.Fatalf("before the rebuild the new metric already matches: the test data has no earlier product views")
	}
	if err := st.Rebuild(ctx, "exp", nil); err != nil {
		t.Fatal(err)
	}
	if got := cellsOf(t, st, "exp", "product_views_per_visitor"); !reflect.DeepEqual(got, want) {
		t.Errorf("after rebuild\n got %+v\nwant %+v", got, want)
	}
	compareSnapshots(t, takeSnapshot(t, ref, "exp"), takeSnapshot(t, st, "exp"), 0)
}

func TestRebuildOfAnUnknownExperimentIsNotFound(t *testing.T) {
	st, _ := newOutcomeStore(t)
	if err := st.Rebuild(context.Background(), "nope", nil); !errors.Is(err, experiment.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}
