package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/outcomes"
	"github.com/journeylab/journeylab/privacy"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/serving"
	"github.com/journeylab/journeylab/stats"
)

// OutcomeBackend is what the outcome suite needs from a store: what
// app.Backend asks of it, but Close, which Outcomes.Open arranges.
type OutcomeBackend interface {
	Backend
	events.Store
	serving.Store
	report.Source
	outcomes.DayStore
	// Rebuild recomputes an experiment's rollups from raw events.
	Rebuild(ctx context.Context, experimentKey string, progress func(done, total int64)) error
	privacy.Store
	privacy.ExpiringStore
	privacy.UnitIDStore
	privacy.ExposureExpiringStore
	privacy.Inventory
}

// Outcomes is a backend's harness for RunOutcomes: how to open a store, and
// the few looks beneath the exported API that some assertions need.
type Outcomes struct {
	// Open returns a fresh, empty store that is closed when t ends.
	Open func(t testing.TB) OutcomeBackend
	// RawEvents counts the raw events st holds.
	RawEvents func(t testing.TB, st OutcomeBackend) int64
	// Stored returns what st's incremental path keeps for experiment exp.
	Stored func(t testing.TB, st OutcomeBackend, exp string) Stored
	// WipeRollups deletes what st's incremental path keeps for exp, as if
	// its metrics had never been attributed.
	WipeRollups func(t testing.TB, st OutcomeBackend, exp string)
	// UpToDateTolerance is the relative tolerance within which rebuilding
	// an up-to-date experiment must reproduce Stored.Sums: 0 (exactly)
	// unless the backend adds them up in no fixed order.
	UpToDateTolerance float64
}

// Stored is what a backend's incremental path keeps for one experiment,
// in a fixed order, so that a rebuild can be compared with it.
type Stored struct {
	// Rollups are the per-unit rollups, compared with reflect.DeepEqual.
	Rollups []any
	// Counts are the exposure counts, one formatted row each.
	Counts []string
	// Sums are running totals (or the cells read from them), which a
	// rebuild may add up in another order.
	Sums []Sum
}

// Sum is one row of running totals: Key names it and holds its exact
// fields, Values are its float fields.
type Sum struct {
	Key    string
	Values []float64
}

// SumOf flattens struct v into a Sum: its float64 fields become Values,
// every other field is appended to key.
func SumOf(key string, v any) Sum {
	s := Sum{Key: key}
	rv := reflect.ValueOf(v)
	for f := 0; f < rv.NumField(); f++ {
		switch x := rv.Field(f).Interface().(type) {
		case float64:
			s.Values = append(s.Values, x)
		default:
			s.Key += fmt.Sprintf(" %s=%v", rv.Type().Field(f).Name, x)
		}
	}
	return s
}

// CellSums flattens the cells of metric into Sums.
func CellSums(metric string, cells []report.Cell) []Sum {
	out := make([]Sum, len(cells))
	for i, c := range cells {
		out[i] = SumOf(fmt.Sprintf("%s %s %q %s", metric, c.Variant, c.Segment, c.Day.UTC().Format(time.RFC3339Nano)), c.Stats)
	}
	return out
}

// CompareSums requires the same rows as want, with values equal within
// relative tolerance tol (0 = exactly).
func CompareSums(t *testing.T, what string, want, got []Sum, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d:\n got %+v\nwant %+v", what, len(got), len(want), got, want)
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		same := g.Key == w.Key && len(g.Values) == len(w.Values)
		for f := 0; f < len(w.Values) && same; f++ {
			a, b := g.Values[f], w.Values[f]
			same = a == b || math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b))
		}
		if !same {
			t.Errorf("%s row %d:\n got %+v\nwant %+v", what, i, g, w)
		}
	}
}

