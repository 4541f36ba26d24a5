package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/stats"
)

// T0 is the outcome fixtures' exposure time.
var T0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const hour = time.Hour

// customMetrics are the custom metrics the fixtures use next to the built-ins
// (conversion, revenue_per_visitor, average_order_value, nps).
var customMetrics = []experiment.Metric{
	{Key: "revenue_capped", Stage: experiment.StageCheckout, Kind: experiment.KindMean, Direction: experiment.HigherIsBetter,
		Event: "order_completed", Aggregation: experiment.AggSum, Capping: experiment.Capping{Type: "value", Value: 100}},
	{Key: "revenue_p50", Stage: experiment.StageCheckout, Kind: experiment.KindMean, Direction: experiment.HigherIsBetter,
		Event: "order_completed", Aggregation: experiment.AggSum, Capping: experiment.Capping{Type: "percentile", Value: 0.5}},
	{Key: "atc_24h", Stage: experiment.StageDecision, Kind: experiment.KindBinomial, Direction: experiment.HigherIsBetter,
		Event: "add_to_cart", WindowHours: 24},
	{Key: "orders", Stage: experiment.StageCheckout, Kind: experiment.KindMean, Direction: experiment.HigherIsBetter,
		Event: "order_completed", Aggregation: experiment.AggCount},
}

// fixtureMetrics are the secondary metrics of the fixture experiment "exp".
var fixtureMetrics = []string{"revenue_per_visitor", "average_order_value", "nps", "revenue_capped", "revenue_p50", "atc_24h", "orders"}

