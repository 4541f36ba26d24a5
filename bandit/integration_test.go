package bandit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/journeylab/journeylab/bandit"
	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/store/sqlite"
)

// TestBanditOnTheSQLiteStore runs the whole loop on the real store:
// exposures and outcome events go in, the scheduler reads the goal metric
// through report.BanditSource, re-weights, and the report of the
// experiment is period-weighted over the two exposure days.
func TestBanditOnTheSQLiteStore(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	svc := experiment.NewService(st, clock)
	if err := svc.SeedBuiltinMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	x := &experiment.Experiment{
		Key: "cta", Name: "CTA", Stage: experiment.StageCheckout, Touchpoint: "checkout-page", Mode: experiment.ModeOptimise,
		Variants:    []experiment.Variant{{Key: "a", Weight: 1}, {Key: "b", Weight: 1}, {Key: "c", Weight: 1}},
		GoalMetrics: []string{"conversion"},
		Optimise:    &experiment.Optimise{Metric: "conversion", IntervalMinutes: 60},
	}
	if _, err := svc.Create(ctx, "pm", x); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, "pm", "cta", experiment.ActionLaunch); err != nil {
		t.Fatal(err)
	}

	// Day 1: 200 units per arm converting 10%, 12%, 20%. Day 2 (after the
	// re-weighting): 100 more units of c, converting 30%.
	var xs []experiment.Exposure
	var evs []events.Event
	add := func(variant string, n, converted int, at time.Time) {
		for i := range n {
			unit := fmt.Sprintf("%s-%s-%d", variant, at.Format("0102"), i)
			xs = append(xs, experiment.Exposure{Experiment: "cta", Unit: unit, Variant: variant, At: at})
			if i < converted {
				ts, v := at.Add(time.Minute), 1.0
				evs = append(evs, events.Event{EventID: "e-" + unit, UnitID: unit, Event: "order_completed", Value: &v, TS: &ts})
			}
		}
	}
	add("a", 200, 20, t0.Add(time.Minute))
	add("b", 200, 24, t0.Add(time.Minute))
	add("c", 200, 40, t0.Add(time.Minute))
	if _, err := st.InsertExposures(ctx, xs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendEvents(ctx, t0.Add(2*time.Minute), evs); err != nil {
		t.Fatal(err)
	}

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sched := bandit.NewScheduler(svc, st, report.BanditSource{Source: st}, bandit.Options{Now: clock, Log: quiet})
	now = t0.Add(time.Hour)
	done, err := sched.RunOnce(ctx)
	if err != nil || len(done) != 1 {
		t.Fatalf("re-weighted %v, err %v; want [cta]", done, err)
	}
	audit, err := svc.Audit(ctx, "cta")
	if err != nil {
		t.Fatal(err)
	}
	last := audit[len(audit)-1]
	var note bandit.Note
	if err := json.Unmarshal(last.Note, &note); err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		n    int64
		mean float64
	}{{200, 0.10}, {200, 0.12}, {200, 0.20}} {
		if a := note.Arms[i]; a.N != want.n || a.Mean != want.mean {
			t.Errorf("note arm %s: n %d mean %g, want %d and %g", a.Variant, a.N, a.Mean, want.n, want.mean)
		}
	}
	if note.Arms[2].NewWeight < 0.9 {
		t.Errorf("arm c got weight %g, want most of the traffic", note.Arms[2].NewWeight)
	}

	xs, evs = nil, nil
	day2 := t0.Add(24 * time.Hour)
	add("a", 1, 0, day2)
	add("b", 1, 0, day2)
	add("c", 98, 30, day2)
	if _, err := st.InsertExposures(ctx, xs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendEvents(ctx, day2.Add(2*time.Minute), evs); err != nil {
		t.Fatal(err)
	}
	e, err := svc.Get(ctx, "cta")
	if err != nil {
		t.Fatal(err)
	}
	metrics := map[string]experiment.Metric{}
	m, err := st.GetMetric(ctx, "conversion")
	if err != nil {
		t.Fatal(err)
	}
	metrics["conversion"] = m
	r, err := report.Build(ctx, st, e, metrics, report.Options{Now: day2.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Optimise == nil || r.Optimise.Days != 2 {
		t.Fatalf("optimise section %+v, want two exposure days", r.Optimise)
	}
	// Day shares 600/700 and 100/700. c: 6/7·0.20 + 1/7·30/98, not the pooled 70/298.
	c := r.Stages[0].KPIs[0].Arms[2]
	want := 6.0/7*0.20 + 1.0/7*30/98
	if c.Units != 298 || c.Value < want-1e-12 || c.Value > want+1e-12 {
		t.Errorf("arm c: %d units, value %.6f; want 298 units and period-weighted %.6f (pooled would be %.6f)", c.Units, c.Value, want, 70.0/298)
	}
}
