package journey_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/journey"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/store/sqlite"
)

// runExperiment creates, launches and (when stop) stops an experiment at
// the decision stage whose treatment adds to cart at rate[1] against
// rate[0], with 2,000 units per arm.
func runExperiment(t *testing.T, st *sqlite.Store, svc *experiment.Service, key string, rate [2]float64, stop bool, at time.Time) {
	t.Helper()
	ctx := context.Background()
	e := &experiment.Experiment{Key: key, Name: key, Stage: experiment.StageDecision, Touchpoint: "cart",
		Variants: []experiment.Variant{{Key: "control", Weight: 1}, {Key: "treatment", Weight: 1}}, GoalMetrics: []string{"add_to_cart_rate"}}
	if _, err := svc.Create(ctx, "test", e); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, "test", key, experiment.ActionLaunch); err != nil {
		t.Fatal(err)
	}
	var xs []experiment.Exposure
	var evs []events.Event
	one := 1.0
	for i := range 4000 {
		unit := fmt.Sprintf("%s-%d", key, i)
		arm := i % 2
		xs = append(xs, experiment.Exposure{Experiment: key, Unit: unit, Variant: e.Variants[arm].Key, At: at})
		// Deterministic: the first rate share of each arm's units convert.
		if float64(i/2%100) < 100*rate[arm] {
			ts := at.Add(time.Hour)
			evs = append(evs, events.Event{EventID: unit + "-atc", UnitID: unit, Event: "add_to_cart", Value: &one, TS: &ts})
		}
	}
	if _, err := st.InsertExposures(ctx, xs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendEvents(ctx, at, evs); err != nil {
		t.Fatal(err)
	}
	if stop {
		if _, err := svc.Transition(ctx, "test", key, experiment.ActionStop); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTheMapShowsVerdictsAndTheCumulativeLiftOfShippedWinners(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenFile(ctx, filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	svc := experiment.NewService(st, func() time.Time { return at })
	if err := svc.SeedBuiltinMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	runExperiment(t, st, svc, "bigger-button", [2]float64{0.10, 0.20}, true, at)
	runExperiment(t, st, svc, "free-returns-badge", [2]float64{0.10, 0.15}, true, at)
	runExperiment(t, st, svc, "sticky-cart", [2]float64{0.10, 0.10}, false, at)
	runExperiment(t, st, svc, "red-button", [2]float64{0.20, 0.10}, true, at)

	j := journey.NewService(st, st, st, func() time.Time { return at })
	m, err := j.Build(ctx, journey.Query{From: at, To: at})
	if err != nil {
		t.Fatal(err)
	}
	sv := m.Stages[experiment.StageDecision.Order()]
	verdicts := map[string]report.Verdict{}
	for _, e := range sv.Experiments {
		for _, v := range e.Verdicts {
			if v.Metric == "add_to_cart_rate" {
				verdicts[e.Key] = v.Verdict
			}
		}
	}
	want := map[string]report.Verdict{"bigger-button": report.Improves, "free-returns-badge": report.Improves, "sticky-cart": report.Inconclusive, "red-button": report.Harms}
	for k, v := range want {
		if verdicts[k] != v {
			t.Errorf("%s: verdict %q, want %q (all %v)", k, verdicts[k], v, verdicts)
		}
	}
	if len(sv.Shipped) != 1 || sv.Shipped[0].Metric != "add_to_cart_rate" || len(sv.Shipped[0].Experiments) != 2 {
		t.Fatalf("shipped %+v, want the two stopped winners on add_to_cart_rate", sv.Shipped)
	}
	l := sv.Shipped[0]
	lifts := map[string]float64{}
	for _, x := range l.Experiments {
		lifts[x.Experiment] = x.Lift
	}
	if math.Abs(lifts["bigger-button"]-1) > 1e-9 || math.Abs(lifts["free-returns-badge"]-0.5) > 1e-9 {
		t.Fatalf("measured lifts %v, want +100%% and +50%%", lifts)
	}
	if math.Abs(l.Lift-(2*1.5-1)) > 1e-9 {
		t.Fatalf("cumulative lift %v, want (1+1)(1+0.5)-1 = 2", l.Lift)
	}
}
