package mongo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"

	"journeylab/events"
	"journeylab/experiment"
	"journeylab/report"
	"journeylab/stats"
)

func orderBatch(n int) []events.Event {
	evs := make([]events.Event, n)
	for i := range evs {
		evs[i] = ev(fmt.Sprintf("order-%d", i), fmt.Sprintf("u%d", i%10), "order_completed", 10, time.Duration(i)*time.Minute)
	}
	return evs
}

func TestAppendEventsIsIdempotent(t *testing.T) {
	TestingURI(t) // skips the whole test, not each case, without a server
	want := []report.Cell{
		{Variant: "control", Stats: stats.ArmStats{N: 5, Sum: 100, SumSq: 5 * 400}},
		{Variant: "treatment", Stats: stats.ArmStats{N: 5, Sum: 100, SumSq: 5 * 400}},
	}
	exposeTen := func(t *testing.T, st *Store) {
		for u := 0; u < 10; u++ {
			mustExpose(t, st, expose(fmt.Sprintf("u%d", u), []string{"control", "treatment"}[u%2], -time.Hour, nil))
		}
	}
	t.Run("the same batch sent twice is stored and counted once", func(t *testing.T) {
		st, _ := newOutcomeStore(t)
		exposeTen(t, st)
		first := mustAppend(t, st, orderBatch(20)...)
		second := mustAppend(t, st, orderBatch(20)...)
		for i := range first {
			if !first[i] || second[i] {
				t.Fatalf("event %d: stored first %v, second %v; want true then false", i, first[i], second[i])
			}
		}
		if n := countDocs(t, st, "events", bson.D{}); n != 20 {
			t.Errorf("%d raw events, want 20", n)
		}
		if got := cellsOf(t, st, "exp", "revenue_per_visitor", report.CellQuery{}); !reflect.DeepEqual(got, want) {
			t.Errorf("cells %+v, want %+v", got, want)
		}
	})
	t.Run("the same batch from 8 goroutines at once is counted once", func(t *testing.T) {
		st, _ := newOutcomeStore(t)
		exposeTen(t, st)
		var wg sync.WaitGroup
		results := make([][]bool, 8)
		for g := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				stored, err := st.AppendEvents(context.Background(), t0, orderBatch(20))
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
		if n := countDocs(t, st, "events", bson.D{}); n != 20 {
			t.Errorf("%d raw events, want 20", n)
		}
		if got := cellsOf(t, st, "exp", "revenue_per_visitor", report.CellQuery{}); !reflect.DeepEqual(got, want) {
			t.Errorf("cells %+v, want %+v", got, want)
		}
	})
	t.Run("a repeated id inside one batch keeps the first event", func(t *testing.T) {
		st, _ := newOutcomeStore(t)
		exposeTen(t, st)
		stored := mustAppend(t, st, ev("dup", "u0", "order_completed", 10, 0), ev("dup", "u0", "order_completed", 99, time.Minute))
		if !reflect.DeepEqual(stored, []bool{true, false}) {
			t.Errorf("stored %v, want [true false]", stored)
		}
		if got := cellsOf(t, st, "exp", "revenue_per_visitor", report.CellQuery{})[0].Stats.Sum; got != 10 {
			t.Errorf("control revenue %v, want 10 (the first event's value)", got)
		}
	})
}

func TestEventsOfUnexposedUnitsStayRaw(t *testing.T) {
	st, _ := newOutcomeStore(t)
	mustExpose(t, st, expose("u1", "control", 0, nil))
	mustAppend(t, st, ev("e1", "stranger", "order_completed", 10, time.Hour), ev("e2", "u1", "landing_click", 1, time.Hour))
	if n := countDocs(t, st, "events", bson.D{}); n != 2 {
		t.Errorf("%d raw events, want 2", n)
	}
	if n := countDocs(t, st, "unit_metrics", bson.D{}); n != 0 {
		t.Errorf("%d rollups, want 0: neither event feeds an exposed unit's metric", n)
	}
}