// SetupOutcomes stores the built-in and test metrics and a running two-arm
// experiment "exp" (control, treatment) whose goal is conversion, and
// returns the service that wrote them, its clock stopped at T0.
func SetupOutcomes(t testing.TB, st experiment.Store) *experiment.Service {
	t.Helper()
	ctx := context.Background()
	svc := experiment.NewService(st, func() time.Time { return T0 })
	if err := svc.SeedBuiltinMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range customMetrics {
		if _, err := svc.CreateMetric(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	e := &experiment.Experiment{
		Key: "exp", Name: "exp", Stage: experiment.StageCheckout, Touchpoint: "checkout-page",
		Variants:         []experiment.Variant{{Key: "control", Weight: 1}, {Key: "treatment", Weight: 1}},
		GoalMetrics:      []string{"conversion"},
		SecondaryMetrics: fixtureMetrics,
	}
	if _, err := svc.Create(ctx, "test", e); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, "test", "exp", experiment.ActionLaunch); err != nil {
		t.Fatal(err)
	}
	return svc
}

// GetExperiment reads experiment key or fails t.
func GetExperiment(t testing.TB, st experiment.Store, key string) *experiment.Experiment {
	t.Helper()
	e, err := st.GetExperiment(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// GetMetric reads metric key or fails t.
func GetMetric(t testing.TB, st experiment.Store, key string) experiment.Metric {
	t.Helper()
	m, err := st.GetMetric(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Event builds a normalized event at T0+offset.
func Event(id, unit, name string, value float64, offset time.Duration) events.Event {
	ts := T0.Add(offset)
	return events.Event{EventID: id, UnitID: unit, Event: name, Value: &value, TS: &ts}
}

// Exposure builds an exposure of unit to variant of "exp" at T0+offset.
func Exposure(unit, variant string, offset time.Duration, attrs map[string]string) experiment.Exposure {
	return experiment.Exposure{Experiment: "exp", Unit: unit, Variant: variant, At: T0.Add(offset), Attributes: attrs}
}

// MustAppend appends evs, received at T0, or fails t.
func MustAppend(t testing.TB, st events.Store, evs ...events.Event) []bool {
	t.Helper()
	stored, err := st.AppendEvents(context.Background(), T0, evs)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

// MustExpose inserts xs or fails t, and returns how many were inserted.
func MustExpose(t testing.TB, st OutcomeBackend, xs ...experiment.Exposure) int {
	t.Helper()
	n, err := st.InsertExposures(context.Background(), xs)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Cells reads the cells of metric in experiment exp or fails t.
func Cells(t testing.TB, st OutcomeBackend, exp, metric string, q report.CellQuery) []report.Cell {
	t.Helper()
	cells, err := st.MetricCells(context.Background(), GetExperiment(t, st, exp), GetMetric(t, st, metric), q)
	if err != nil {
		t.Fatal(err)
	}
	return cells
}

// Op is one write of a workload: a batch of exposures or of events.
type Op struct {
	Exposures []experiment.Exposure
	Events    []events.Event
}

// Workload returns exposures of 100 units to "exp" and 1500 events of 120
// units in a shuffled, interleaved order, the same one for a seed. dyadic
// values (multiples of 1/4) make every float sum exact, so sums in any
// order agree to the last bit.
func Workload(seed uint64, dyadic bool) []Op {
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
			offset = 0 // exactly at T0; exercises exposure-time ties
		}
		evs = append(evs, Event(fmt.Sprintf("e%04d", rng.IntN(1400)), fmt.Sprintf("u%03d", rng.IntN(120)), name, v, offset))
	}
	var xs []experiment.Exposure
	for u := 0; u < 100; u++ {
		xs = append(xs, Exposure(fmt.Sprintf("u%03d", u), []string{"control", "treatment"}[rng.IntN(2)],
			time.Duration(rng.IntN(48))*hour, map[string]string{"device": []string{"mobile", "desktop"}[u%2]}))
	}
	var ops []Op
	for len(evs) > 0 || len(xs) > 0 {
		if len(xs) > 0 && rng.IntN(3) == 0 {
			k := min(len(xs), 1+rng.IntN(10))
			ops = append(ops, Op{Exposures: xs[:k]})
			xs = xs[k:]
			continue
		}
		k := min(len(evs), 1+rng.IntN(80))
		if k > 0 {
			ops = append(ops, Op{Events: evs[:k]})
			evs = evs[k:]
		}
	}
	return ops
}

// Apply writes ops to st in order, or fails t.
func Apply(t testing.TB, st OutcomeBackend, ops []Op) {
	t.Helper()
	for _, o := range ops {
		if o.Exposures != nil {
			MustExpose(t, st, o.Exposures...)
		} else {
			MustAppend(t, st, o.Events...)
		}
	}
}

// scenarioExposures and scenarioEvents are a small hand-computed data set:
// the expected sufficient statistics in scenarioWant were worked out on paper.
func scenarioExposures() []experiment.Exposure {
	return []experiment.Exposure{
		Exposure("u1", "control", 0, map[string]string{"device": "mobile"}),
		Exposure("u2", "control", 0, map[string]string{"device": "desktop"}),
		Exposure("u3", "treatment", 0, map[string]string{"device": "mobile"}),
		Exposure("u4", "treatment", 0, nil),
		Exposure("u5", "treatment", 24*hour, map[string]string{"device": "desktop"}),
	}
}

func scenarioEvents() []events.Event {
	return []events.Event{
		Event("e1", "u1", "order_completed", 50, 1*hour),
		Event("e2", "u1", "order_completed", 150, 2*hour),
		Event("e3", "u1", "order_completed", 30, -48*hour), // pre-exposure (CUPED)
		Event("e4", "u1", "nps_response", 10, 1*hour),      // superseded by e5
		Event("e5", "u1", "nps_response", 3, 3*hour),       // latest: detractor
		Event("e6", "u3", "order_completed", 20, 30*time.Minute),
		Event("e7", "u3", "nps_response", 9, 1*hour),            // promoter
		Event("e8", "u4", "add_to_cart", 1, 25*hour),            // outside atc_24h's window
		Event("e9", "u4", "add_to_cart", 1, -1*hour),            // pre-exposure
		Event("e10", "u5", "order_completed", 200, 24*hour),     // exactly at exposure: counts
		Event("e11", "u9", "order_completed", 999, 1*hour),      // never exposed: raw only
		Event("e12", "u1", "order_completed", 500, -15*24*hour), // before the 14-day pre-window
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
func loadScenario(t *testing.T, st OutcomeBackend, order string) {
	t.Helper()
	evs := scenarioEvents()
	switch order {
	case "exposures first":
		MustExpose(t, st, scenarioExposures()...)
		MustAppend(t, st, evs...)
	case "events first":
		MustAppend(t, st, evs[:6]...)
		MustAppend(t, st, evs[6:]...)
		MustExpose(t, st, scenarioExposures()...)
	case "interleaved and reversed":
		slices.Reverse(evs)
		xs := scenarioExposures()
		MustAppend(t, st, evs[:5]...)
		MustExpose(t, st, xs[:2]...)
		MustAppend(t, st, evs[5:9]...)
		MustExpose(t, st, xs[2:]...)
		MustAppend(t, st, evs[9:]...)
	default:
		t.Fatalf("unknown order %q", order)
	}
}