// CompareStored requires identical rollups and exposure counts, and sums
// equal within relative tolerance tol (0 = exactly).
func CompareStored(t *testing.T, want, got Stored, tol float64) {
	t.Helper()
	if !reflect.DeepEqual(got.Rollups, want.Rollups) {
		for i := range min(len(got.Rollups), len(want.Rollups)) {
			if !reflect.DeepEqual(got.Rollups[i], want.Rollups[i]) {
				t.Errorf("first differing rollup:\n got %+v\nwant %+v", got.Rollups[i], want.Rollups[i])
				break
			}
		}
		t.Errorf("rollups differ (%d vs %d rows)", len(got.Rollups), len(want.Rollups))
	}
	if !reflect.DeepEqual(got.Counts, want.Counts) {
		t.Errorf("exposure counts %v, want %v", got.Counts, want.Counts)
	}
	if len(got.Sums) != len(want.Sums) {
		t.Fatalf("%d totals rows, want %d", len(got.Sums), len(want.Sums))
	}
	CompareSums(t, "totals", want.Sums, got.Sums, tol)
}

// RunOutcomes runs the outcome suite: ingestion, exposures, attribution,
// rebuilds and the report's data contract, each case on a fresh store set
// up by SetupOutcomes.
func RunOutcomes(t *testing.T, h Outcomes) {
	open := func(t *testing.T) (OutcomeBackend, *experiment.Service) {
		t.Helper()
		st := h.Open(t)
		return st, SetupOutcomes(t, st)
	}
	t.Run("appending events is idempotent", func(t *testing.T) { testAppendIdempotent(t, h, open) })
	t.Run("events of unexposed units stay raw", func(t *testing.T) { testUnexposedStayRaw(t, h, open) })
	t.Run("attribution windows bound what counts", func(t *testing.T) { testAttributionWindows(t, open) })
	t.Run("the pre-exposure window follows the experiment", func(t *testing.T) { testPreExposureWindow(t, open) })
	t.Run("NPS uses the latest score", func(t *testing.T) { testNPSLatest(t, open) })
	t.Run("inserting exposures keeps the first", func(t *testing.T) { testExposuresKeepFirst(t, open) })
	t.Run("exposure variants stop on the callback's error", func(t *testing.T) { testExposureVariantsStop(t, open) })
	t.Run("a rebuild equals the incremental path", func(t *testing.T) { testRebuildEqualsIncremental(t, h, open) })
	t.Run("a rebuild after adding a metric attributes its earlier events", func(t *testing.T) { testRebuildAfterAddingAMetric(t, h, open) })
	t.Run("rebuilding an unknown experiment is ErrNotFound", func(t *testing.T) { testRebuildUnknown(t, open) })
	t.Run("metric cells match hand-computed statistics", func(t *testing.T) { testCellsHandComputed(t, open) })
	t.Run("metric cells split by exposure day", func(t *testing.T) { testCellsDaily(t, open) })
	t.Run("metric cells break down by exposure attribute", func(t *testing.T) { testCellsSegments(t, open) })
	t.Run("metric cells tolerate missing rollups", func(t *testing.T) { testCellsMissingRollups(t, open) })
	t.Run("segment cells do not depend on how many attributes exposures carry", func(t *testing.T) { testSegmentsIgnoreOtherAttributes(t, open) })
	t.Run("the funnel counts units that completed every step so far", func(t *testing.T) { testFunnel(t, open) })
	t.Run("erasing units equals never having stored them", func(t *testing.T) { testErase(t, h, open) })
	t.Run("days since exposure read what the store holds", func(t *testing.T) { testDaysSinceExposure(t, open) })
	t.Run("expiring raw events keeps those of exposed units and every rollup", func(t *testing.T) { testExpireEvents(t, h, open) })
	t.Run("the store records how its unit ids are written", func(t *testing.T) { testUnitIDMode(t, open) })
	t.Run("expiring an experiment's exposures deletes its per-unit records only", func(t *testing.T) { testExpireExposures(t, h, open) })
	t.Run("the inventory counts and dates what is stored", func(t *testing.T) { testStoredData(t, open) })
}

// opener opens a fresh store set up by SetupOutcomes.
type opener func(t *testing.T) (OutcomeBackend, *experiment.Service)

func orderBatch(n int) []events.Event {
	evs := make([]events.Event, n)
	for i := range evs {
		evs[i] = Event(fmt.Sprintf("order-%d", i), fmt.Sprintf("u%d", i%10), "order_completed", 10, time.Duration(i)*time.Minute)
	}
	return evs
}

