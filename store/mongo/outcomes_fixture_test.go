package mongo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"

	"journeylab/events"
	"journeylab/experiment"
	"journeylab/report"
)

// These fixtures mirror store/sqlite's outcome tests, so that both backends
// are held to the same hand-computed numbers.

// t0 is the fixtures' exposure time.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const hour = time.Hour

// testMetrics are the custom metrics the fixtures use next to the built-ins.
var testMetrics = []experiment.Metric{
	{Key: "revenue_capped", Stage: experiment.StageCheckout, Kind: experiment.KindMean, Direction: experiment.HigherIsBetter,
		Event: "order_completed", Aggregation: experiment.AggSum, Capping: experiment.Capping{Type: "value", Value: 100}},
	{Key: "revenue_p50", Stage: experiment.StageCheckout, Kind: experiment.KindMean, Direction: experiment.HigherIsBetter,
		Event: "order_completed", Aggregation: experiment.AggSum, Capping: experiment.Capping{Type: "percentile", Value: 0.5}},
	{Key: "atc_24h", Stage: experiment.StageDecision, Kind: experiment.KindBinomial, Direction: experiment.HigherIsBetter,
		Event: "add_to_cart", WindowHours: 24},
	{Key: "orders", Stage: experiment.StageCheckout, Kind: experiment.KindMean, Direction: experiment.HigherIsBetter,
		Event: "order_completed", Aggregation: experiment.AggCount},
}

// fixtureMetrics are the metrics of the fixture experiment "exp".
var fixtureMetrics = []string{"revenue_per_visitor", "average_order_value", "nps", "revenue_capped", "revenue_p50", "atc_24h", "orders"}

// outcomeStore is what the outcome tests drive: *Store, and *sqlite.Store
// in the tests that compare the two backends.
type outcomeStore interface {
	experiment.Store
	events.Store
	report.Source
	InsertExposures(ctx context.Context, xs []experiment.Exposure) (int, error)
	ExposureVariants(ctx context.Context, experimentKey string, fn func(unit, variant string) error) error
	Rebuild(ctx context.Context, experimentKey string, progress func(done, total int64)) error
}

