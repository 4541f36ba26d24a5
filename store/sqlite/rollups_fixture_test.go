package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"journeylab/events"
	"journeylab/experiment"
)

// t0 is the fixtures' exposure time.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// testMetrics are the custom metrics the fixtures use next to the built-ins
// (conversion, revenue_per_visitor, average_order_value, nps).
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

// newOutcomeStore opens a fresh store with the built-in and test metrics and
// a running two-arm experiment "exp" whose goal is conversion.
func newOutcomeStore(t testing.TB) (*Store, *experiment.Service) {
	t.Helper()
	ctx := context.Background()
	st, err := OpenFile(ctx, filepath.Join(t.TempDir(), "outcomes.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := experiment.NewService(st, func() time.Time { return t0 })
	if err := svc.SeedBuiltinMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range testMetrics {
		if _, err := svc.CreateMetric(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	createExperiment(t, svc, "exp", fixtureMetrics)
	return st, svc
}

func createExperiment(t testing.TB, svc *experiment.Service, key string, secondary []string) *experiment.Experiment {
	t.Helper()
	ctx := context.Background()
	e := &experiment.Experiment{
		Key: key, Name: key, Stage: experiment.StageCheckout, Touchpoint: "checkout-page",
		Variants:         []experiment.Variant{{Key: "control", Weight: 1}, {Key: "treatment", Weight: 1}},
		GoalMetrics:      []string{"conversion"},
		SecondaryMetrics: secondary,
	}
	if _, err := svc.Create(ctx, "test", e); err != nil {
		t.Fatal(err)
	}
	out, err := svc.Transition(ctx, "test", key, experiment.ActionLaunch)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func getExperiment(t testing.TB, st *Store, key string) *experiment.Experiment {
	t.Helper()
	e, err := st.GetExperiment(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func getMetric(t testing.TB, st *Store, key string) experiment.Metric {
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

func mustAppend(t testing.TB, st *Store, evs ...events.Event) []bool {
	t.Helper()
	stored, err := st.AppendEvents(context.Background(), t0, evs)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func mustExpose(t testing.TB, st *Store, xs ...experiment.Exposure) int {
	t.Helper()
	n, err := st.InsertExposures(context.Background(), xs)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// rollupRow is a stored per-unit rollup, for comparisons.
type rollupRow struct {
	Unit, Metric, Variant string
	Day                   int64
	events.Rollup
}

// totalsRow is a stored metric_totals row, for comparisons.
type totalsRow struct {
	Metric, Variant string
	Day             int64
	events.Contribution
}

// snapshot is everything the incremental path maintains for one experiment.
type snapshot struct {
	Rollups []rollupRow
	Totals  []totalsRow
	Counts  []string
}

func takeSnapshot(t testing.TB, st *Store, exp string) snapshot {
	t.Helper()
	ctx := context.Background()
	var s snapshot
	rows, err := st.r.QueryContext(ctx, `SELECT unit_id, metric, variant, day, `+rollupColumns+` FROM unit_metrics WHERE experiment = ? ORDER BY unit_id, metric`, exp)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r rollupRow
		if r.Rollup, err = scanRollup(rows.Scan, &r.Unit, &r.Metric, &r.Variant, &r.Day); err != nil {
			t.Fatal(err)
		}
		s.Rollups = append(s.Rollups, r)
	}
	rows.Close()
	rows, err = st.r.QueryContext(ctx, `SELECT metric, variant, day, n, sum, sum_sq, den_sum, den_sum_sq, sum_num_den, pre_sum, pre_sum_sq, sum_pre_post
		FROM metric_totals WHERE experiment = ? ORDER BY metric, variant, day`, exp)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r totalsRow
		c := &r.Contribution
		if err := rows.Scan(&r.Metric, &r.Variant, &r.Day, &c.N, &c.Sum, &c.SumSq, &c.DenSum, &c.DenSumSq, &c.SumNumDen, &c.PreSum, &c.PreSumSq, &c.SumPrePost); err != nil {
			t.Fatal(err)
		}
		s.Totals = append(s.Totals, r)
	}
	rows.Close()
	rows, err = st.r.QueryContext(ctx, `SELECT variant, day, n FROM exposure_counts WHERE experiment = ? ORDER BY variant, day`, exp)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v string
		var day, n int64
		if err := rows.Scan(&v, &day, &n); err != nil {
			t.Fatal(err)
		}
		s.Counts = append(s.Counts, fmt.Sprintf("%s/%d=%d", v, day, n))
	}
	rows.Close()
	return s
}

// wipeRollups deletes what the incremental path maintains, as if the
// experiment's metrics had never been attributed.
func wipeRollups(t testing.TB, st *Store, exp string) {
	t.Helper()
	for _, q := range []string{`DELETE FROM unit_metrics WHERE experiment = ?`, `DELETE FROM metric_totals WHERE experiment = ?`, `DELETE FROM exposure_counts WHERE experiment = ?`} {
		if _, err := st.w.ExecContext(context.Background(), q, exp); err != nil {
			t.Fatal(err)
		}
	}
}