func testAppendIdempotent(t *testing.T, h Outcomes, open opener) {
	want := []report.Cell{
		{Variant: "control", Stats: stats.ArmStats{N: 5, Sum: 100, SumSq: 5 * 400}},
		{Variant: "treatment", Stats: stats.ArmStats{N: 5, Sum: 100, SumSq: 5 * 400}},
	}
	exposeTen := func(t *testing.T, st OutcomeBackend) {
		for u := 0; u < 10; u++ {
			MustExpose(t, st, Exposure(fmt.Sprintf("u%d", u), []string{"control", "treatment"}[u%2], -time.Hour, nil))
		}
	}
	countedOnce := func(t *testing.T, st OutcomeBackend) {
		t.Helper()
		if n := h.RawEvents(t, st); n != 20 {
			t.Errorf("%d raw events, want 20", n)
		}
		if got := Cells(t, st, "exp", "revenue_per_visitor", report.CellQuery{}); !reflect.DeepEqual(got, want) {
			t.Errorf("cells %+v, want %+v", got, want)
		}
	}
	t.Run("the same batch sent twice is stored and counted once", func(t *testing.T) {
		st, _ := open(t)
		exposeTen(t, st)
		first := MustAppend(t, st, orderBatch(20)...)
		second := MustAppend(t, st, orderBatch(20)...)
		for i := range first {
			if !first[i] || second[i] {
				t.Fatalf("event %d: stored first %v, second %v; want true then false", i, first[i], second[i])
			}
		}
		countedOnce(t, st)
	})
	t.Run("the same batch from 8 goroutines at once is counted once", func(t *testing.T) {
		st, _ := open(t)
		exposeTen(t, st)
		var wg sync.WaitGroup
		results := make([][]bool, 8)
		for g := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				stored, err := st.AppendEvents(context.Background(), T0, orderBatch(20))
				if err != nil {
					t.Error(err)
				}
				results[g] = stored
			}()
		}
		wg.Wait()
		for i := 0; i < 20; i++ {
			owners := 0
			for g := range results {
				if results[g] != nil && results[g][i] {
					owners++
				}
			}
			if owners != 1 {
				t.Errorf("event %d was stored by %d callers, want exactly 1", i, owners)
			}
		}
		countedOnce(t, st)
	})
	t.Run("a repeated id inside one batch keeps the first event", func(t *testing.T) {
		st, _ := open(t)
		exposeTen(t, st)
		stored := MustAppend(t, st, Event("dup", "u0", "order_completed", 10, 0), Event("dup", "u0", "order_completed", 99, time.Minute))
		if !reflect.DeepEqual(stored, []bool{true, false}) {
			t.Errorf("stored %v, want [true false]", stored)
		}
		if got := Cells(t, st, "exp", "revenue_per_visitor", report.CellQuery{})[0].Stats.Sum; got != 10 {
			t.Errorf("control revenue %v, want 10 (the first event's value)", got)
		}
	})
}

func testUnexposedStayRaw(t *testing.T, h Outcomes, open opener) {
	st, _ := open(t)
	MustExpose(t, st, Exposure("u1", "control", 0, nil))
	MustAppend(t, st, Event("e1", "stranger", "order_completed", 10, time.Hour), Event("e2", "u1", "landing_click", 1, time.Hour))
	if n := h.RawEvents(t, st); n != 2 {
		t.Errorf("%d raw events, want 2", n)
	}
	if n := len(h.Stored(t, st, "exp").Rollups); n != 0 {
		t.Errorf("%d rollups, want 0: neither event feeds an exposed unit's metric", n)
	}
}

func testAttributionWindows(t *testing.T, open opener) {
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
				st, _ := open(t)
				x, e := Exposure("u1", "control", 0, nil), Event("e1", "u1", "add_to_cart", 1, tc.offset)
				if exposureFirst {
					MustExpose(t, st, x)
					MustAppend(t, st, e)
				} else {
					MustAppend(t, st, e)
					MustExpose(t, st, x)
				}
				if got := Cells(t, st, "exp", "atc_24h", report.CellQuery{})[0].Stats; got != tc.want {
					t.Errorf("atc_24h control %+v, want %+v", got, tc.want)
				}
			})
		}
	}
}