func TestAppendEventsKeepsAttributesRaw(t *testing.T) {
	st, _ := newOutcomeStore(t)
	e := ev("e1", "u1", "order_completed", 10, 0)
	e.Attributes = map[string]any{"sku": "A-1", "qty": 2.0, "$set": nil, "a.b": true}
	mustAppend(t, st, e)
	var d eventDoc
	if err := st.c.events.FindOne(context.Background(), bson.D{eq("event_id", "e1")}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	want := []eventAttr{{"$set", nil}, {"a.b", true}, {"qty", 2.0}, {"sku", "A-1"}}
	if !reflect.DeepEqual(d.Attrs, want) {
		t.Errorf("attributes %+v, want %+v", d.Attrs, want)
	}
}

func TestAttributionWindows(t *testing.T) {
	TestingURI(t) // skips the whole test, not each case, without a server
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
				if got := cellsOf(t, st, "exp", "atc_24h", report.CellQuery{})[0].Stats; got != tc.want {
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
	if got := cellsOf(t, st, "exp", "revenue_per_visitor", report.CellQuery{})[0].Stats; got.PreSum != 5 {
		t.Errorf("pre-exposure revenue %v, want 5 (only the event inside the 2-day look-back)", got.PreSum)
	}
}

func TestNPSUsesTheLatestScore(t *testing.T) {
	TestingURI(t) // skips the whole test, not each case, without a server
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
			if got := cellsOf(t, st, "exp", "nps", report.CellQuery{})[0].Stats; got != tc.want {
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

func TestExposureVariantsStopsOnTheCallbacksError(t *testing.T) {
	st, _ := newOutcomeStore(t)
	mustExpose(t, st, expose("u1", "control", 0, nil), expose("u2", "treatment", 0, nil))
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

func TestRebuildEqualsIncremental(t *testing.T) {
	TestingURI(t) // skips the whole test, not each case, without a server
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
		apply(t, st, randomWorkload(1, false))
		before := takeSnapshot(t, st, "exp")
		if len(before.Rollups) < 100 {
			t.Fatalf("workload too small: %d rollups", len(before.Rollups))
		}
		progressOK(t, rebuild(t, st))
		compareSnapshots(t, before, takeSnapshot(t, st, "exp"), 1e-12)
	})
	t.Run("rebuilding from nothing reproduces the incremental rollups", func(t *testing.T) {
		st, _ := newOutcomeStore(t)
		apply(t, st, randomWorkload(2, true))
		before := takeSnapshot(t, st, "exp")
		wipeRollups(t, st, "exp")
		progressOK(t, rebuild(t, st))
		compareSnapshots(t, before, takeSnapshot(t, st, "exp"), 0)
	})
	t.Run("with arbitrary values the rollups are identical and the cells agree up to float rounding", func(t *testing.T) {
		st, _ := newOutcomeStore(t)
		apply(t, st, randomWorkload(3, false))
		before := takeSnapshot(t, st, "exp")
		wipeRollups(t, st, "exp")
		rebuild(t, st)
		compareSnapshots(t, before, takeSnapshot(t, st, "exp"), 1e-9)
	})
}

func TestRebuildAfterAddingAMetric(t *testing.T) {
	ctx := context.Background()
	st, svc := newOutcomeStore(t)
	apply(t, st, randomWorkload(4, true))
	// Reference: the same data in a store whose experiment had the metric from the start.
	ref, refSvc := newOutcomeStore(t)
	e := getExperiment(t, ref, "exp")
	e.SecondaryMetrics = append(e.SecondaryMetrics, "product_views_per_visitor")
	if _, err := refSvc.Update(ctx, "test", "exp", e); err != nil {
		t.Fatal(err)
	}
	apply(t, ref, randomWorkload(4, true))

	e = getExperiment(t, st, "exp")
	e.SecondaryMetrics = append(e.SecondaryMetrics, "product_views_per_visitor")
	if _, err := svc.Update(ctx, "test", "exp", e); err != nil {
		t.Fatal(err)
	}
	want := cellsOf(t, ref, "exp", "product_views_per_visitor", report.CellQuery{})
	if got := cellsOf(t, st, "exp", "product_views_per_visitor", report.CellQuery{}); reflect.DeepEqual(got, want) {
		t.Fatalf("before the rebuild the new metric already matches: the test data has no earlier product views")
	}
	if err := st.Rebuild(ctx, "exp", nil); err != nil {
		t.Fatal(err)
	}
	if got := cellsOf(t, st, "exp", "product_views_per_visitor", report.CellQuery{}); !reflect.DeepEqual(got, want) {
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

func TestOutOfOrderCommitsRefoldInStorageOrder(t *testing.T) {
	// Two instances may commit batches of one unit in the opposite order of
	// their storage positions. Simulate it: reserve a position, let a later
	// batch commit first, then commit the earlier one.
	st, _ := newOutcomeStore(t)
	ctx := context.Background()
	mustExpose(t, st, expose("u1", "control", 0, nil))
	early := ev("early", "u1", "order_completed", 0.1, hour)
	base, err := st.reserveSeq(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, st, ev("late", "u1", "order_completed", 0.2, 2*hour), ev("later", "u1", "order_completed", 0.3, 3*hour))
	// Store "early" at the position reserved before the others, as its
	// instance would have, through the same transaction code.
	err = st.inTx(ctx, "append early", func(sc drv.SessionContext) error {
		cfg, err := st.attribution(sc)
		if err != nil {
			return err
		}
		if _, err := st.c.events.InsertOne(sc, eventDoc{Unit: "u1", EventID: early.EventID, Seq: base, Event: early.Event, Value: *early.Value, TS: early.TS.UnixNano()}); err != nil {
			return err
		}
		return st.attributeEvents(sc, cfg, []unitPoint{{unit: "u1", seqPoint: seqPoint{seq: base, Point: events.Point{ID: early.EventID, Event: early.Event, TS: early.TS.UnixNano(), Value: *early.Value}}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	before := takeSnapshot(t, st, "exp")
	wipeRollups(t, st, "exp")
	if err := st.Rebuild(ctx, "exp", nil); err != nil {
		t.Fatal(err)
	}
	compareSnapshots(t, before, takeSnapshot(t, st, "exp"), 0)
	// 0.1 + 0.2 + 0.3 in storage order differs from 0.2 + 0.3 + 0.1 in the last bit.
	if got := cellsOf(t, st, "exp", "revenue_per_visitor", report.CellQuery{})[0].Stats.Sum; got != (0.1+0.2)+0.3 {
		t.Errorf("revenue %v, want %v (folded in storage order)", got, (0.1+0.2)+0.3)
	}
}

// scenarioExposures and scenarioEvents are store/sqlite's hand-computed
// data set: the expected sufficient statistics were worked out on paper.
func scenarioExposures() []experiment.Exposure {
	return []experiment.Exposure{
		expose("u1", "control", 0, map[string]string{"device": "mobile"}),
		expose("u2", "control", 0, map[string]string{"device": "desktop"}),
		expose("u3", "treatment", 0, map[string]string{"device": "mobile"}),
		expose("u4", "treatment", 0, nil),
		expose("u5", "treatment", 24*hour, map[string]string{"device": "desktop"}),
	}
}

func scenarioEvents() []events.Event {
	return []events.Event{
		ev("e1", "u1", "order_completed", 50, 1*hour),
		ev("e2", "u1", "order_completed", 150, 2*hour),
		ev("e3", "u1", "order_completed", 30, -48*hour), // pre-exposure (CUPED)
		ev("e4", "u1", "nps_response", 10, 1*hour),      // superseded by e5
		ev("e5", "u1", "nps_response", 3, 3*hour),       // latest: detractor
		ev("e6", "u3", "order_completed", 20, 30*time.Minute),
		ev("e7", "u3", "nps_response", 9, 1*hour),            // promoter
		ev("e8", "u4", "add_to_cart", 1, 25*hour),            // outside atc_24h's window
		ev("e9", "u4", "add_to_cart", 1, -1*hour),            // pre-exposure
		ev("e10", "u5", "order_completed", 200, 24*hour),     // exactly at exposure: counts
		ev("e11", "u9", "order_completed", 999, 1*hour),      // never exposed: raw only
		ev("e12", "u1", "order_completed", 500, -15*24*hour), // before the 14-day pre-window
	}
}

// scenarioWant is, per metric, the control and treatment statistics.
var scenarioWant = map[string][2]stats.ArmStats{
	"conversion": {
		{N: 2, Sum: 1, SumSq: 1, PreSum: 1, PreSumSq: 1, SumPrePost: 1},
		{N: 3, Sum: 2, SumSq: 2},
	},
	"revenue_per_visitor": {
		{N: 2, Sum: 200, SumSq: 40000, PreSum: 30, PreSumSq: 900, SumPrePost: 6000},
		{N: 3, Sum: 220, SumSq: 40400},
	},
	"average_order_value": {
		{N: 2, Sum: 200, SumSq: 40000, DenSum: 2, DenSumSq: 4, SumNumDen: 400, PreSum: 30, PreSumSq: 900, SumPrePost: 6000},
		{N: 3, Sum: 220, SumSq: 40400, DenSum: 2, DenSumSq: 2, SumNumDen: 220},
	},
	"orders": {
		{N: 2, Sum: 2, SumSq: 4, PreSum: 1, PreSumSq: 1, SumPrePost: 2},
		{N: 3, Sum: 2, SumSq: 2},
	},
	"revenue_capped": { // capped at 100: u1 200 -> 100, u5 200 -> 100
		{N: 2, Sum: 100, SumSq: 10000, PreSum: 30, PreSumSq: 900, SumPrePost: 3000},
		{N: 3, Sum: 120, SumSq: 10400},
	},
	"revenue_p50": { // median of [0, 0, 20, 200, 200] = 20
		{N: 2, Sum: 20, SumSq: 400, PreSum: 20, PreSumSq: 400, SumPrePost: 400},
		{N: 3, Sum: 40, SumSq: 800},
	},
	"nps": { // N = respondents: u1 detractor (latest 3), u3 promoter
		{N: 1, Sum: -1, SumSq: 1},
		{N: 1, Sum: 1, SumSq: 1},
	},
	"atc_24h": {
		{N: 2},
		{N: 3, PreSum: 1, PreSumSq: 1},
	},
}

// loadScenario writes the scenario in one of several arrival orders; the
// report must not depend on the order.
func loadScenario(t *testing.T, st outcomeStore, order string) {
	t.Helper()
	evs := scenarioEvents()
	switch order {
	case "exposures first":
		mustExpose(t, st, scenarioExposures()...)
		mustAppend(t, st, evs...)
	case "events first":
		mustAppend(t, st, evs[:6]...)
		mustAppend(t, st, evs[6:]...)
		mustExpose(t, st, scenarioExposures()...)
	case "interleaved and reversed":
		slices.Reverse(evs)
		xs := scenarioExposures()
		mustAppend(t, st, evs[:5]...)
		mustExpose(t, st, xs[:2]...)
		mustAppend(t, st, evs[5:9]...)
		mustExpose(t, st, xs[2:]...)
		mustAppend(t, st, evs[9:]...)
	default:
		t.Fatalf("unknown order %q", order)
	}
}

func TestMetricCellsMatchHandComputedStatistics(t *testing.T) {
	TestingURI(t) // skips the whole test, not each case, without a server
	for _, order := range []string{"exposures first", "events first", "interleaved and reversed"} {
		t.Run("when "+order, func(t *testing.T) {
			st, _ := newOutcomeStore(t)
			loadScenario(t, st, order)
			for metric, want := range scenarioWant {
				cells := cellsOf(t, st, "exp", metric, report.CellQuery{})
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

func TestMetricCellsSplitByExposureDay(t *testing.T) {
	st, _ := newOutcomeStore(t)
	loadScenario(t, st, "exposures first")
	cells := cellsOf(t, st, "exp", "conversion", report.CellQuery{Daily: true})
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

func TestMetricCellsBreakDownByExposureAttribute(t *testing.T) {
	st, _ := newOutcomeStore(t)
	loadScenario(t, st, "events first")
	e := getExperiment(t, st, "exp")
	t.Run("conversion by device lists units without the attribute as (none)", func(t *testing.T) {
		cells := cellsOf(t, st, "exp", "conversion", report.CellQuery{Dimension: "device"})
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
		cells := cellsOf(t, st, "exp", "revenue_p50", report.CellQuery{Dimension: "device"})
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
			_, err := st.MetricCells(context.Background(), e, getMetric(t, st, "conversion"), report.CellQuery{Dimension: dim})
			var ve *experiment.ValidationError
			if !errors.As(err, &ve) || ve.Field != "dimension" {
				t.Fatalf("dimension %q: err = %v, want a ValidationError on dimension", dim, err)
			}
		}
	})
}

func TestMetricCellsToleratesMissingRollups(t *testing.T) {
	st, _ := newOutcomeStore(t)
	for _, q := range []report.CellQuery{{}, {Dimension: "device"}} {
		cells := cellsOf(t, st, "exp", "revenue_p50", q)
		want := []report.Cell{{Variant: "control"}, {Variant: "treatment"}}
		if q.Dimension == "" && !reflect.DeepEqual(cells, want) {
			t.Errorf("no data: cells %+v, want zero cells per variant", cells)
		}
	}
	mustExpose(t, st, scenarioExposures()...)
	cells := cellsOf(t, st, "exp", "landing_ctr", report.CellQuery{})
	if cells[0].Stats != (stats.ArmStats{N: 2}) || cells[1].Stats != (stats.ArmStats{N: 3}) {
		t.Errorf("metric without rollups: %+v, want exposed units and zero sums", cells)
	}
}

func TestFunnelCountsUnitsThatCompletedEveryStepSoFar(t *testing.T) {
	st, _ := newOutcomeStore(t)
	loadScenario(t, st, "interleaved and reversed")
	e := getExperiment(t, st, "exp")
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
				steps = append(steps, getMetric(t, st, k))
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
