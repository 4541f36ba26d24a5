package app

import (
	"context"
	"testing"
	"time"

	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/store/storetest"
)

func TestAddingAMetricToARunningExperimentRebuildsItsHistory(t *testing.T) {
	a := testApp(t, true)
	ctx := context.Background()
	storetest.SetupOutcomes(t, a.Store)
	storetest.MustExpose(t, a.Store,
		storetest.Exposure("u1", "control", 0, nil),
		storetest.Exposure("u2", "treatment", 0, nil),
		storetest.Exposure("u3", "treatment", 0, nil))
	// add_to_cart is not a metric of "exp" yet: these events are kept raw only.
	storetest.MustAppend(t, a.Store,
		storetest.Event("e1", "u2", "add_to_cart", 1, time.Hour),
		storetest.Event("e2", "u3", "add_to_cart", 1, time.Hour),
		storetest.Event("e3", "u1", "add_to_cart", 1, -time.Hour)) // before exposure: pre-period only

	atc := func() map[string]float64 {
		got := map[string]float64{}
		for _, c := range storetest.Cells(t, a.Store, "exp", "add_to_cart_rate", report.CellQuery{}) {
			got[c.Variant] = c.Stats.Sum
		}
		return got
	}
	if got := atc(); got["treatment"] != 0 {
		t.Fatalf("before the metric is added, add_to_cart_rate = %v", got)
	}
	e, err := a.Experiment.Get(ctx, "exp")
	if err != nil {
		t.Fatal(err)
	}
	e.SecondaryMetrics = append(e.SecondaryMetrics, "add_to_cart_rate")
	if _, err := a.Experiment.Update(ctx, "pm", "exp", e); err != nil {
		t.Fatal(err)
	}
	a.rebuilds.Wait()
	if got := atc(); got["treatment"] != 2 || got["control"] != 0 {
		t.Fatalf("after adding the metric, converted units per arm = %v, want treatment 2, control 0", got)
	}
}

func TestUpdatesThatKeepTheMetricsDoNotRebuild(t *testing.T) {
	a := testApp(t, true)
	ctx := context.Background()
	storetest.SetupOutcomes(t, a.Store)
	calls := 0
	a.rebuilds.rebuild = func(context.Context, string, func(done, total int64)) error { calls++; return nil }
	e, err := a.Experiment.Get(ctx, "exp")
	if err != nil {
		t.Fatal(err)
	}
	e.Name = "renamed"
	e.SecondaryMetrics = e.SecondaryMetrics[1:] // removing a metric needs no rebuild
	if _, err := a.Experiment.Update(ctx, "pm", "exp", e); err != nil {
		t.Fatal(err)
	}
	a.rebuilds.Wait()
	if calls != 0 {
		t.Fatalf("%d rebuilds for an update that adds no metric", calls)
	}
}