func testPreExposureWindow(t *testing.T, open opener) {
	st, svc := open(t)
	e := GetExperiment(t, st, "exp")
	e.Analysis.PreExposureDays = 2
	if _, err := svc.Update(context.Background(), "test", "exp", e); err != nil {
		t.Fatal(err)
	}
	MustExpose(t, st, Exposure("u1", "control", 0, nil))
	MustAppend(t, st, Event("in", "u1", "order_completed", 5, -47*hour), Event("out", "u1", "order_completed", 7, -49*hour))
	if got := Cells(t, st, "exp", "revenue_per_visitor", report.CellQuery{})[0].Stats; got.PreSum != 5 {
		t.Errorf("pre-exposure revenue %v, want 5 (only the event inside the 2-day look-back)", got.PreSum)
	}
}

func testNPSLatest(t *testing.T, open opener) {
	cases := []struct {
		name   string
		events []events.Event
		want   stats.ArmStats
	}{
		{"the later answer wins over an earlier one sent later",
			[]events.Event{Event("b", "u1", "nps_response", 10, 2*hour), Event("a", "u1", "nps_response", 2, hour)},
			stats.NPSArm(1, 0, 0)},
		{"equal timestamps are broken by the greater event id",
			[]events.Event{Event("z", "u1", "nps_response", 4, hour), Event("y", "u1", "nps_response", 9, hour)},
			stats.NPSArm(0, 0, 1)},
		{"7 and 8 are passives",
			[]events.Event{Event("a", "u1", "nps_response", 8, hour)},
			stats.NPSArm(0, 1, 0)},
		{"a score outside 0-10 is ignored",
			[]events.Event{Event("a", "u1", "nps_response", 3, hour), Event("b", "u1", "nps_response", 11, 2*hour)},
			stats.NPSArm(0, 0, 1)},
		{"a pre-exposure answer is the CUPED covariate, not a response",
			[]events.Event{Event("a", "u1", "nps_response", 10, -hour), Event("b", "u1", "nps_response", 0, hour)},
			stats.ArmStats{N: 1, Sum: -1, SumSq: 1, PreSum: 1, PreSumSq: 1, SumPrePost: -1}},
		{"only a pre-exposure answer makes no respondent",
			[]events.Event{Event("a", "u1", "nps_response", 10, -hour)},
			stats.ArmStats{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := open(t)
			MustExpose(t, st, Exposure("u1", "control", 0, nil))
			for _, e := range tc.events {
				MustAppend(t, st, e) // one batch each: arrival order is the listed order
			}
			if got := Cells(t, st, "exp", "nps", report.CellQuery{})[0].Stats; got != tc.want {
				t.Errorf("nps control %+v, want %+v", got, tc.want)
			}
		})
	}
}