// setupOutcomes stores the built-in and test metrics and a running two-arm
// experiment "exp" whose goal is conversion.
func setupOutcomes(t testing.TB, st outcomeStore) *experiment.Service {
	t.Helper()
	ctx := context.Background()
	svc := experiment.NewService(st, func() time.Time { return t0 })
	if err := svc.SeedBuiltinMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range testMetrics {
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

// newOutcomeStore opens a fresh MongoDB store set up by setupOutcomes.
func newOutcomeStore(t testing.TB) (*Store, *experiment.Service) {
	t.Helper()
	st := OpenTesting(t)
	return st, setupOutcomes(t, st)
}

func getExperiment(t testing.TB, st outcomeStore, key string) *experiment.Experiment {
	t.Helper()
	e, err := st.GetExperiment(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func getMetric(t testing.TB, st outcomeStore, key string) experiment.Metric {
	t.Helper()
	m, err := st.GetMetric(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ev builds a normalized event at t0+offset.
func ev(id, unit, name string, value float64, offset time.Duration) events.Event {
	ts := t0.Add(offset)
	return events.Event{EventID: id, UnitID: unit, Event: name, Value: &value, TS: &ts}
}

func expose(unit, variant string, offset time.Duration, attrs map[string]string) experiment.Exposure {
	return experiment.Exposure{Experiment: "exp", Unit: unit, Variant: variant, At: t0.Add(offset), Attributes: attrs}
}

func mustAppend(t testing.TB, st outcomeStore, evs ...events.Event) []bool {
	t.Helper()
	stored, err := st.AppendEvents(context.Background(), t0, evs)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func mustExpose(t testing.TB, st outcomeStore, xs ...experiment.Exposure) int {
	t.Helper()
	n, err := st.InsertExposures(context.Background(), xs)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func cellsOf(t testing.TB, st outcomeStore, exp, metric string, q report.CellQuery) []report.Cell {
	t.Helper()
	cells, err := st.MetricCells(context.Background(), getExperiment(t, st, exp), getMetric(t, st, metric), q)
	if err != nil {
		t.Fatal(err)
	}
	return cells
}

func countDocs(t testing.TB, st *Store, coll string, filter bson.D) int64 {
	t.Helper()
	n, err := st.db.Collection(coll).CountDocuments(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// op is one write of a workload: a batch of exposures or of events.
type op struct {
	xs  []experiment.Exposure
	evs []events.Event
}

// randomWorkload returns exposures and events in a shuffled, interleaved
// order (the same one for a seed). dyadic values (multiples of 1/4) make
// every float sum exact, so sums in any order agree to the last bit.
func randomWorkload(seed uint64, dyadic bool) []op {
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
	var ops []op
	for len(evs) > 0 || len(xs) > 0 {
		if len(xs) > 0 && rng.IntN(3) == 0 {
			k := min(len(xs), 1+rng.IntN(10))
			ops = append(ops, op{xs: xs[:k]})
			xs = xs[k:]
			continue
		}
		k := min(len(evs), 1+rng.IntN(80))
		if k > 0 {
			ops = append(ops, op{evs: evs[:k]})
			evs = evs[k:]
		}
	}
	return ops
}

func apply(t testing.TB, st outcomeStore, ops []op) {
	t.Helper()
	for _, o := range ops {
		if o.xs != nil {
			mustExpose(t, st, o.xs...)
		} else {
			mustAppend(t, st, o.evs...)
		}
	}
}

// rollupRow is a stored per-unit rollup, for comparisons.
type rollupRow struct {
	Unit, Metric, Variant string
	Day, Seq              int64
	events.Rollup
}

// snapshot is everything the incremental path maintains for one
// experiment, and the cells the report reads from it.
type snapshot struct {
	Rollups []rollupRow
	Cells   map[string][]report.Cell
	Counts  []string
}

func takeSnapshot(t testing.TB, st *Store, exp string) snapshot {
	t.Helper()
	ctx := context.Background()
	var docs []rollupDoc
	if err := st.findAll(ctx, st.c.unitMetrics, bson.D{eq("experiment", exp)}, options.Find().SetSort(bson.D{{Key: "unit_id", Value: 1}, {Key: "metric", Value: 1}}), &docs); err != nil {
		t.Fatal(err)
	}
	s := snapshot{Cells: map[string][]report.Cell{}}
	for i := range docs {
		d := &docs[i]
		s.Rollups = append(s.Rollups, rollupRow{Unit: d.Unit, Metric: d.Metric, Variant: d.Variant, Day: d.Day, Seq: d.Seq, Rollup: d.rollup()})
	}
	e := getExperiment(t, st, exp)
	for _, k := range e.AllMetrics() {
		s.Cells[k] = cellsOf(t, st, exp, k, report.CellQuery{Daily: true})
	}
	rows, err := st.exposureGroups(ctx, exp, true, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		s.Counts = append(s.Counts, fmt.Sprintf("%s/%d=%d", r.ID.Variant, *r.ID.Day, r.N))
	}
	sort.Strings(s.Counts)
	return s
}

// wipeRollups deletes what the incremental path maintains, as if the
// experiment's metrics had never been attributed.
func wipeRollups(t testing.TB, st *Store, exp string) {
	t.Helper()
	if _, err := st.c.unitMetrics.DeleteMany(context.Background(), bson.D{eq("experiment", exp)}); err != nil {
		t.Fatal(err)
	}
}

// compareSnapshots requires identical rollups and exposure counts, and
// cells equal field by field within relative tolerance tol (0 = exactly).
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
	for metric, w := range want.Cells {
		compareCells(t, metric, w, got.Cells[metric], tol)
	}
}

// compareCells requires the same cells with statistics equal within tol.
func compareCells(t *testing.T, what string, want, got []report.Cell, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d cells, want %d:\n got %+v\nwant %+v", what, len(got), len(want), got, want)
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		same := g.Variant == w.Variant && g.Segment == w.Segment && g.Day.Equal(w.Day)
		gv, wv := reflect.ValueOf(g.Stats), reflect.ValueOf(w.Stats)
		for f := 0; f < gv.NumField() && same; f++ {
			switch a := gv.Field(f).Interface().(type) {
			case float64:
				b := wv.Field(f).Interface().(float64)
				same = a == b || math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b))
			default:
				same = a == wv.Field(f).Interface()
			}
		}
		if !same {
			t.Errorf("%s cell %d:\n got %+v\nwant %+v", what, i, g, w)
		}
	}
}
