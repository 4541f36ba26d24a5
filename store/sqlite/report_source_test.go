package sqlite

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"journeylab/events"
	"journeylab/experiment"
	"journeylab/report"
	"journeylab/stats"
)

const hour = time.Hour

// scenarioExposures and scenarioEvents are a small hand-computed data set:
// the expected sufficient statistics below were worked out on paper.
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
func loadScenario(t *testing.T, st *Store, order string) {
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
	for _, order := range []string{"exposures first", "events first", "interleaved and reversed"} {
		t.Run("when "+order, func(t *testing.T) {
			st, _ := newOutcomeStore(t)
			loadScenario(t, st, order)
			e := getExperiment(t, st, "exp")
			for metric, want := range scenarioWant {
				cells, err := st.MetricCells(context.Background(), e, getMetric(t, st, metric), report.CellQuery{})
				if err != nil {
					t.Fatal(err)
				}
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
	cells, err := st.MetricCells(context.Background(), getExperiment(t, st, "exp"), getMetric(t, st, "conversion"), report.CellQuery{Daily: true})
	if err != nil {
		t.Fatal(err)
	}
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
		cells, err := st.MetricCells(context.Background(), e, getMetric(t, st, "conversion"), report.CellQuery{Dimension: "device"})
		if err != nil {
			t.Fatal(err)
		}
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
		m := getMetric(t, st, "revenue_p50")
		cells, err := st.MetricCells(context.Background(), e, m, report.CellQuery{Dimension: "device"})
		if err != nil {
			t.Fatal(err)
		}
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
		_, err := st.MetricCells(context.Background(), e, getMetric(t, st, "conversion"), report.CellQuery{Dimension: `device"); DROP TABLE events; --`})
		var ve *experiment.ValidationError
		if !errors.As(err, &ve) || ve.Field != "dimension" {
			t.Fatalf("err = %v, want a ValidationError on dimension", err)
		}
	})
}

func TestMetricCellsToleratesMissingRollups(t *testing.T) {
	st, _ := newOutcomeStore(t)
	e := getExperiment(t, st, "exp")
	for _, q := range []report.CellQuery{{}, {Dimension: "device"}} {
		cells, err := st.MetricCells(context.Background(), e, getMetric(t, st, "revenue_p50"), q)
		if err != nil {
			t.Fatal(err)
		}
		want := []report.Cell{{Variant: "control"}, {Variant: "treatment"}}
		if q.Dimension == "" && !reflect.DeepEqual(cells, want) {
			t.Errorf("no data: cells %+v, want zero cells per variant", cells)
		}
	}
	mustExpose(t, st, scenarioExposures()...)
	cells, err := st.MetricCells(context.Background(), e, getMetric(t, st, "landing_ctr"), report.CellQuery{})
	if err != nil {
		t.Fatal(err)
	}
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