func testExposuresKeepFirst(t *testing.T, open opener) {
	st, _ := open(t)
	n := MustExpose(t, st, Exposure("u1", "control", 0, nil), Exposure("u2", "treatment", 0, nil), Exposure("u1", "treatment", hour, nil))
	if n != 2 {
		t.Errorf("inserted %d, want 2", n)
	}
	if n := MustExpose(t, st, Exposure("u2", "control", 0, nil)); n != 0 {
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

func testExposureVariantsStop(t *testing.T, open opener) {
	st, _ := open(t)
	MustExpose(t, st, Exposure("u1", "control", 0, nil), Exposure("u2", "treatment", 0, nil))
	stop := errors.New("stop")
	calls := 0
	err := st.ExposureVariants(context.Background(), "exp", func(unit, variant string) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("err %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func testRebuildEqualsIncremental(t *testing.T, h Outcomes, open opener) {
	progressOK := func(t *testing.T, calls [][2]int64) {
		t.Helper()
		if len(calls) == 0 || calls[len(calls)-1][0] != 100 || calls[len(calls)-1][1] != 100 {
			t.Errorf("progress calls %v, want to end at 100 of 100 units", calls)
		}
	}
	rebuild := func(t *testing.T, st OutcomeBackend) [][2]int64 {
		var calls [][2]int64
		if err := st.Rebuild(context.Background(), "exp", func(done, total int64) { calls = append(calls, [2]int64{done, total}) }); err != nil {
			t.Fatal(err)
		}
		return calls
	}
	t.Run("rebuilding an up-to-date experiment changes no field", func(t *testing.T) {
		st, _ := open(t)
		Apply(t, st, Workload(1, false))
		before := h.Stored(t, st, "exp")
		if len(before.Rollups) < 100 || len(before.Sums) < 10 {
			t.Fatalf("workload too small: %d rollups, %d totals", len(before.Rollups), len(before.Sums))
		}
		progressOK(t, rebuild(t, st))
		CompareStored(t, before, h.Stored(t, st, "exp"), h.UpToDateTolerance)
	})
	t.Run("rebuilding from nothing reproduces the incremental rollups and totals", func(t *testing.T) {
		st, _ := open(t)
		Apply(t, st, Workload(2, true))
		before := h.Stored(t, st, "exp")
		h.WipeRollups(t, st, "exp")
		progressOK(t, rebuild(t, st))
		CompareStored(t, before, h.Stored(t, st, "exp"), 0)
	})
	t.Run("with arbitrary values the rollups are identical and the totals agree up to float rounding", func(t *testing.T) {
		st, _ := open(t)
		Apply(t, st, Workload(3, false))
		before := h.Stored(t, st, "exp")
		h.WipeRollups(t, st, "exp")
		rebuild(t, st)
		CompareStored(t, before, h.Stored(t, st, "exp"), 1e-9)
	})
}

func testRebuildAfterAddingAMetric(t *testing.T, h Outcomes, open opener) {
	ctx := context.Background()
	st, svc := open(t)
	Apply(t, st, Workload(4, true))
	// Reference: the same data in a store whose experiment had the metric from the start.
	ref, refSvc := open(t)
	e := GetExperiment(t, ref, "exp")
	e.SecondaryMetrics = append(e.SecondaryMetrics, "product_views_per_visitor")
	if _, err := refSvc.Update(ctx, "test", "exp", e); err != nil {
		t.Fatal(err)
	}
	Apply(t, ref, Workload(4, true))

	e = GetExperiment(t, st, "exp")
	e.SecondaryMetrics = append(e.SecondaryMetrics, "product_views_per_visitor")
	if _, err := svc.Update(ctx, "test", "exp", e); err != nil {
		t.Fatal(err)
	}
	want := Cells(t, ref, "exp", "product_views_per_visitor", report.CellQuery{})
	if got := Cells(t, st, "exp", "product_views_per_visitor", report.CellQuery{}); reflect.DeepEqual(got, want) {
		t.Fatalf("before the rebuild the new metric already matches: the test data has no earlier product views")
	}
	if err := st.Rebuild(ctx, "exp", nil); err != nil {
		t.Fatal(err)
	}
	if got := Cells(t, st, "exp", "product_views_per_visitor", report.CellQuery{}); !reflect.DeepEqual(got, want) {
		t.Errorf("after rebuild\n got %+v\nwant %+v", got, want)
	}
	CompareStored(t, h.Stored(t, ref, "exp"), h.Stored(t, st, "exp"), 0)
}

func testRebuildUnknown(t *testing.T, open opener) {
	st, _ := open(t)
	if err := st.Rebuild(context.Background(), "nope", nil); !errors.Is(err, experiment.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func testCellsHandComputed(t *testing.T, open opener) {
	for _, order := range []string{"exposures first", "events first", "interleaved and reversed"} {
		t.Run("when "+order, func(t *testing.T) {
			st, _ := open(t)
			loadScenario(t, st, order)
			for metric, want := range scenarioWant {
				cells := Cells(t, st, "exp", metric, report.CellQuery{})
				if len(cells) != 2 || cells[0].Variant != "control" || cells[1].Variant != "treatment" {
					t.Fatalf("%s: cells %+v, want control then treatment", metric, cells)
				}
				for i, c := range cells {
					if c.Stats != want[i] {
						t.Errorf("%s %s:\n got %+v\nwant %+v", metric, c.Variant, c.Stats, want[i])
					}
				}
			}
			counts, err := st.ExposureCounts(context.Background(), "exp")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(counts, map[string]int64{"control": 2, "treatment": 3}) {
				t.Errorf("exposure counts %v", counts)
			}
		})
	}
}

func testCellsDaily(t *testing.T, open opener) {
	st, _ := open(t)
	loadScenario(t, st, "exposures first")
	cells := Cells(t, st, "exp", "conversion", report.CellQuery{Daily: true})
	day0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	day1 := day0.AddDate(0, 0, 1)
	want := []report.Cell{
		{Variant: "control", Day: day0, Stats: stats.ArmStats{N: 2, Sum: 1, SumSq: 1, PreSum: 1, PreSumSq: 1, SumPrePost: 1}},
		{Variant: "treatment", Day: day0, Stats: stats.ArmStats{N: 2, Sum: 1, SumSq: 1}},
		{Variant: "control", Day: day1},
		{Variant: "treatment", Day: day1, Stats: stats.ArmStats{N: 1, Sum: 1, SumSq: 1}},
	}
	if !reflect.DeepEqual(cells, want) {
		t.Errorf("daily cells\n got %+v\nwant %+v", cells, want)
	}
}

func testCellsSegments(t *testing.T, open opener) {
	st, _ := open(t)
	loadScenario(t, st, "events first")
	e := GetExperiment(t, st, "exp")
	t.Run("conversion by device lists units without the attribute as (none)", func(t *testing.T) {
		cells := Cells(t, st, "exp", "conversion", report.CellQuery{Dimension: "device"})
		want := []report.Cell{
			{Variant: "control", Segment: "(none)"},
			{Variant: "treatment", Segment: "(none)", Stats: stats.ArmStats{N: 1, PreSum: 0}},
			{Variant: "control", Segment: "desktop", Stats: stats.ArmStats{N: 1}},
			{Variant: "treatment", Segment: "desktop", Stats: stats.ArmStats{N: 1, Sum: 1, SumSq: 1}},
			{Variant: "control", Segment: "mobile", Stats: stats.ArmStats{N: 1, Sum: 1, SumSq: 1, PreSum: 1, PreSumSq: 1, SumPrePost: 1}},
			{Variant: "treatment", Segment: "mobile", Stats: stats.ArmStats{N: 1, Sum: 1, SumSq: 1}},
		}
		if !reflect.DeepEqual(cells, want) {
			t.Errorf("cells\n got %+v\nwant %+v", cells, want)
		}
	})
	t.Run("segments of a percentile-capped metric add up to the plain cells", func(t *testing.T) {
		cells := Cells(t, st, "exp", "revenue_p50", report.CellQuery{Dimension: "device"})
		sum := map[string]stats.ArmStats{}
		for _, c := range cells {
			a := sum[c.Variant]
			a.N += c.Stats.N
			a.Sum += c.Stats.Sum
			a.SumSq += c.Stats.SumSq
			a.PreSum += c.Stats.PreSum
			a.PreSumSq += c.Stats.PreSumSq
			a.SumPrePost += c.Stats.SumPrePost
			sum[c.Variant] = a
		}
		want := scenarioWant["revenue_p50"]
		if sum["control"] != want[0] || sum["treatment"] != want[1] {
			t.Errorf("summed segments %+v, want %+v", sum, want)
		}
	})
	t.Run("an unsafe dimension name is refused naming the field", func(t *testing.T) {
		for _, dim := range []string{`device"); DROP TABLE events; --`, "$where", `{"$ne": null}`} {
			_, err := st.MetricCells(context.Background(), e, GetMetric(t, st, "conversion"), report.CellQuery{Dimension: dim})
			var ve *experiment.ValidationError
			if !errors.As(err, &ve) || ve.Field != "dimension" {
				t.Fatalf("dimension %q: err = %v, want a ValidationError on dimension", dim, err)
			}
		}
	})
}

func testCellsMissingRollups(t *testing.T, open opener) {
	st, _ := open(t)
	for _, q := range []report.CellQuery{{}, {Dimension: "device"}} {
		cells := Cells(t, st, "exp", "revenue_p50", q)
		want := []report.Cell{{Variant: "control"}, {Variant: "treatment"}}
		if q.Dimension == "" && !reflect.DeepEqual(cells, want) {
			t.Errorf("no data: cells %+v, want zero cells per variant", cells)
		}
	}
	MustExpose(t, st, scenarioExposures()...)
	cells := Cells(t, st, "exp", "landing_ctr", report.CellQuery{})
	if cells[0].Stats != (stats.ArmStats{N: 2}) || cells[1].Stats != (stats.ArmStats{N: 3}) {
		t.Errorf("metric without rollups: %+v, want exposed units and zero sums", cells)
	}
}

func testFunnel(t *testing.T, open opener) {
	st, _ := open(t)
	loadScenario(t, st, "interleaved and reversed")
	e := GetExperiment(t, st, "exp")
	cases := []struct {
		name  string
		steps []string
		want  map[string][]int64
	}{
		{"conversion then nps", []string{"conversion", "nps"}, map[string][]int64{"control": {1, 1}, "treatment": {2, 1}}},
		{"a step nobody completed stops the funnel", []string{"nps", "atc_24h", "conversion"}, map[string][]int64{"control": {1, 0, 0}, "treatment": {1, 0, 0}}},
		{"a metric outside the experiment counts zero", []string{"landing_ctr"}, map[string][]int64{"control": {0}, "treatment": {0}}},
		{"no steps give empty counts", nil, map[string][]int64{"control": {}, "treatment": {}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var steps []experiment.Metric
			for _, k := range tc.steps {
				steps = append(steps, GetMetric(t, st, k))
			}
			got, err := st.Funnel(context.Background(), e, steps)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("funnel %v, want %v", got, tc.want)
			}
		})
	}
}

// testSegmentsIgnoreOtherAttributes loads one workload twice, the second
// time with many more attributes on every exposure: a backend that keeps
// breakdown totals only up to some number of attributes per exposure reads
// the second store another way, and both must give the same cells.
func testSegmentsIgnoreOtherAttributes(t *testing.T, open opener) {
	withAttributes := func(extra int) []Op {
		ops := Workload(2, true)
		for i, o := range ops {
			xs := make([]experiment.Exposure, len(o.Exposures))
			for j, x := range o.Exposures {
				attrs := map[string]string{"device": x.Attributes["device"]}
				// channel: absent, empty (both the "(none)" segment) or a value.
				switch n := len(x.Unit) + int(x.Unit[len(x.Unit)-1]); n % 3 {
				case 1:
					attrs["channel"] = ""
				case 2:
					attrs["channel"] = "seo"
				}
				for k := 0; k < extra; k++ {
					attrs[fmt.Sprintf("extra_%02d", k)] = "x"
				}
				x.Attributes = attrs
				xs[j] = x
			}
			if o.Exposures != nil {
				ops[i].Exposures = xs
			}
		}
		return ops
	}
	few, _ := open(t)
	Apply(t, few, withAttributes(0))
	many, _ := open(t)
	Apply(t, many, withAttributes(40))
	for _, m := range append([]string{"conversion"}, fixtureMetrics...) {
		for _, q := range []report.CellQuery{{Dimension: "device"}, {Dimension: "channel", Daily: true}, {Dimension: "extra_01"}} {
			t.Run(fmt.Sprintf("%s by %s daily=%v", m, q.Dimension, q.Daily), func(t *testing.T) {
				want := Cells(t, many, "exp", m, q)
				if q.Dimension != "extra_01" {
					CompareSums(t, "cells", CellSums(m, want), CellSums(m, Cells(t, few, "exp", m, q)), 0)
				}
				for _, c := range want {
					if q.Dimension == "extra_01" && c.Segment != "x" {
						t.Errorf("cell %+v, want every unit in segment x", c)
					}
				}
			})
		}
	}
}
